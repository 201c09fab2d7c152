"""Quota through the HTTP API: packages, balance, ledger, alerts (Q1, Q2, Q4, Q5, Q9–Q12).

The sending endpoints come later, so charges, locks and releases are driven through the
container's quota application (as the send flow will drive them) and read back over HTTP.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.problems import STATUS_BY_CODE
from smsplat.domain.errors import InsufficientQuota, QuotaConflict
from smsplat.domain.ledger import Reference

from tests.e2e.helpers import (
    alerts,
    assert_problem,
    auth,
    balance,
    charge,
    figures,
    iso,
    ledger,
    ledger_page,
    parse_at,
)
from tests.support import Api

# The quota pool's own rules, through HTTP: charges go straight to the pool (tests/e2e/helpers
# `charge`), with no sends behind them, so the ledger check skips entries that name no send.
pytestmark = pytest.mark.pool_only_ledger

Q10_TEXT_7 = "目前账户短信数量为7,短信发送将请求失败,购买短信包后可继续使用。"
ENTRY_FIELDS = {"entry_id", "at", "kind", "units", "available_after", "reference", "product"}


@pytest.fixture(params=["api", "sqlite_api"])
def store_api(request: pytest.FixtureRequest) -> Api:
    """The same HTTP API on PostgreSQL and on SQLite: behaviour must not differ."""
    chosen: Api = request.getfixturevalue(request.param)
    return chosen


# -- Q1: package sizes -------------------------------------------------------------------


@pytest.mark.parametrize("size", [1000, 5000, 10000])
def test_Q1_each_package_size_adds_its_units(api: Api, size: int) -> None:
    account_id, key = api.new_account()
    r = api.client.post(
        f"/v1/accounts/{account_id}/purchases", json={"package_size": size}, headers=auth(key)
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["purchase_id"]
    assert body["package_size"] == size
    assert body["units"] == size
    assert figures(body["balance"]) == (size, 0, size, 0, 0)

    api.settle()
    assert figures(balance(api, account_id, key)) == (size, 0, size, 0, 0)
    [entry] = ledger(api, account_id, key)
    assert entry["kind"] == "purchase"
    assert entry["units"] == size
    assert entry["available_after"] == size
    assert entry["entry_id"] == body["entry_id"]
    assert entry["reference"] == {"type": "purchase", "id": body["purchase_id"]}


def test_Q1_purchases_add_up(api: Api) -> None:
    account_id, key = api.new_account()
    ids = {api.buy(account_id, key, size)["purchase_id"] for size in (1000, 5000, 10000)}
    assert len(ids) == 3
    api.settle()
    assert figures(balance(api, account_id)) == (16000, 0, 16000, 0, 0)
    assert [e["available_after"] for e in ledger(api, account_id)] == [1000, 6000, 16000]


INVALID_PURCHASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"package_size": 2000}, {"invalid_package"}),
    ({"package_size": 0}, {"invalid_package"}),
    ({"package_size": -1000}, {"invalid_package"}),
    ({"package_size": 999}, {"invalid_package"}),
    ({"package_size": 100000}, {"invalid_package"}),
    ({"package_size": 1000.5}, {"invalid_package", "validation_error"}),
    ({"package_size": "abc"}, {"invalid_package", "validation_error"}),
    ({"package_size": True}, {"invalid_package", "validation_error"}),
    ({"package_size": None}, {"invalid_package", "validation_error"}),
    ({}, {"invalid_package", "validation_error"}),
    ({"package_size": 1000, "discount": 50}, {"validation_error"}),
]


def test_Q1_other_sizes_are_refused_and_record_nothing(api: Api) -> None:
    """Q1: only 1,000, 5,000 and 10,000-unit packages exist."""
    account_id, key = api.new_account()
    for body, codes in INVALID_PURCHASES:
        r = api.client.post(f"/v1/accounts/{account_id}/purchases", json=body, headers=auth(key))
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] in codes, (body, r.text)
        assert_problem(r, 422, r.json()["code"])
    api.settle()
    assert ledger(api, account_id) == []
    assert figures(balance(api, account_id)) == (0, 0, 0, 0, 0)


# -- Q2: no refunds of packages ----------------------------------------------------------


def test_Q2_refund_of_a_purchase_is_refused_and_changes_nothing(api: Api) -> None:
    """Q2: a purchased package is never refunded; the request gets a clear error."""
    account_id, key = api.new_account()
    purchase_id = api.buy(account_id, key, 5000)["purchase_id"]
    api.settle()
    entries_before = ledger(api, account_id)
    balance_before = balance(api, account_id)

    for token in (key, None):
        r = api.client.post(
            f"/v1/accounts/{account_id}/purchases/{purchase_id}/refund",
            headers=auth(token) if token else auth(),
        )
        assert_problem(r, 409, "not_refundable")

    api.settle()
    assert ledger(api, account_id) == entries_before
    assert balance(api, account_id) == balance_before
    assert figures(balance_before) == (5000, 0, 5000, 0, 0)


def test_Q2_refund_of_an_unknown_purchase_is_404(api: Api) -> None:
    account_id, key = api.new_account()
    # No purchase at all yet (the account has no quota pool).
    r = api.client.post(f"/v1/accounts/{account_id}/purchases/{uuid4()}/refund", headers=auth(key))
    assert_problem(r, 404, "not_found")
    api.buy(account_id, key)
    r = api.client.post(f"/v1/accounts/{account_id}/purchases/{uuid4()}/refund", headers=auth(key))
    assert_problem(r, 404, "not_found")
    api.settle()
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase"]


# -- Q4: one pool shared by all products -------------------------------------------------


def test_Q4_charges_from_two_products_draw_one_pool(api: Api) -> None:
    """Q4: one pool per account; each charge records the product that used it."""
    account_id, key = api.new_account(product="site")
    r = api.client.post(
        f"/v1/accounts/{account_id}/products", json={"product": "mall"}, headers=auth(key)
    )
    assert r.status_code == 200, r.text
    api.buy(account_id, key, 1000)

    after = [
        charge(api, account_id, "m1", 1, "site").balance.available,
        charge(api, account_id, "m2", 2, "mall").balance.available,
        charge(api, account_id, "m3", 2, "site").balance.available,
    ]
    assert after == [999, 997, 995]

    api.settle()
    assert figures(balance(api, account_id, key)) == (995, 0, 1000, 5, 0)
    entries = ledger(api, account_id, key)
    assert [(e["kind"], e["units"], e["product"], e["available_after"]) for e in entries] == [
        ("purchase", 1000, None, 1000),
        ("charge", 1, "site", 999),
        ("charge", 2, "mall", 997),
        ("charge", 2, "site", 995),
    ]
    assert [e["reference"] for e in entries[1:]] == [
        {"type": "message", "id": "m1"},
        {"type": "message", "id": "m2"},
        {"type": "message", "id": "m3"},
    ]


# -- Q5: charge at submission, lock when scheduled ---------------------------------------


def test_Q5_lock_shows_as_locked_and_in_the_ledger(api: Api) -> None:
    """Q5: units for a scheduled send are locked when it is scheduled."""
    account_id, key = api.new_account()
    api.buy(account_id, key, 1000)
    change = api.container.quota.lock(UUID(account_id), "send-1", 100, "site", "system")
    assert change.balance.available == 900 and change.balance.locked == 100

    api.settle()
    assert figures(balance(api, account_id, key)) == (900, 100, 1000, 0, 0)
    lock = ledger(api, account_id, key)[-1]
    assert lock["kind"] == "lock"
    assert lock["units"] == 100
    assert lock["available_after"] == 900
    assert lock["locked_after"] == 100
    assert lock["reference"] == {"type": "send", "id": "send-1"}
    assert lock["product"] == "site"
    assert lock["entry_id"] == change.entry_id


def test_Q5_submitting_a_scheduled_send_charges_its_lock(api: Api) -> None:
    """Q5: at submission the lock becomes a charge, related to the send's lock."""
    account_id, key = api.new_account()
    api.buy(account_id, key, 1000)
    quota = api.container.quota
    quota.lock(UUID(account_id), "send-1", 100, "site", "system")
    change = quota.charge_lock(UUID(account_id), "send-1", 100, "site", "system")
    assert change.balance.available == 900 and change.balance.locked == 0

    api.settle()
    assert figures(balance(api, account_id)) == (900, 0, 1000, 100, 0)
    entries = ledger(api, account_id)
    assert [e["kind"] for e in entries] == ["purchase", "lock", "charge"]
    charged = entries[-1]
    assert charged["units"] == 100
    assert charged["available_after"] == 900
    assert charged["locked_after"] == 0
    assert charged["product"] == "site"
    assert charged["reference"] == {"type": "send", "id": "send-1"}
    assert charged["related"] == {"type": "send", "id": "send-1"}


