"""A long random quota history, driven through the quota application as sending will drive it."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

from smsplat.adapters.clock import SimulatedClock
from smsplat.domain.errors import InsufficientQuota
from smsplat.domain.ledger import Reference
from smsplat.infra.bootstrap import Container

PRODUCTS = ["site", "mall", "miniapp", None]


def random_history(c: Container, clock: SimulatedClock, commands: int, seed: int) -> list[UUID]:
    """Run ``commands`` random quota commands over a few accounts; returns the accounts."""
    rng = random.Random(seed)
    accounts = []
    for i in range(3):
        new = c.accounts.create_account(f"shop {i}", f"1380013{8000 + i:04d}", "operator")
        c.accounts.activate_product(new.account_id, "site", "operator")
        accounts.append(new.account_id)
    locks: dict[UUID, list[str]] = {a: [] for a in accounts}
    charges: dict[UUID, list[tuple[str, int]]] = {a: [] for a in accounts}
    for n in range(commands):
        clock.advance(rng.uniform(0, 600))
        account = rng.choice(accounts)
        product = rng.choice(PRODUCTS)
        roll = rng.random()
        try:
            if roll < 0.06:
                c.quota.purchase(account, rng.choice([1000, 5000]), f"p{n}", "operator")
            elif roll < 0.55:
                units = rng.choice([1, 1, 2, 50, 400])
                c.quota.charge(account, Reference("message", f"m{n}"), units, product, "system")
                charges[account].append((f"m{n}", units))
            elif roll < 0.7:
                c.quota.lock(account, f"s{n}", rng.randint(1, 300), product, "system")
                locks[account].append(f"s{n}")
            elif roll < 0.8 and locks[account]:
                send = locks[account].pop(rng.randrange(len(locks[account])))
                held = c.quota._pool_or_none(account).locks[send]  # type: ignore[union-attr]
                c.quota.charge_lock(account, send, rng.randint(1, held), product, "system")
            elif roll < 0.88 and locks[account]:
                send = locks[account].pop(rng.randrange(len(locks[account])))
                c.quota.release(account, send, "system")
            elif roll < 0.97 and charges[account]:
                message, units = charges[account].pop(rng.randrange(len(charges[account])))
                c.quota.refund(
                    account,
                    Reference("refund", message),
                    Reference("message", message),
                    units,
                    product,
                    "system",
                )
            else:
                c.quota.charge(account, Reference("message", f"big{n}"), 10**7, product, "system")
        except InsufficientQuota:
            pass
    return accounts


def dump_read_models(c: Container) -> dict[str, list[tuple[object, ...]]]:
    """Every read-model row, in a stable order, for comparisons."""
    tables = {
        "quota_ledger": "SELECT * FROM quota_ledger ORDER BY entry_id",
        "quota_balances": "SELECT * FROM quota_balances ORDER BY pool_id",
        "account_alerts": "SELECT * FROM account_alerts ORDER BY alert_id",
        "template_list": "SELECT * FROM template_list ORDER BY template_id",
        "account_directory": "SELECT * FROM account_directory ORDER BY account_id",
        "message_daily": "SELECT * FROM message_daily ORDER BY account_id, day, template_id",
        "sends": "SELECT * FROM sends ORDER BY send_id",
        "messages": "SELECT * FROM messages ORDER BY message_id",
        "message_counts": "SELECT * FROM message_counts ORDER BY status, reason, product",
        "receipt_latency": "SELECT * FROM receipt_latency ORDER BY bucket",
        "quota_unit_totals": "SELECT * FROM quota_unit_totals ORDER BY kind, product",
    }
    with c.db.reading() as tx:
        return {name: tx.execute(sql) for name, sql in tables.items()}


def funded_account(c: Container, size: int = 1000) -> UUID:
    new = c.accounts.create_account("race", "13800138000", "operator")
    c.accounts.activate_product(new.account_id, "site", "operator")
    c.quota.purchase(new.account_id, size, "p1", "operator")
    return new.account_id


def charge_until_refused(c: Container, account: UUID, tag: str, units: int) -> int:
    """Charge ``units`` at a time until refused; returns the units this caller got."""
    got = 0
    n = 0
    while True:
        try:
            c.quota.charge(account, Reference("message", f"{tag}-{n}"), units, "site", tag)
        except InsufficientQuota:
            return got
        got += units
        n += 1


def process_worker(url: str, account: str, tag: str, gate: Any, queue: Any) -> None:
    """One racing process: build its own container, wait for the start gate, charge."""
    from tests.conftest import make_container

    # small pools: five containers on one server stay well below its 100 connections
    c = make_container(url, SimulatedClock(), postgres_pool_size=2)
    try:
        queue.put(("ready", tag))
        gate.wait(60)
        queue.put(("got", charge_until_refused(c, UUID(account), tag, units=2)))
    finally:
        c.close()


def build_and_close(url: str) -> None:
    """Start the whole wiring once (tables included) and stop: for start-up races."""
    from tests.conftest import make_container

    make_container(url, SimulatedClock()).close()


MASS_TEXTS = [
    "本店新品上市，欢迎选购#name#",
    "双十一全场五折，详询加QQ",  # refused by the pre-screen
    "您好#content#",  # refused: no clear subject
    "会员日到店有礼，#name#您好，欢迎光临。",
    "周末亲子游戏活动开始啦",  # flagged for the reviewer
]


def random_template_history(c: Container, clock: SimulatedClock, commands: int, seed: int) -> None:
    """Random submissions, decisions, edits and deletions over two accounts (T1–T11)."""
    from smsplat.domain.errors import DomainError

    rng = random.Random(seed)
    owners = []
    for i in range(2):
        new = c.accounts.create_account(f"tpl {i}", "13800138000", "operator")
        owners.append(new.account_id)
    ids: list[tuple[UUID, UUID]] = []
    for n in range(commands):
        clock.advance(rng.uniform(0, 5400))
        roll = rng.random()
        try:
            if roll < 0.35 or not ids:
                owner = rng.choice(owners)
                fields: dict[str, object] = (
                    {"type": "mass", "kind": rng.choice(["marketing", "notice", "custom"]),
                     "signature": "花店", "content": rng.choice(MASS_TEXTS)}
                    if rng.random() < 0.7
                    else {"type": "business", "scenario": rng.choice(["register", "form"]),
                          "signature": f"店{n % 7}"}
                )  # fmt: skip
                ids.append((c.templates.submit(owner, fields, "account").id, owner))
                continue
            template_id, owner = rng.choice(ids)
            if roll < 0.55:
                c.templates.approve(template_id, "operator")
            elif roll < 0.7:
                c.templates.reject(template_id, f"reason {n}", "operator")
            elif roll < 0.85:
                c.templates.resubmit(template_id, owner, "花店", rng.choice(MASS_TEXTS), "account")
            else:
                c.templates.delete(template_id, owner, "account")
        except DomainError:
            pass  # a decision on a template in the wrong state: refused, nothing stored
