"""Ledger verification for finance: replay the quota events and check every figure and message.

Checks, per account: sequences without gaps; after every entry the figures obey
available = purchased - charged + refunded - locked with nothing negative; the after-values
stored in each event equal the replayed ones; no charge is refunded beyond its units; the read
model (balances) equals the replay. Per send and per message (``send_audit.py``): every
message's final state matched against the entries that name it. And the sends read model's
counts equal the events' (when given).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import Application

from ..domain.ledger import Balance, EntryKind
from ..domain.quota import QuotaPool, entry_from_event
from .quota_ledger import QuotaLedgerQueries
from .send_audit import SendAudit
from .send_queries import SendQueries

PAGE = 1000


@dataclass
class AuditReport:
    accounts: int = 0
    entries: int = 0
    sends: int = 0
    messages: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _PoolReplay:
    account_id: str
    balance: Balance = field(default_factory=Balance)
    version: int = 1
    entries: int = 0
    refunded_by_charge: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    charged_by_reference: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def audit_ledger(
    quota: Application[UUID],
    ledger: QuotaLedgerQueries,
    sends: SendQueries | None = None,
    *,
    pool_only: bool = False,
) -> AuditReport:
    """Check everything (see the module's docstring). ``pool_only``: entries written straight
    to a pool by tests of the pool's own rules name no send; do not report those."""
    report = AuditReport()
    pools: dict[str, _PoolReplay] = {}
    send_audit = SendAudit()
    start = 0
    while True:
        notifications = quota.recorder.select_notifications(
            start=start, limit=PAGE, inclusive_of_start=False
        )
        if not notifications:
            break
        start = notifications[-1].id
        for n in notifications:
            event = quota.mapper.to_domain_event(n)
            _check(event, pools, report, send_audit)
            send_audit.on_event(event)
    for replay in pools.values():
        report.accounts += 1
        stored = ledger.balance(replay.account_id)
        if stored != replay.balance:
            report.problems.append(
                f"account {replay.account_id}: read model {stored} != events {replay.balance}"
            )
    report.problems += send_audit.problems(include_unexplained=not pool_only)
    report.sends = len(send_audit.sends)
    report.messages = sum(fold.total for fold in send_audit.sends.values())
    if sends is not None:
        report.problems += _read_model_problems(send_audit, sends)
    return report


def _read_model_problems(audit: SendAudit, sends: SendQueries) -> list[str]:
    found = []
    for send_id, fold in audit.sends.items():
        row = sends.send(send_id)
        if row is None:
            found.append(f"send {send_id}: missing from the sends read model")
        elif row.counts != fold.counts():
            found.append(f"send {send_id}: read model counts {row.counts} != {fold.counts()}")
    return found


def _check(
    event: object, pools: dict[str, _PoolReplay], report: AuditReport, send_audit: SendAudit
) -> None:
    if isinstance(event, QuotaPool.Opened):
        pools[str(event.originator_id)] = _PoolReplay(event.account_id)
        return
    if not isinstance(event, QuotaPool.Event):
        return
    replay = pools[str(event.originator_id)]
    where = f"account {replay.account_id} #{event.originator_version}"
    if event.originator_version != replay.version + 1:
        report.problems.append(f"{where}: sequence gap after #{replay.version}")
    replay.version = event.originator_version
    if not isinstance(event, QuotaPool.EntryRecorded):
        return
    entry = entry_from_event(event, replay.account_id)
    send_audit.on_entry(entry, where)
    replay.balance = replay.balance.after(entry.kind, entry.units, entry.from_lock)
    replay.entries += 1
    report.entries += 1
    if not replay.balance.is_consistent():
        report.problems.append(f"{where}: inconsistent figures {replay.balance}")
    if (entry.available_after, entry.locked_after) != (
        replay.balance.available,
        replay.balance.locked,
    ):
        report.problems.append(f"{where}: stored after-values differ from the replay")
    if entry.kind is EntryKind.CHARGE:
        replay.charged_by_reference[str(entry.reference)] += entry.units
    if entry.kind is EntryKind.REFUND:
        charge = str(entry.related)
        replay.refunded_by_charge[charge] += entry.units
        if replay.refunded_by_charge[charge] > replay.charged_by_reference.get(charge, 0):
            report.problems.append(f"{where}: refunds exceed the charge {charge}")