def test_Q5_a_send_needing_less_than_it_locked_releases_the_rest(api: Api) -> None:
    account_id, key = api.new_account()
    api.buy(account_id, key, 1000)
    quota = api.container.quota
    quota.lock(UUID(account_id), "send-1", 100, "site", "system")
    quota.charge_lock(UUID(account_id), "send-1", 80, "site", "system")
    api.settle()
    assert figures(balance(api, account_id)) == (920, 0, 1000, 80, 0)
    tail = [(e["kind"], e["units"], e["available_after"]) for e in ledger(api, account_id)[1:]]
    assert tail == [("lock", 100, 900), ("charge", 80, 900), ("release", 20, 920)]
    # It can never charge more than it locked: that would bypass Q10.
    quota.lock(UUID(account_id), "send-2", 10, "site", "system")
    with pytest.raises(QuotaConflict):
        quota.charge_lock(UUID(account_id), "send-2", 11, "site", "system")


# -- Q9: one low-balance alert, re-armed by a purchase -----------------------------------


def test_Q9_one_low_balance_alert_until_the_next_purchase(api: Api, clock: SimulatedClock) -> None:
    """Q9: below 30 available, one alert to the verification phone; re-armed by a purchase."""
    account_id, key = api.new_account(phone="+86 137 0013 7000")
    api.buy(account_id, key, 1000)
    charge(api, account_id, "m1", 970)  # 30 left: not below 30 yet
    api.settle()
    assert alerts(api, account_id, key) == []

    clock.advance(60)
    first_at = clock.now()
    charge(api, account_id, "m2", 1)  # 29 left: the alert
    clock.advance(60)
    charge(api, account_id, "m3", 1)
    charge(api, account_id, "m4", 5)
    api.container.quota.lock(UUID(account_id), "send-1", 3, "site", "system")
    api.settle()
    [alert] = alerts(api, account_id, key)
    assert alert["kind"] == "low_balance"
    assert alert["phone"] == "13700137000"
    assert alert["available"] == 29
    assert alert["message_id"] == f"alert.{alert['alert_id']}"  # the alert SMS (Q9)
    assert parse_at(alert["at"]) == first_at
    assert alert["at"].endswith("+08:00")

    clock.advance(60)
    api.buy(account_id, key, 1000)  # 1020 available: armed again, no alert for buying
    api.settle()
    assert len(alerts(api, account_id, key)) == 1
    clock.advance(60)
    second_at = clock.now()
    charge(api, account_id, "m5", 995)  # 25 left
    charge(api, account_id, "m6", 1)
    api.settle()
    newest, oldest = alerts(api, account_id, key)
    assert oldest == alert
    assert newest["kind"] == "low_balance"
    assert newest["available"] == 25
    assert newest["phone"] == "13700137000"
    assert parse_at(newest["at"]) == second_at
    assert newest["alert_id"] != alert["alert_id"]


