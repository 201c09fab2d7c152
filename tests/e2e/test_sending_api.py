"""Sending through the HTTP API: business messages, mass sends, their status, the dashboard
(S1, S2, S5, S10, Q5–Q10), on the simulated carrier and clock.

The send worker and the settlement timer run in background threads; ``POST /v1/sim/clock``
moves the clock and returns once everything due is processed.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from smsplat.adapters.clock import SimulatedClock

from tests.e2e.helpers import alerts, assert_problem, auth, balance, figures, ledger, parse_at
from tests.e2e.sending_helpers import (
    FAILS,
    LONG_CONTENT,
    NAMED_BASE_LENGTH,
    NAMED_CONTENT,
    ORDINARY,
    REFUSED,
    SILENT,
    advance,
    all_messages,
    business_template,
    carrier_record,
    dashboard,
    funded_account,
    get_message,
    get_send,
    hand_over,
    list_sends,
    mass_template,
    messages_page,
    post_message,
    post_receipts,
    post_send,
    send_ok,
    spy_on_carrier,
    unit_moves,
)
from tests.e2e.template_helpers import delete, mass, reject, submit
from tests.support import Api

REGISTER_TEXT = "【花店】您的注册验证码为{code},5分钟内有效,请勿泄露给他人。"
MASS_TEXT = "【花店】春季新品已到店,会员凭短信到店享九折优惠,详询门店。"


def q10_text(available: int) -> str:
    return f"目前账户短信数量为{available},短信发送将请求失败,购买短信包后可继续使用。"


# -- Q5, Q6, S10: one business message -----------------------------------------------------


def test_Q5_S10_a_business_message_is_charged_at_once_and_delivered(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Q5: charged at submission; S10: sending, then success on the carrier's receipt."""
    carrier = spy_on_carrier(api, monkeypatch)
    account_id, key = funded_account(api)
    template_id = business_template(api, account_id, key)
    r = post_message(
        api,
        account_id,
        key,
        {"template_id": template_id, "phone": "+86 138 1234 5678", "variables": {"code": "4821"}},
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] in ("pending", "sending")
    assert body["units"] == 1
    message_id = body["message_id"]
    assert isinstance(message_id, str) and message_id

    api.settle()
    assert figures(balance(api, account_id, key)) == (999, 0, 1000, 1, 0)  # Q5: at once
    charge_entry = ledger(api, account_id)[-1]
    assert (charge_entry["kind"], charge_entry["units"]) == ("charge", 1)
    assert charge_entry["reference"] == {"type": "message", "id": message_id}
    assert charge_entry["available_after"] == 999

    hand_over(api)
    advance(api, 10)  # the simulated carrier delivers 3 s after the hand-over
    message = get_message(api, message_id, key)
    assert message["message_id"] == message_id
    assert message["status"] == "success"
    assert message["phone"] == "13812345678"  # +86 and spaces normalised (S1)
    assert message["units"] == 1
    assert message["reason"] is None
    assert message["submitted_at"] and message["final_at"]
    assert parse_at(message["final_at"]) > parse_at(message["submitted_at"])
    assert [step["status"] for step in message["history"]] == ["pending", "sending", "success"]
    handed = carrier.get(message_id)
    assert handed is not None and carrier.ids() == [message_id]
    assert (handed.phone, handed.text) == ("13812345678", REGISTER_TEXT.format(code="4821"))
    assert figures(balance(api, account_id, key)) == (999, 0, 1000, 1, 0)  # delivered: kept


