"""The simulated clock steps through time (S6, S8, S10, Q5, Q7, Q8).

``POST /v1/sim/clock`` processes everything due within a jump in time order, each at its own
instant: a marketing send reviewed at 20:29 is handed over at 20:29 and settled at 20:29:03
even when one call jumps a whole day. Ledger entries and message histories carry those
instants, not the jump's end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from smsplat.projections.ledger_audit import audit_ledger

from tests.e2e.helpers import auth, ledger
from tests.e2e.sending_helpers import (
    FAILS,
    ORDINARY,
    SILENT,
    advance,
    funded_account,
    get_message,
    get_send,
    mass_template,
    send_ok,
)
from tests.support import Api

BEIJING = ZoneInfo("Asia/Shanghai")


def set_clock(api: Api, when: datetime) -> None:
    r = api.client.post("/v1/sim/clock", json={"now": when.isoformat()}, headers=auth())
    assert r.status_code == 200, r.text


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def entries_for(api: Api, account: str, send_id: str) -> list[tuple[str, datetime, str]]:
    """(kind, at, reference id) of the ledger entries about ``send_id`` or its messages."""
    return [
        (e["kind"], t(e["at"]), e["reference"]["id"])
        for e in ledger(api, account)
        if e["reference"]["id"].startswith(send_id)
    ]


def test_S6_S8_Q7_one_jump_of_a_day_does_each_thing_at_its_own_instant(api: Api) -> None:
    monday = datetime(2026, 3, 2, tzinfo=BEIJING)
    set_clock(api, monday.replace(hour=19, minute=59))
    account, key = funded_account(api)
    marketing = mass_template(api, account, key, kind="marketing")
    notice = mass_template(api, account, key)
    evening: dict[str, Any] = send_ok(api, account, key, {
        "template_id": marketing, "recipients": [ORDINARY[0], FAILS]})  # fmt: skip
    advance(api, 120)  # 20:01: the next marketing send waits for the morning (S8)
    morning: dict[str, Any] = send_ok(api, account, key, {
        "template_id": marketing, "recipients": [ORDINARY[1]]})  # fmt: skip
    scheduled: dict[str, Any] = send_ok(api, account, key, {
        "template_id": notice, "recipients": [ORDINARY[2], FAILS, SILENT],
        "scheduled_at": monday.replace(hour=23).isoformat()})  # fmt: skip

    end = advance(api, 86_400)  # one call: Monday 20:01 to Tuesday 20:01
    assert t(end) == monday.replace(hour=20, minute=1) + timedelta(days=1)
    api.settle()

    reviewed = monday.replace(hour=20, minute=29)
    ten_pm = monday.replace(hour=23)
    half_nine = monday.replace(hour=9, minute=30) + timedelta(days=1)
    # send: (when it goes out, [(phone, status, seconds after that it settles)])
    expected: dict[str, tuple[datetime, list[tuple[str, str, int | None]]]] = {
        evening["send_id"]: (reviewed, [(ORDINARY[0], "success", 3), (FAILS, "failed", 5)]),
        scheduled["send_id"]: (
            ten_pm,
            [(ORDINARY[2], "success", 3), (FAILS, "failed", 5), (SILENT, "sending", None)],
        ),
        morning["send_id"]: (half_nine, [(ORDINARY[1], "success", 3)]),
    }
    for send_id, (out_at, messages) in expected.items():
        send = get_send(api, send_id)
        assert t(send["goes_out_at"]) == out_at, send
        kinds = entries_for(api, account, send_id)
        charge = [(at, ref) for kind, at, ref in kinds if kind == "charge"]
        assert charge == [(out_at, send_id)], kinds  # the lock became the charge at its time
        for index, (phone, status, settles_after) in enumerate(messages):
            mid = f"{send_id}.{index}"
            message = get_message(api, mid)
            assert (message["phone"], message["status"]) == (phone, status)
            assert t(message["submitted_at"]) == out_at, message
            if settles_after is None:
                assert message["final_at"] is None
                continue
            settled = out_at + timedelta(seconds=settles_after)
            assert t(message["final_at"]) == settled, message
            assert [t(step["at"]) for step in message["history"]] == [
                t(message["history"][0]["at"]), out_at, settled]  # fmt: skip
            refunds = [at for kind, at, ref in kinds if kind == "refund" and ref == mid]
            assert refunds == ([settled] if status == "failed" else []), kinds
    report = audit_ledger(api.container.quota, api.container.ledger)
    assert report.ok, report.problems


def test_Q8_one_jump_of_three_days_makes_the_silent_message_unknown_at_72_hours(
    api: Api,
) -> None:
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    sent = send_ok(api, account, key, {"template_id": notice, "recipients": [SILENT]})
    handed_at = api.container.clock.now()
    advance(api, 4 * 86_400)
    api.settle()
    message = get_message(api, f"{sent['send_id']}.0")
    assert message["status"] == "unknown"
    assert t(message["final_at"]) == handed_at + timedelta(hours=72)