def test_Q9_a_lock_taking_the_balance_below_30_alerts_too(api: Api) -> None:
    account_id, key = api.new_account(phone="13600136000")
    api.buy(account_id, key, 1000)
    api.container.quota.lock(UUID(account_id), "send-1", 990, "site", "system")
    api.settle()
    [alert] = alerts(api, account_id)
    assert (alert["kind"], alert["available"], alert["phone"]) == ("low_balance", 10, "13600136000")


def test_Q9_alerts_are_per_account(api: Api) -> None:
    a_id, a_key = api.new_account(phone="13800138001")
    b_id, b_key = api.new_account(phone="13800138002")
    api.buy(a_id, a_key)
    api.buy(b_id, b_key)
    charge(api, a_id, "m1", 990)
    api.settle()
    assert [x["phone"] for x in alerts(api, a_id)] == ["13800138001"]
    assert alerts(api, b_id) == []


# -- Q10: refused whole, with the exact text ---------------------------------------------


def test_Q10_text_is_exact() -> None:
    """Q10: the refusal text, with x = the available units."""
    assert InsufficientQuota(7).detail == Q10_TEXT_7
    assert InsufficientQuota(0).detail == Q10_TEXT_7.replace("7", "0")
    assert STATUS_BY_CODE["insufficient_quota"] == 409