def test_S10_moving_the_clock_first_hands_over_what_was_already_accepted(api: Api) -> None:
    """S10 with the simulated clock: a message accepted at T and the clock moved 10 s at once
    is delivered by T+10 (its hand-over was due at T, the receipt at T+3), even when the
    worker had not got to it before the move."""
    account_id, key = funded_account(api)
    template_id = business_template(api, account_id, key)
    api.container.loops.sending[0].stop()  # the background worker is slow today: not run yet
    r = post_message(
        api, account_id, key, {"template_id": template_id, "phone": ORDINARY[0],
                               "variables": {"code": "1"}},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    accepted_at = api.container.clock.now()
    advance(api, 10)
    message = get_message(api, r.json()["message_id"])
    assert parse_at(message["submitted_at"]) == accepted_at, message
    assert message["status"] == "success", message


def test_Q6_a_long_rendered_text_costs_two_units(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Q6: up to 65 characters (signature and 【】 included) 1 unit; 66 and more, 2."""
    carrier = spy_on_carrier(api, monkeypatch)
    account_id, key = funded_account(api)
    long_id = mass_template(api, account_id, key, LONG_CONTENT)
    named_id = mass_template(api, account_id, key, NAMED_CONTENT)

    r = post_send(api, account_id, key, {"template_id": long_id, "recipients": ORDINARY[:3]})
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["units"]) == (3, 6)
    assert get_send(api, r.json()["send_id"])["text"] == f"【花店】{LONG_CONTENT}"

    for name_length, units in ((24, 1), (25, 2)):  # 65 and 66 characters
        name = "李" * name_length
        assert NAMED_BASE_LENGTH + name_length == 64 + units
        plan = post_send(
            api, account_id, key, {"template_id": named_id, "recipients": ORDINARY[:2],
                                   "variables": {"name": name}, "dry_run": True},
        )  # fmt: skip
        assert plan.status_code == 200, plan.text
        assert len(plan.json()["text"]) == NAMED_BASE_LENGTH + name_length
        assert (plan.json()["units_per_message"], plan.json()["units"]) == (units, 2 * units)
        sent = send_ok(
            api, account_id, key,
            {"template_id": named_id, "recipients": ORDINARY[:2], "variables": {"name": name}},
        )  # fmt: skip
        assert sent["units"] == 2 * units
    api.settle()
    assert figures(balance(api, account_id))[:4] == (1000 - 6 - 2 - 4, 0, 1000, 12)
    hand_over(api)
    handed = carrier.get(f"{r.json()['send_id']}.0")
    assert handed is not None and handed.text == f"【花店】{LONG_CONTENT}"


# -- S1, S2: recipients --------------------------------------------------------------------


def test_S1_numbers_are_normalised_deduplicated_and_each_refusal_reported(api: Api) -> None:
    """S1: +86/86 prefixes accepted; duplicates dropped; HK, Macau, Taiwan, international and
    non-numbers refused one by one, with their code and position."""
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    recipients = [
        "+8613812340005",  # 1
        "8613812340005",  # 2: duplicate of 1
        "13812340005",  # 3: duplicate of 1
        "138 1234 0006",  # 4
        "abc",  # 5
        "138123400071",  # 6: 12 digits
        "+85261234567",  # 7: Hong Kong
        "+85366123456",  # 8: Macau
        "+886912345678",  # 9: Taiwan
        "+12025550123",  # 10: USA
        "+86 13812340007",  # 11
        "01012345678",  # 12: a Beijing landline
        13812340008,  # 13: a JSON number
    ]
    body = send_ok(api, account_id, key, {"template_id": template_id, "recipients": recipients})
    assert (body["accepted"], body["units"], body["duplicates"]) == (4, 4, 2)
    assert [(x["input"], x["code"], x["position"]) for x in body["rejected"]] == [
        ("abc", "invalid_phone", 5),
        ("138123400071", "invalid_phone", 6),
        ("+85261234567", "not_mainland_mobile", 7),
        ("+85366123456", "not_mainland_mobile", 8),
        ("+886912345678", "not_mainland_mobile", 9),
        ("+12025550123", "not_mainland_mobile", 10),
        ("01012345678", "not_mainland_mobile", 12),
    ]
    assert all(x["reason"] for x in body["rejected"])
    api.settle()
    phones = [m["phone"] for m in all_messages(api, body["send_id"])]
    assert phones == ["13812340005", "13812340006", "13812340007", "13812340008"]
    assert get_send(api, body["send_id"])["total"] == 4
    assert get_send(api, body["send_id"])["text"] == MASS_TEXT
    assert figures(balance(api, account_id))[:4] == (996, 0, 1000, 4)


def test_S1_S2_recipients_text_is_one_number_per_line(api: Api) -> None:
    """S2: typed numbers, one a line; blank lines skipped; positions are line numbers."""
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    text = "13812340005\n\n+86 138 1234 0006\r\n86138123400 05\nhello\n+85261234567\n"
    body = send_ok(api, account_id, key, {"template_id": template_id, "recipients_text": text})
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert [(x["input"], x["code"], x["position"]) for x in body["rejected"]] == [
        ("hello", "invalid_phone", 5),
        ("+85261234567", "not_mainland_mobile", 6),
    ]


def test_S2_more_than_10000_numbers_is_refused_whole(api: Api) -> None:
    """S2: at most 10,000 numbers; 10,001 is 422 too_many_recipients, nothing charged or stored."""
    account_id, key = funded_account(api, size=10000)
    template_id = mass_template(api, account_id, key)
    before = unit_moves(api, account_id)
    numbers = [f"139{n:04d}5678" for n in range(10001)]
    for field, value in (("recipients_text", "\n".join(numbers)), ("recipients", numbers)):
        for dry_run in (False, True):
            r = post_send(
                api, account_id, key,
                {"template_id": template_id, field: value, "dry_run": dry_run},
            )  # fmt: skip
            assert_problem(r, 422, "too_many_recipients")
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []


@pytest.mark.parametrize(
    "recipients",
    [
        {"recipients": []},
        {"recipients_text": ""},
        {"recipients_text": "\n \n"},
        {"recipients": ["abc", "+85261234567"]},  # no mainland number at all
        {},
        {"recipients": ["13812340005"], "recipients_text": "13812340006"},
    ],
)
def test_S1_S2_a_send_without_recipients_is_422(api: Api, recipients: dict[str, Any]) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    before = unit_moves(api, account_id)
    r = post_send(api, account_id, key, {"template_id": template_id, **recipients})
    assert_problem(r, 422, "validation_error")
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []


def test_S2_10000_numbers_are_accepted(api: Api) -> None:
    """S2: exactly 10,000 numbers (and a trailing newline) go; charged whole (Q5)."""
    account_id, key = funded_account(api, size=10000)
    template_id = mass_template(api, account_id, key)
    text = "".join(f"139{n:04d}5678\n" for n in range(10000))
    body = send_ok(api, account_id, key, {"template_id": template_id, "recipients_text": text})
    assert (body["accepted"], body["units"], body["duplicates"], body["rejected"]) == (
        10000,
        10000,
        0,
        [],
    )
    assert get_send(api, body["send_id"])["total"] == 10000
    api.settle()
    assert figures(balance(api, account_id))[:4] == (0, 0, 10000, 10000)


# -- Q10: refused whole -------------------------------------------------------------------


def test_Q10_a_send_beyond_the_available_units_is_refused_whole(api: Api) -> None:
    """Q10: refused whole with the exact text (x = available); nothing charged or stored."""
    account_id, key = funded_account(api)
    mass_id = mass_template(api, account_id, key, LONG_CONTENT)  # 2 units a message
    business_id = business_template(api, account_id, key)
    first = send_ok(api, account_id, key, {"template_id": mass_id, "recipients": ORDINARY[:2]})
    assert first["units"] == 4  # 996 left
    before = unit_moves(api, account_id)
    numbers = [f"139{n:04d}5678" for n in range(499)]  # 998 units
    r = post_send(api, account_id, key, {"template_id": mass_id, "recipients": numbers})
    body = assert_problem(r, 409, "insufficient_quota")
    assert body["detail"] == q10_text(996)
    assert unit_moves(api, account_id) == before
    assert [s["send_id"] for s in list_sends(api, account_id)] == [first["send_id"]]

    # exactly what is available still goes
    fits = send_ok(api, account_id, key, {"template_id": mass_id, "recipients": numbers[:498]})
    assert fits["units"] == 996
    r = post_message(
        api, account_id, key, {"template_id": business_id, "phone": ORDINARY[0],
                               "variables": {"code": "1"}},
    )  # fmt: skip
    assert assert_problem(r, 409, "insufficient_quota")["detail"] == q10_text(0)
    api.settle()
    assert figures(balance(api, account_id))[:4] == (0, 0, 1000, 1000)
    assert len(list_sends(api, account_id)) == 2


# -- dry run ------------------------------------------------------------------------------


def test_dry_run_plans_and_stores_nothing(
    api: Api, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = spy_on_carrier(api, monkeypatch)
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, LONG_CONTENT)
    before = unit_moves(api, account_id)
    recipients = [*ORDINARY[:3], ORDINARY[0], "+85261234567", "abc"]
    r = post_send(
        api, account_id, key,
        {"template_id": template_id, "recipients": recipients, "dry_run": True},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    plan = r.json()
    assert "send_id" not in plan
    assert (plan["accepted"], plan["units"], plan["available"], plan["sufficient"]) == (
        3, 6, 1000, True,
    )  # fmt: skip
    assert plan["duplicates"] == 1
    assert [(x["input"], x["code"], x["position"]) for x in plan["rejected"]] == [
        ("+85261234567", "not_mainland_mobile", 5),
        ("abc", "invalid_phone", 6),
    ]
    assert plan["rate_limited"] == []
    assert parse_at(plan["goes_out_at"]) == clock.now()
    assert plan["text"] == f"【花店】{LONG_CONTENT}"

    numbers = [f"139{n:04d}5678" for n in range(501)]  # 1002 units: not enough
    r = post_send(
        api, account_id, key, {"template_id": template_id, "recipients": numbers, "dry_run": True}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["units"], r.json()["available"], r.json()["sufficient"]) == (1002, 1000, False)

    hand_over(api)
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []
    assert carrier.handed == []


# -- S5, S10, Q7, Q8: a mass send to the last receipt ---------------------------------------


def test_S5_S10_Q7_Q8_a_send_followed_to_the_last_receipt(api: Api) -> None:
    """S10: success, failed (delivery_failed, carrier_refused), unknown after 72 h (Q8, still
    charged); Q7: failed messages' units come back; the ledger and dashboard show it all."""
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, LONG_CONTENT)  # 2 units a message
    numbers = [*ORDINARY, FAILS, SILENT, REFUSED]
    accepted = send_ok(
        api, account_id, key, {"template_id": template_id, "recipients": numbers,
                               "product": "site"},
    )  # fmt: skip
    send_id = accepted["send_id"]
    assert accepted["status"] in ("submitting", "submitted")
    assert (accepted["accepted"], accepted["units"]) == (7, 14)
    send = get_send(api, send_id, key)
    assert send["status"] in ("submitting", "submitted")
    assert (send["total"], send["units_charged"]) == (7, 14)
    assert sum(send["counts"].values()) == 7

    hand_over(api)  # 0003 refused at once, and refunded (Q7)
    send = get_send(api, send_id, key)
    assert send["status"] == "submitted"
    assert send["counts"] == {"pending": 0, "sending": 6, "success": 0, "failed": 1, "unknown": 0}
    assert send["units_refunded"] == 2
    assert figures(balance(api, account_id, key)) == (988, 0, 1000, 14, 2)

    advance(api, 10)  # receipts: delivered for the ordinary ones, failed for 0001
    send = get_send(api, send_id, key)
    assert send["status"] == "submitted"
    assert send["counts"] == {"pending": 0, "sending": 1, "success": 4, "failed": 2, "unknown": 0}
    assert (send["units_charged"], send["units_refunded"]) == (14, 4)
    assert figures(balance(api, account_id, key)) == (990, 0, 1000, 14, 4)
    failed = all_messages(api, send_id, key, status="failed")
    assert [(m["phone"], m["reason"], m["status"]) for m in failed] == [
        (FAILS, "delivery_failed", "failed"),
        (REFUSED, "carrier_refused", "failed"),
    ]
    history = {m["phone"]: [h["status"] for h in get_message(api, m["message_id"])["history"]]
               for m in failed}  # fmt: skip
    assert history == {FAILS: ["pending", "sending", "failed"], REFUSED: ["pending", "failed"]}
    success = all_messages(api, send_id, key, status="success")
    assert [m["phone"] for m in success] == ORDINARY
    assert all(m["final_at"] and m["units"] == 2 for m in success)

    advance(api, 72 * 3600)  # Q8: 0002 unknown, still charged
    send = get_send(api, send_id, key)
    assert send["status"] == "completed"
    assert send["counts"] == {"pending": 0, "sending": 0, "success": 4, "failed": 2, "unknown": 1}
    assert (send["units_charged"], send["units_refunded"]) == (14, 4)
    assert figures(balance(api, account_id, key)) == (990, 0, 1000, 14, 4)
    [unknown] = all_messages(api, send_id, key, status="unknown")
    assert unknown["phone"] == SILENT
    assert get_message(api, unknown["message_id"], key)["status"] == "unknown"
    assert [s["send_id"] for s in list_sends(api, account_id, key, status="completed")] == [send_id]

    entries = ledger(api, account_id, key)
    assert [(e["kind"], e["units"]) for e in entries] == [
        ("purchase", 1000),
        ("charge", 14),
        ("refund", 2),
        ("refund", 2),
    ]
    assert entries[1]["reference"] == {"type": "send", "id": send_id}
    # Q7: each refund names the message it refunds and the send's charge it gives back
    refunded = {m["message_id"] for m in failed}
    assert {e["reference"]["id"] for e in entries[2:]} == refunded
    assert all(e["reference"]["type"] == "message" for e in entries[2:])
    assert all(e["related"] == {"type": "send", "id": send_id} for e in entries[2:])
    assert all(e["product"] == "site" for e in entries[1:])
    assert entries[-1]["available_after"] == 990

    board = dashboard(api, account_id, key)
    assert board["by_status"] == {
        "pending": 0, "sending": 0, "success": 4, "failed": 2, "unknown": 1,
    }  # fmt: skip
    assert board["success_rate"] == pytest.approx(4 / 7, abs=1e-4)
    assert (board["units_charged"], board["units_refunded"]) == (14, 4)
    [day] = board["by_day"]
    assert day["day"] == "2026-03-02"
    assert (day["success"], day["failed"], day["unknown"]) == (4, 2, 1)
    [product] = board["by_product"]
    assert product["product"] == "site"
    assert (product["success"], product["failed"], product["unknown"]) == (4, 2, 1)


def test_S10_dashboard_counts_by_day_and_product(api: Api) -> None:
    """The dashboard splits the account's messages by day (Beijing) and by product."""
    account_id, key = funded_account(api)
    r = api.client.post(
        f"/v1/accounts/{account_id}/products", json={"product": "mall"}, headers=auth(key)
    )
    assert r.status_code == 200, r.text
    mass_id = mass_template(api, account_id, key)
    business_id = business_template(api, account_id, key)
    send_ok(api, account_id, key,
            {"template_id": mass_id, "recipients": ORDINARY[:3], "product": "site"})  # fmt: skip
    hand_over(api)
    advance(api, 15 * 3600)  # 2026-03-03 00:00 Beijing
    r = post_message(
        api, account_id, key, {"template_id": business_id, "phone": FAILS,
                               "variables": {"code": "1"}, "product": "mall"},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    hand_over(api)
    advance(api, 10)
    board = dashboard(api, account_id)
    assert [(d["day"], d["success"], d["failed"]) for d in board["by_day"]] == [
        ("2026-03-02", 3, 0),
        ("2026-03-03", 0, 1),
    ]
    assert [(p["product"], p["success"], p["failed"]) for p in board["by_product"]] == [
        ("mall", 0, 1),
        ("site", 3, 0),
    ]
    assert board["success_rate"] == pytest.approx(0.75)
    assert (board["units_charged"], board["units_refunded"]) == (4, 1)


# -- per-message pages ---------------------------------------------------------------------


def test_S5_pages_of_messages_walk_every_message_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S5: 250 recipients go out in 3 batches, each message handed over once; the message
    pages (limit, cursor) walk them all once, in order; status filters; bad status is 422."""
    carrier = spy_on_carrier(api, monkeypatch)
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    numbers = [f"1381234{n:04d}" for n in range(5, 255)]
    send_id = send_ok(api, account_id, key, {"template_id": template_id, "recipients": numbers})[
        "send_id"
    ]
    hand_over(api)
    batches = [[f"{send_id}.{i}" for i in range(start, min(start + 100, 250))]
               for start in (0, 100, 200)]  # fmt: skip
    handed_batches = [[m.message_id for m in call] for call in carrier.calls]
    assert all(batch in batches for batch in handed_batches), handed_batches  # S5: 100 a batch
    assert carrier.ids() == [f"{send_id}.{i}" for i in range(250)]
    assert get_send(api, send_id)["status"] == "submitted"

    seen: list[dict[str, Any]] = []
    cursor: int | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7} if cursor is None else {"limit": 7, "cursor": cursor}
        page = messages_page(api, send_id, key, **params)
        assert len(page["items"]) <= 7
        seen.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 36
    assert [m["phone"] for m in seen] == numbers
    assert len({m["message_id"] for m in seen}) == 250
    assert all(m["status"] == "sending" and m["carrier_message_id"] for m in seen)
    assert {m["message_id"] for m in seen} == {f"{send_id}.{i}" for i in range(250)}

    assert len(messages_page(api, send_id, limit=1000)["items"]) == 250
    assert messages_page(api, send_id, status="success")["items"] == []
    advance(api, 10)
    assert len(all_messages(api, send_id, status="success", limit=100)) == 250
    assert messages_page(api, send_id, status="sending")["items"] == []
    for params in ({"status": "bounced"}, {"limit": 0}, {"limit": 1001}, {"cursor": "x"}):
        r = api.client.get(f"/v1/sends/{send_id}/messages", params=params, headers=auth(key))
        assert_problem(r, 422, "validation_error")


# -- bad input ----------------------------------------------------------------------------


def test_templates_that_cannot_be_used_are_refused_and_charge_nothing(api: Api) -> None:
    """T7 and types: other account's or unknown template 404; pending, rejected or deleted
    409 template_not_approved; business for a send, mass for a message 422."""
    account_id, key = funded_account(api)
    other_id, other_key = funded_account(api)
    other_template = mass_template(api, other_id, other_key)
    business_id = business_template(api, account_id, key)
    mass_id = mass_template(api, account_id, key)
    pending_id = submit(api, account_id, key, mass())["template_id"]
    rejected_id = submit(api, account_id, key, mass())["template_id"]
    assert reject(api, rejected_id).status_code == 200
    deleted_id = mass_template(api, account_id, key)
    assert delete(api, deleted_id, key).status_code in (200, 204)
    deleted_business = business_template(api, account_id, key)
    assert delete(api, deleted_business, key).status_code in (200, 204)
    before = unit_moves(api, account_id)

    cases: list[tuple[str, int, str]] = [
        (other_template, 404, "not_found"),
        (str(uuid4()), 404, "not_found"),
        (pending_id, 409, "template_not_approved"),
        (rejected_id, 409, "template_not_approved"),
        (deleted_id, 409, "template_not_approved"),
        (business_id, 422, "wrong_template_type"),
    ]
    for template_id, status, code in cases:
        for dry_run in (False, True):
            r = post_send(
                api, account_id, key,
                {"template_id": template_id, "recipients": ORDINARY[:1], "dry_run": dry_run},
            )  # fmt: skip
            assert_problem(r, status, code)
    for template_id, status, code in [
        (other_template, 404, "not_found"),
        (str(uuid4()), 404, "not_found"),
        (deleted_business, 409, "template_not_approved"),
        (mass_id, 422, "wrong_template_type"),
    ]:
        r = post_message(
            api, account_id, key,
            {"template_id": template_id, "phone": ORDINARY[0], "variables": {"code": "1"}},
        )  # fmt: skip
        assert_problem(r, status, code)
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": ORDINARY[0]}, 422, "missing_variable"),
        ({"phone": ORDINARY[0], "variables": {}}, 422, "missing_variable"),
        ({"phone": ORDINARY[0], "variables": {"code": "1", "name": "x"}}, 422, "unknown_variable"),
        ({"phone": "abc", "variables": {"code": "1"}}, 422, "invalid_phone"),
        ({"phone": "138123400071", "variables": {"code": "1"}}, 422, "invalid_phone"),
        ({"variables": {"code": "1"}}, 422, "invalid_phone"),
        ({"phone": "+85261234567", "variables": {"code": "1"}}, 422, "not_mainland_mobile"),
        ({"phone": "+12025550123", "variables": {"code": "1"}}, 422, "not_mainland_mobile"),
        ({"phone": ORDINARY[0], "variables": {"code": "1"}, "product": "car"}, 422,
         "validation_error"),
    ],
)  # fmt: skip
def test_S1_bad_business_messages_are_refused_and_charge_nothing(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    account_id, key = funded_account(api)
    template_id = business_template(api, account_id, key)
    before = unit_moves(api, account_id)
    r = post_message(api, account_id, key, {"template_id": template_id, **body})
    assert_problem(r, status, code)
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"variables": {"name": "x"}}, 422, "unknown_variable"),
        ({"scheduled_at": "2026-03-01T10:00:00+08:00"}, 422, "validation_error"),  # past
        ({"scheduled_at": "tomorrow"}, 422, "validation_error"),
        ({"audience": {"conditions": ["site_member"]}}, 422, "validation_error"),  # and numbers
        ({"audience": {"conditions": ["vip"]}}, 422, "validation_error"),
        ({"product": "car"}, 422, "validation_error"),
    ],
)
def test_S6_bad_mass_sends_are_refused_and_charge_nothing(
    api: Api, extra: dict[str, Any], status: int, code: str
) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    named_id = mass_template(api, account_id, key, NAMED_CONTENT)
    before = unit_moves(api, account_id)
    for dry_run in (False, True):  # a dry run refuses what the send would refuse
        r = post_send(
            api, account_id, key,
            {"template_id": template_id, "recipients": ORDINARY, "dry_run": dry_run, **extra},
        )  # fmt: skip
        assert_problem(r, status, code)
        r = post_send(
            api, account_id, key,
            {"template_id": named_id, "recipients": ORDINARY, "dry_run": dry_run},
        )  # fmt: skip
        assert_problem(r, 422, "missing_variable")
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []


# -- access -------------------------------------------------------------------------------


def test_another_accounts_sends_and_messages_are_404(api: Api) -> None:
    account_id, key = funded_account(api)
    other_id, other_key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    send_id = send_ok(api, account_id, key, {"template_id": template_id, "recipients": ORDINARY})[
        "send_id"
    ]
    api.settle()
    message_id = f"{send_id}.0"
    assert get_message(api, message_id, key)["phone"] == ORDINARY[0]
    for path in (f"/v1/sends/{send_id}", f"/v1/sends/{send_id}/messages",
                 f"/v1/messages/{message_id}"):  # fmt: skip
        assert_problem(api.client.get(path, headers=auth(other_key)), 404, "not_found")
        assert api.client.get(path, headers=auth()).status_code == 200  # the operator sees it
    for path in (f"/v1/sends/{uuid4()}", f"/v1/messages/{uuid4()}.0", "/v1/messages/nope",
                 f"/v1/messages/{send_id}.99", f"/v1/messages/{send_id}.00"):  # fmt: skip
        assert_problem(api.client.get(path, headers=auth(key)), 404, "not_found")
    for method, path in (("GET", f"/v1/accounts/{account_id}/sends"),
                         ("GET", f"/v1/accounts/{account_id}/dashboard"),
                         ("POST", f"/v1/accounts/{account_id}/sends"),
                         ("POST", f"/v1/accounts/{account_id}/messages")):  # fmt: skip
        body = {"template_id": template_id} | (
            {"phone": ORDINARY[0]} if path.endswith("messages") else {"recipients": ORDINARY}
        )
        r = api.client.request(method, path, headers=auth(other_key),
                               json=body if method == "POST" else None)  # fmt: skip
        assert_problem(r, 404, "not_found")  # as if it did not exist
    r = api.client.get(f"/v1/accounts/{account_id}/sends")
    assert_problem(r, 401, "unauthorized")
    assert list_sends(api, other_id) == []


def test_sends_are_listed_newest_first_with_a_status_filter(api: Api) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    refused = send_ok(api, account_id, key, {"template_id": template_id, "recipients": [REFUSED]})
    advance(api, 1)
    silent = send_ok(api, account_id, key, {"template_id": template_id, "recipients": [SILENT]})
    advance(api, 1)
    ordinary = send_ok(api, account_id, key, {"template_id": template_id, "recipients": ORDINARY})
    hand_over(api)
    api.settle()
    listed = list_sends(api, account_id, key)
    assert [s["send_id"] for s in listed] == [
        ordinary["send_id"], silent["send_id"], refused["send_id"],
    ]  # fmt: skip
    assert [s["status"] for s in listed] == ["submitted", "submitted", "completed"]
    assert parse_at(listed[0]["created_at"]) > parse_at(listed[1]["created_at"])
    assert [s["send_id"] for s in list_sends(api, account_id, key, status="completed")] == [
        refused["send_id"]
    ]
    assert [s["send_id"] for s in list_sends(api, account_id, key, limit=1, offset=1)] == [
        silent["send_id"]
    ]
    advance(api, 10)
    assert [s["send_id"] for s in list_sends(api, account_id, key, status="submitted")] == [
        silent["send_id"]
    ]
    assert list_sends(api, account_id, key, status="submitting") == []
    r = api.client.get(f"/v1/accounts/{account_id}/sends?status=sent", headers=auth(key))
    assert_problem(r, 422, "validation_error")


# -- idempotency --------------------------------------------------------------------------


def test_Q5_an_idempotent_retry_charges_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same Idempotency-Key and body: the same send and message, charged once."""
    carrier = spy_on_carrier(api, monkeypatch)
    account_id, key = funded_account(api)
    mass_id = mass_template(api, account_id, key)
    business_id = business_template(api, account_id, key)
    send_body = {"template_id": mass_id, "recipients": ORDINARY}
    message_body = {"template_id": business_id, "phone": ORDINARY[0], "variables": {"code": "7"}}
    first_send = post_send(api, account_id, key, send_body, key="send-1")
    first_message = post_message(api, account_id, key, message_body, key="message-1")
    assert (first_send.status_code, first_message.status_code) == (202, 202)
    for _ in range(2):
        again = post_send(api, account_id, key, send_body, key="send-1")
        assert again.status_code == 202
        assert again.json()["send_id"] == first_send.json()["send_id"]
        again = post_message(api, account_id, key, message_body, key="message-1")
        assert again.status_code == 202
        assert again.json()["message_id"] == first_message.json()["message_id"]
    r = post_send(api, account_id, key, {**send_body, "recipients": ORDINARY[:1]}, key="send-1")
    assert_problem(r, 422, "idempotency_key_reused")
    api.settle()
    assert figures(balance(api, account_id))[:4] == (995, 0, 1000, 5)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "charge", "charge"]
    assert len(list_sends(api, account_id)) == 2
    hand_over(api)
    assert len(carrier.ids()) == 1 + len(ORDINARY)  # one send, one message: nothing twice


# -- Q9: the low-balance alert SMS ----------------------------------------------------------


def test_Q9_a_send_taking_the_balance_below_30_sends_one_alert_sms(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Q9: once below 30, one alert, whose SMS `alert.<alert_id>` goes to the verification
    phone through the carrier; further charges raise no second alert."""
    carrier = spy_on_carrier(api, monkeypatch)
    account_id, key = funded_account(api, phone="+86 137 0013 7000")
    mass_id = mass_template(api, account_id, key, LONG_CONTENT)  # 2 units a message
    business_id = business_template(api, account_id, key)
    numbers = [f"1370000{n:04d}" for n in range(10, 495)]  # 485 x 2 = 970: 30 left
    send_ok(api, account_id, key, {"template_id": mass_id, "recipients": numbers})
    hand_over(api)
    api.settle()
    assert alerts(api, account_id) == []
    for code in ("1", "2"):  # 29 left: the alert; 28 left: no other
        r = post_message(
            api, account_id, key,
            {"template_id": business_id, "phone": ORDINARY[0], "variables": {"code": code}},
        )  # fmt: skip
        assert r.status_code == 202, r.text
    hand_over(api)
    api.settle()
    [alert] = alerts(api, account_id, key)
    assert (alert["kind"], alert["phone"], alert["available"]) == ("low_balance", "13700137000", 29)
    assert alert["message_id"] == f"alert.{alert['alert_id']}"
    # claimed before it is handed over: exactly once, however many workers saw the alert
    alert_sms = [m for m in carrier.handed if m.message_id.startswith("alert.")]
    assert [(m.message_id, m.phone) for m in alert_sms] == [(alert["message_id"], "13700137000")]
    assert "29" in alert_sms[0].text
    record = carrier_record(api, alert["message_id"])  # the carrier has it
    assert record is not None and record[0] in (None, "13700137000"), record
    assert record[1] == alert_sms[0].text
    assert figures(balance(api, account_id))[:4] == (28, 0, 1000, 972)  # the alert is free
    # its receipt settles nothing: it is the platform's own notice, and it cost no unit
    r = post_receipts(api, [{"message_id": alert["message_id"], "status": "delivered"}])
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["reason"] == "platform_notice"
    assert figures(balance(api, account_id))[:4] == (28, 0, 1000, 972)
