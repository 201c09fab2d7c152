"""Scheduled sends (S6, S7, Q5, Q11) and the provider's review of marketing (S8), through the
HTTP API on the simulated clock. The clock starts on Monday 2026-03-02 at 09:00 Beijing time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.helpers import assert_problem, auth, balance, figures, ledger
from tests.e2e.sending_helpers import (
    ORDINARY,
    advance,
    funded_account,
    get_send,
    list_sends,
    mass_template,
    post_send,
    send_ok,
)
from tests.e2e.template_helpers import delete
from tests.support import OPERATOR_TOKEN, Api

BEIJING = ZoneInfo("Asia/Shanghai")


def now(api: Api) -> datetime:
    instant: datetime = api.container.clock.now()
    return instant.astimezone(BEIJING)


def set_clock(api: Api, when: datetime) -> None:
    r = api.client.post("/v1/sim/clock", json={"now": when.isoformat()}, headers=auth())
    assert r.status_code == 200, r.text


def at(api: Api, hours: float = 0, minutes: float = 0) -> str:
    return (now(api) + timedelta(hours=hours, minutes=minutes)).isoformat()


def schedule(
    api: Api, account: str, key: str, template: str, when: str, numbers: list[str] | None = None
) -> dict[str, Any]:
    body = {"template_id": template, "recipients": numbers or ORDINARY[:3], "scheduled_at": when}
    sent: dict[str, Any] = send_ok(api, account, key, body)
    return sent


def cancel(api: Api, send_id: str, key: str) -> httpx.Response:
    r: httpx.Response = api.client.post(f"/v1/sends/{send_id}/cancel", headers=auth(key))
    return r


def reschedule(api: Api, send_id: str, key: str, when: str) -> httpx.Response:
    r: httpx.Response = api.client.patch(
        f"/v1/sends/{send_id}", json={"scheduled_at": when}, headers=auth(key)
    )
    return r


def upcoming(api: Api, account: str) -> dict[str, Any]:
    api.settle()
    r = api.client.get(f"/v1/accounts/{account}/sends/upcoming", headers=auth())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def units(api: Api, account: str) -> tuple[int, int]:
    """(available, locked) once the read models are current."""
    api.settle()
    available, locked = figures(balance(api, account))[:2]
    return available, locked


def kinds(api: Api, account: str) -> list[str]:
    api.settle()
    return [e["kind"] for e in ledger(api, account)]


def test_S6_Q5_a_scheduled_send_locks_its_units_and_is_charged_at_its_time(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)
    sent = schedule(api, account, key, template, at(api, hours=2))
    assert sent["status"] == "scheduled" and sent["units"] == 3
    assert sent["goes_out_at"] == sent["scheduled_at"]
    api.settle()
    assert units(api, account) == (997, 3)  # available, locked
    assert kinds(api, account) == ["purchase", "lock"]
    shown = get_send(api, sent["send_id"])
    assert (shown["status"], shown["units_locked"], shown["units_charged"]) == ("scheduled", 3, 0)
    waiting = upcoming(api, account)
    assert [s["send_id"] for s in waiting["items"]] == [sent["send_id"]]
    assert waiting["units_locked"] == 3
    assert [s["send_id"] for s in list_sends(api, account, status="scheduled")] == [sent["send_id"]]

    advance(api, 2 * 3600 - 60)  # a minute before its time: still waiting, still locked
    assert get_send(api, sent["send_id"])["status"] == "scheduled"
    assert units(api, account) == (997, 3)
    assert api.container.carrier.text_of(f"{sent['send_id']}.0") is None

    advance(api, 60)
    shown = get_send(api, sent["send_id"])
    assert shown["status"] in ("submitted", "completed")
    assert (shown["units_locked"], shown["units_charged"]) == (0, 3)
    assert units(api, account) == (997, 0)
    assert kinds(api, account) == ["purchase", "lock", "charge"]
    assert upcoming(api, account) == {"items": [], "units_locked": 0}
    advance(api, 10)
    assert get_send(api, sent["send_id"])["counts"]["success"] == 3


def test_S7_the_time_changes_at_61_minutes_before_it_but_not_at_59(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)
    sent = schedule(api, account, key, template, at(api, hours=3))
    advance(api, 3 * 3600 - 61 * 60)  # 61 minutes remain
    r = reschedule(api, sent["send_id"], key, at(api, hours=2))
    assert r.status_code == 200, r.text
    assert r.json()["scheduled_at"] == at(api, hours=2)
    advance(api, 61 * 60)  # 59 minutes remain before the new time
    r = reschedule(api, sent["send_id"], key, at(api, hours=5))
    assert_problem(r, 409, "reschedule_too_late")
    assert get_send(api, sent["send_id"])["scheduled_at"] == at(api, minutes=59)
    assert units(api, account) == (997, 3)  # the lock is untouched
    advance(api, 59 * 60)
    assert get_send(api, sent["send_id"])["status"] in ("submitted", "completed")


def test_S7_a_new_time_must_be_in_the_future(api: Api) -> None:
    account, key = funded_account(api)
    sent = schedule(api, account, key, mass_template(api, account, key), at(api, hours=3))
    assert_problem(reschedule(api, sent["send_id"], key, at(api, minutes=-5)), 422,
                   "validation_error")  # fmt: skip


def test_S7_Q11_cancelling_releases_the_lock_and_a_second_cancel_is_refused(api: Api) -> None:
    account, key = funded_account(api)
    sent = schedule(api, account, key, mass_template(api, account, key), at(api, hours=1))
    r = cancel(api, sent["send_id"], key)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["units_locked"]) == ("cancelled", 0)
    assert set(r.json()["counts"].values()) == {0}
    api.settle()
    assert list_sends(api, account, status="cancelled")[0]["counts"] == r.json()["counts"]
    api.settle()
    assert units(api, account) == (1000, 0)
    assert kinds(api, account) == ["purchase", "lock", "release"]
    assert_problem(cancel(api, sent["send_id"], key), 409, "not_cancellable")
    assert kinds(api, account) == ["purchase", "lock", "release"]
    advance(api, 2 * 3600)  # its time passes: nothing goes out
    assert get_send(api, sent["send_id"])["status"] == "cancelled"
    assert api.container.carrier.text_of(f"{sent['send_id']}.0") is None
    assert units(api, account) == (1000, 0)


def test_S7_Q11_a_send_already_submitted_cannot_be_cancelled(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)
    sent = schedule(api, account, key, template, at(api, minutes=30))
    advance(api, 30 * 60)
    assert_problem(cancel(api, sent["send_id"], key), 409, "not_cancellable")
    immediate = send_ok(api, account, key, {"template_id": template, "recipients": ORDINARY[:1]})
    assert_problem(cancel(api, immediate["send_id"], key), 409, "not_cancellable")
    assert units(api, account) == (996, 0)


def test_S7_only_the_owner_changes_a_send(api: Api) -> None:
    account, key = funded_account(api)
    sent = schedule(api, account, key, mass_template(api, account, key), at(api, hours=2))
    _, other_key = funded_account(api, phone="13800138001")
    assert_problem(cancel(api, sent["send_id"], other_key), 404, "not_found")
    assert_problem(cancel(api, sent["send_id"], OPERATOR_TOKEN), 403, "forbidden")
    assert get_send(api, sent["send_id"])["status"] == "scheduled"


def test_Q5_Q10_locked_units_cannot_be_spent_twice(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)
    numbers = [f"1391000{n:04d}" for n in range(10, 910)]  # 900 numbers
    sent = schedule(api, account, key, template, at(api, hours=1), numbers)
    more = [f"1372000{n:04d}" for n in range(10, 210)]
    r = post_send(api, account, key, {"template_id": template, "recipients": more})
    assert_problem(r, 409, "insufficient_quota")
    assert units(api, account) == (100, 900)
    advance(api, 3600)
    assert get_send(api, sent["send_id"])["units_charged"] == 900
    assert units(api, account) == (100, 0)


def test_S6_scheduled_at_must_be_in_the_future_and_refusals_store_nothing(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)
    for when in (at(api, minutes=-1), "2026-03-02T08:59:00", "next tuesday"):
        body = {"template_id": template, "recipients": ORDINARY[:1], "scheduled_at": when}
        r = post_send(api, account, key, body)
        assert_problem(r, 422, "validation_error")
    assert kinds(api, account) == ["purchase"]


def test_S6_a_time_without_an_offset_is_beijing_time(api: Api) -> None:
    account, key = funded_account(api)
    sent = schedule(api, account, key, mass_template(api, account, key), "2026-03-02T11:00:00")
    assert sent["scheduled_at"] == "2026-03-02T11:00:00+08:00"
    r = reschedule(api, sent["send_id"], key, "2026-03-02T12:30:00")
    assert r.status_code == 200 and r.json()["scheduled_at"] == "2026-03-02T12:30:00+08:00"


def test_S6_a_send_whose_template_is_deleted_before_its_time_is_cancelled(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)
    sent = schedule(api, account, key, template, at(api, hours=2))
    assert delete(api, template, key).status_code in (200, 204)
    assert get_send(api, sent["send_id"])["status"] == "scheduled"  # until its time
    advance(api, 2 * 3600)
    shown = get_send(api, sent["send_id"])
    assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "template_deleted")
    assert units(api, account) == (1000, 0)
    assert api.container.carrier.text_of(f"{sent['send_id']}.0") is None


def _marketing_at(api: Api, hour: int, minute: int, day: int = 2) -> tuple[dict[str, Any], str]:
    account, key = funded_account(api)
    template = mass_template(api, account, key, kind="marketing")
    set_clock(api, datetime(2026, 3, day, hour, minute, tzinfo=BEIJING))
    sent = send_ok(api, account, key, {"template_id": template, "recipients": ORDINARY[:2]})
    return sent, account


def test_S8_a_marketing_send_at_1959_goes_out_30_minutes_later(api: Api) -> None:
    sent, account = _marketing_at(api, 19, 59)
    assert sent["status"] == "awaiting_provider_review"
    assert sent["goes_out_at"] == "2026-03-02T20:29:00+08:00"
    locked = sent["units"]
    assert units(api, account) == (1000 - locked, locked)  # locked meanwhile
    advance(api, 29 * 60)
    assert get_send(api, sent["send_id"])["status"] == "awaiting_provider_review"
    advance(api, 60)
    assert get_send(api, sent["send_id"])["status"] in ("submitted", "completed")
    assert units(api, account) == (1000 - locked, 0)


def test_S8_a_marketing_send_at_2001_goes_out_after_9_the_next_day(api: Api) -> None:
    sent, _ = _marketing_at(api, 20, 1)
    assert sent["goes_out_at"] == "2026-03-03T09:30:00+08:00"
    set_clock(api, datetime(2026, 3, 3, 9, 29, tzinfo=BEIJING))
    assert get_send(api, sent["send_id"])["status"] == "awaiting_provider_review"
    set_clock(api, datetime(2026, 3, 3, 9, 30, tzinfo=BEIJING))
    assert get_send(api, sent["send_id"])["status"] in ("submitted", "completed")


def test_S8_a_marketing_send_at_2330_goes_out_the_next_morning(api: Api) -> None:
    sent, _ = _marketing_at(api, 23, 30)
    assert sent["goes_out_at"] == "2026-03-03T09:30:00+08:00"
    shown = get_send(api, sent["send_id"])
    assert shown["provider_review_until"] == "2026-03-03T09:30:00+08:00"


def test_S8_the_dry_run_says_when_a_marketing_send_would_go_out(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key, kind="marketing")
    set_clock(api, datetime(2026, 3, 2, 21, 0, tzinfo=BEIJING))
    body = {"template_id": template, "recipients": ORDINARY[:2], "dry_run": True}
    r = post_send(api, account, key, body)
    assert r.status_code == 200, r.text
    assert r.json()["goes_out_at"] == "2026-03-03T09:30:00+08:00"
    assert r.json()["provider_review_until"] == "2026-03-03T09:30:00+08:00"
    assert kinds(api, account) == ["purchase"]  # nothing stored
    assert list_sends(api, account) == []


def test_S6_S8_a_scheduled_marketing_send_goes_at_its_time_once_reviewed(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key, kind="marketing")
    set_clock(api, datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING))
    sent = schedule(api, account, key, template, "2026-03-02T15:00:00+08:00", ORDINARY[:1])
    assert sent["status"] == "awaiting_provider_review"
    advance(api, 30 * 60)
    assert get_send(api, sent["send_id"])["status"] == "scheduled"  # reviewed; waits
    set_clock(api, datetime(2026, 3, 2, 15, 0, tzinfo=BEIJING))
    assert get_send(api, sent["send_id"])["status"] in ("submitted", "completed")