def test_Q10_a_charge_beyond_available_is_refused_whole(api: Api) -> None:
    """Q10: more units than available is refused whole; nothing moves."""
    account_id, key = api.new_account()
    api.buy(account_id, key, 1000)
    charge(api, account_id, "m1", 993)
    api.settle()
    entries_before = ledger(api, account_id)

    with pytest.raises(InsufficientQuota) as refused:
        charge(api, account_id, "m2", 8)
    assert refused.value.available == 7
    assert refused.value.detail == Q10_TEXT_7
    assert refused.value.code == "insufficient_quota"
    with pytest.raises(InsufficientQuota) as refused_lock:
        api.container.quota.lock(UUID(account_id), "send-1", 8, "site", "system")
    assert refused_lock.value.detail == Q10_TEXT_7

    api.settle()
    assert ledger(api, account_id) == entries_before
    assert figures(balance(api, account_id)) == (7, 0, 1000, 993, 0)
    assert api.container.quota.balance(UUID(account_id)).available == 7

    # Exactly what is available can still be used.
    assert charge(api, account_id, "m3", 7).balance.available == 0


def test_Q10_refusal_reaches_the_client_as_problem_json(api: Api) -> None:
    """Q10: the refusal maps to 409 ``insufficient_quota`` with ``detail`` the exact text."""
    app = api.client.app
    assert isinstance(app, FastAPI)
    quota = api.container.quota

    def probe(account_id: UUID, units: int) -> dict[str, int]:
        """A stand-in for the sending endpoints: one charge through the real error handlers."""
        change = quota.charge(account_id, Reference("message", "probe"), units, "site", "test")
        return {"available": change.balance.available}

    app.add_api_route("/_test/q10/{account_id}", probe, methods=["POST"])
    account_id, key = api.new_account()
    api.buy(account_id, key, 1000)
    charge(api, account_id, "m1", 993)
    r = api.client.post(f"/_test/q10/{account_id}", params={"units": 8})
    body = assert_problem(r, 409, "insufficient_quota")
    assert body["detail"] == Q10_TEXT_7
    assert Q10_TEXT_7.encode() in r.content  # not \u-escaped
    api.settle()
    assert figures(balance(api, account_id)) == (7, 0, 1000, 993, 0)


# -- Q11: a cancelled send's lock comes back ---------------------------------------------


def test_Q11_release_returns_the_locked_units(api: Api) -> None:
    """Q11: cancelling a scheduled send before submission returns its locked units."""
    account_id, key = api.new_account()
    api.buy(account_id, key, 1000)
    quota = api.container.quota
    quota.lock(UUID(account_id), "send-1", 100, "site", "system")
    change = quota.release(UUID(account_id), "send-1", f"account:{account_id}")
    assert change.balance.available == 1000
    assert change.balance.locked == 0

    api.settle()
    assert figures(balance(api, account_id, key)) == (1000, 0, 1000, 0, 0)
    released = ledger(api, account_id, key)[-1]
    assert released["kind"] == "release"
    assert released["units"] == 100
    assert released["available_after"] == 1000
    assert released["reference"] == {"type": "send", "id": "send-1"}
    assert released["actor"] == f"account:{account_id}"

    # A lock comes back once only; an unknown lock is refused.
    for send_id in ("send-1", "send-unknown"):
        with pytest.raises(QuotaConflict):
            quota.release(UUID(account_id), send_id, "system")
    api.settle()
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "lock", "release"]
    assert figures(balance(api, account_id)) == (1000, 0, 1000, 0, 0)


# -- Q12: the ledger, the balance at any past instant ------------------------------------


@dataclass
class History:
    account_id: str
    key: str
    # (instant of the entry, kind, figures right after it)
    steps: list[tuple[datetime, str, tuple[int, int, int, int, int]]]


def make_history(api: Api, clock: SimulatedClock) -> History:
    """Eight entries of every kind, one simulated minute apart."""
    account_id, key = api.new_account()
    uid = UUID(account_id)
    quota = api.container.quota
    actions: list[tuple[str, tuple[int, int, int, int, int], Any]] = [
        ("purchase", (1000, 0, 1000, 0, 0), lambda: api.buy(account_id, key, 1000)),
        ("charge", (995, 0, 1000, 5, 0), lambda: charge(api, account_id, "m1", 5)),
        ("lock", (895, 100, 1000, 5, 0), lambda: quota.lock(uid, "s1", 100, "mall", "system")),
        ("charge", (895, 0, 1000, 105, 0), lambda: quota.charge_lock(uid, "s1", 100, "mall", "x")),
        (
            "refund",
            (897, 0, 1000, 105, 2),
            lambda: quota.refund(
                uid, Reference("message", "m1"), Reference("message", "m1"), 2, "site", "system"
            ),
        ),
        ("purchase", (5897, 0, 6000, 105, 2), lambda: api.buy(account_id, key, 5000)),
        ("lock", (5847, 50, 6000, 105, 2), lambda: quota.lock(uid, "s2", 50, "edu", "system")),
        ("release", (5897, 0, 6000, 105, 2), lambda: quota.release(uid, "s2", "system")),
    ]
    steps = []
    for kind, expected, act in actions:
        clock.advance(60)
        act()
        steps.append((clock.now(), kind, expected))
    api.settle()
    return History(account_id, key, steps)


def test_Q12_balance_as_of_reproduces_every_past_instant(
    store_api: Api, clock: SimulatedClock
) -> None:
    """Q12: the balance at any past instant is reproduced exactly (PostgreSQL and SQLite)."""
    api = store_api
    h = make_history(api, clock)
    first = h.steps[0][0]
    assert figures(balance(api, h.account_id, as_of=iso(first - timedelta(seconds=30)))) == (
        0,
        0,
        0,
        0,
        0,
    )
    previous: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    for at, kind, expected in h.steps:
        for instant in (at, at + timedelta(seconds=30), at + timedelta(seconds=59)):
            got = balance(api, h.account_id, h.key, as_of=iso(instant))
            assert figures(got) == expected, (kind, instant)
            assert parse_at(got["as_of"]) == instant
        # One microsecond before the entry, the previous figures still hold.
        just_before = iso(at - timedelta(microseconds=1))
        assert figures(balance(api, h.account_id, as_of=just_before)) == previous, kind
        previous = expected
    last = h.steps[-1][2]
    assert figures(balance(api, h.account_id, as_of=iso(first + timedelta(days=1)))) == last
    assert figures(balance(api, h.account_id)) == last

    # The ledger has the same story, oldest first, with every contract field.
    entries = ledger(api, h.account_id, h.key)
    assert [e["kind"] for e in entries] == [kind for _, kind, _ in h.steps]
    assert [parse_at(e["at"]) for e in entries] == [at for at, _, _ in h.steps]
    assert [e["available_after"] for e in entries] == [exp[0] for _, _, exp in h.steps]
    assert [e["locked_after"] for e in entries] == [exp[1] for _, _, exp in h.steps]
    for e in entries:
        assert e.keys() >= ENTRY_FIELDS
        assert e["at"].endswith("+08:00")
    assert len({e["entry_id"] for e in entries}) == len(entries)


def test_Q12_as_of_is_the_same_instant_in_any_offset(api: Api, clock: SimulatedClock) -> None:
    h = make_history(api, clock)
    at = h.steps[2][0] + timedelta(seconds=10)
    beijing = balance(api, h.account_id, as_of=iso(at))
    utc = balance(api, h.account_id, as_of=at.isoformat())
    zulu = balance(api, h.account_id, as_of=at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    naive_beijing = balance(api, h.account_id, as_of=iso(at)[: -len("+08:00")])
    assert figures(beijing) == figures(utc) == figures(zulu) == figures(naive_beijing)
    assert figures(utc) == h.steps[2][2]
    # An unencoded "+" arrives as a space; the offset is still understood.
    r = api.client.get(f"/v1/accounts/{h.account_id}/balance?as_of={iso(at)}", headers=auth())
    assert r.status_code == 200, r.text
    assert figures(r.json()) == h.steps[2][2]


def test_Q12_ledger_entries_say_what_when_why_which_product_and_who(
    api: Api, clock: SimulatedClock
) -> None:
    """Q12: what, when, why (reference), which product, by whom; entries never change."""
    h = make_history(api, clock)
    entries = ledger(api, h.account_id)
    purchase, charged, lock, from_lock, refund = entries[:5]
    assert purchase["actor"] == f"account:{h.account_id}"
    assert purchase["product"] is None
    assert purchase["reference"]["type"] == "purchase"
    assert (charged["product"], charged["actor"]) == ("site", "system")
    assert charged["reference"] == {"type": "message", "id": "m1"}
    assert lock["product"] == "mall"
    assert from_lock["related"] == {"type": "send", "id": "s1"}
    assert refund["related"] == {"type": "message", "id": "m1"}
    assert refund["units"] == 2
    sequences = [e["sequence"] for e in entries]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)

    # More history does not change what was recorded.
    clock.advance(60)
    charge(api, h.account_id, "m9", 1)
    api.settle()
    assert ledger(api, h.account_id)[: len(entries)] == entries


def test_Q12_ledger_filters_by_time_and_kind(store_api: Api, clock: SimulatedClock) -> None:
    api = store_api
    h = make_history(api, clock)
    t = [at for at, _, _ in h.steps]

    def kinds(**params: Any) -> list[str]:
        return [e["kind"] for e in ledger_page(api, h.account_id, **params)["items"]]

    def times(**params: Any) -> list[datetime]:
        return [parse_at(e["at"]) for e in ledger_page(api, h.account_id, **params)["items"]]

    # `from` is inclusive, `to` exclusive.
    assert times(**{"from": iso(t[1]), "to": iso(t[3])}) == [t[1], t[2]]
    assert times(**{"from": iso(t[6])}) == [t[6], t[7]]
    assert times(to=iso(t[1])) == [t[0]]
    assert times(**{"from": iso(t[7] + timedelta(seconds=1))}) == []
    assert kinds(kind="charge") == ["charge", "charge"]
    assert kinds(kind="purchase,refund") == ["purchase", "refund", "purchase"]
    assert kinds(kind=["lock", "release"]) == ["lock", "lock", "release"]
    assert kinds(kind=["purchase", "charge,release"]) == [
        "purchase",
        "charge",
        "charge",
        "purchase",
        "release",
    ]
    assert times(kind="lock", **{"from": iso(t[3])}) == [t[6]]


def test_Q12_bad_ledger_or_balance_parameters_are_422(api: Api) -> None:
    account_id, key = api.new_account()
    for params in [
        {"from": "yesterday"},
        {"to": "2026-13-45T00:00:00+08:00"},
        {"kind": "gift"},
        {"kind": "charge,gift"},
        {"limit": "0"},
        {"limit": "1001"},
        {"cursor": "-1"},
        {"cursor": "abc"},
    ]:
        r = api.client.get(f"/v1/accounts/{account_id}/ledger", params=params, headers=auth(key))
        assert_problem(r, 422, "validation_error")
    for as_of in ["not-a-time", "2026-02-30T10:00:00+08:00", "12:00"]:
        r = api.client.get(
            f"/v1/accounts/{account_id}/balance", params={"as_of": as_of}, headers=auth(key)
        )
        body = assert_problem(r, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["as_of"], as_of


def test_Q12_pagination_walks_every_entry_exactly_once(
    store_api: Api, clock: SimulatedClock
) -> None:
    api = store_api
    h = make_history(api, clock)
    everything = [e["entry_id"] for e in ledger(api, h.account_id)]
    assert len(everything) == 8

    for limit in (1, 3, 8):
        seen: list[str] = []
        pages = 0
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = ledger_page(api, h.account_id, h.key, **params)
            pages += 1
            assert 0 < len(page["items"]) <= limit
            seen += [e["entry_id"] for e in page["items"]]
            if page["next_cursor"] is None:
                break
            params = {"limit": limit, "cursor": page["next_cursor"]}
            assert pages < 20
        assert seen == everything, limit
        assert pages == -(-8 // limit)

    # Pages of a filtered ledger walk only the matching entries.
    seen = []
    params = {"limit": 2, "kind": "purchase,charge"}
    while True:
        page = ledger_page(api, h.account_id, **params)
        seen += [e["kind"] for e in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {**params, "cursor": page["next_cursor"]}
    assert seen == ["purchase", "charge", "charge", "purchase"]


def test_Q12_ledger_as_csv_has_the_same_rows(api: Api, clock: SimulatedClock) -> None:
    h = make_history(api, clock)
    as_json = ledger(api, h.account_id)
    r = api.client.get(
        f"/v1/accounts/{h.account_id}/ledger",
        headers={**auth(h.key), "Accept": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    header = lines[0].split(",")
    assert {"entry_id", "at", "kind", "units", "available_after", "product"} <= set(header)
    assert {"reference_type", "reference_id"} <= set(header)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(as_json) == 8
    for row, entry in zip(rows, as_json, strict=True):
        assert row["entry_id"] == entry["entry_id"]
        assert parse_at(row["at"]) == parse_at(entry["at"])
        assert row["kind"] == entry["kind"]
        assert int(row["units"]) == entry["units"]
        assert int(row["available_after"]) == entry["available_after"]
        assert (row["product"] or None) == entry["product"]
        assert row["reference_type"] == entry["reference"]["type"]
        assert row["reference_id"] == entry["reference"]["id"]

    # Filters and pages apply to CSV alike.
    r = api.client.get(
        f"/v1/accounts/{h.account_id}/ledger",
        params={"kind": "charge", "limit": 1},
        headers={**auth(), "Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    page = ledger_page(api, h.account_id, kind="charge", limit=1)
    assert [row["entry_id"] for row in rows] == [e["entry_id"] for e in page["items"]]
    assert r.headers.get("x-next-cursor") == str(page["next_cursor"])


def test_Q12_purchase_entry_time_follows_the_simulated_clock(
    store_api: Api, clock: SimulatedClock
) -> None:
    """Q12 (both stores): a purchase is recorded at the service's now, which the clock moves."""
    api = store_api
    account_id, key = api.new_account()
    r = api.client.post("/v1/sim/clock", json={"advance_seconds": 3600}, headers=auth())
    assert r.status_code == 200, r.text
    bought = api.buy(account_id, key, 10000)
    api.settle()
    [entry] = ledger(api, account_id, key)
    assert parse_at(entry["at"]) == clock.now() == parse_at(r.json()["now"])
    assert entry["reference"]["id"] == bought["purchase_id"]
    assert figures(balance(api, account_id, as_of=iso(clock.now()))) == (10000, 0, 10000, 0, 0)
    before = iso(clock.now() - timedelta(seconds=1))
    assert figures(balance(api, account_id, as_of=before)) == (0, 0, 0, 0, 0)
