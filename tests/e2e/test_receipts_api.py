"""Carrier receipts through the HTTP API (S10, Q7, Q8): only the carrier posts them;
duplicates, late contradictions, unknown ids and bad statuses change nothing."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.e2e.helpers import assert_problem, auth, balance, figures, ledger
from tests.e2e.sending_helpers import (
    LONG_CONTENT,
    ORDINARY,
    SILENT,
    advance,
    funded_account,
    get_message,
    get_send,
    hand_over,
    mass_template,
    post_receipts,
    send_ok,
    unit_moves,
)
from tests.support import CARRIER_TOKEN, Api

AT = "2026-03-02T09:00:04+08:00"


def receipt(message_id: str, status: str = "delivered") -> dict[str, Any]:
    return {"message_id": message_id, "status": status, "at": AT}


def handed_over_send(api: Api, recipients: list[str]) -> tuple[str, str, str]:
    """A funded account's 2-unit mass send, handed to the carrier at the current instant, its
    receipts not yet due; (account_id, api_key, send_id)."""
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, LONG_CONTENT)
    send_id: str = send_ok(api, account_id, key, {"template_id": template_id,
                                                  "recipients": recipients})["send_id"]  # fmt: skip
    hand_over(api)
    assert get_send(api, send_id)["counts"]["sending"] == len(recipients)
    return account_id, key, send_id


def outcome(api: Api, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    r = post_receipts(api, receipts)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_S10_only_the_carrier_posts_receipts(api: Api) -> None:
    account_id, key, send_id = handed_over_send(api, ORDINARY[:1])
    before = unit_moves(api, account_id)
    receipts = [receipt(f"{send_id}.0", "failed")]
    assert_problem(post_receipts(api, receipts, token=key), 403, "forbidden")
    assert_problem(post_receipts(api, receipts, token=None), 401, "unauthorized")
    assert_problem(post_receipts(api, receipts, token="not-the-carrier"), 401, "unauthorized")
    api.settle()
    assert get_message(api, f"{send_id}.0")["status"] == "sending"
    assert unit_moves(api, account_id) == before

    body = outcome(api, receipts)  # the carrier's own token
    assert (body["recorded"], body["refunded_units"], body["rejected"]) == (1, 2, [])
    api.settle()
    assert get_message(api, f"{send_id}.0")["status"] == "failed"
    assert get_message(api, f"{send_id}.0")["reason"] == "delivery_failed"


def test_S10_receipt_bodies_are_validated(api: Api) -> None:
    """A body that is not a list of receipts is refused whole; one malformed receipt in a
    body is answered on its own (see test_carrier_input_api)."""
    for body in ({}, {"receipts": "x"}, {"receipts": [], "extra": 1}):
        r = api.client.post("/v1/carrier/receipts", json=body, headers=auth(CARRIER_TOKEN))
        assert_problem(r, 422, "validation_error")
    assert outcome(api, []) == {"recorded": 0, "ignored": 0, "duplicates": 0,
                                "refunded_units": 0, "rejected": [], "results": []}  # fmt: skip
    one_bad = outcome(api, [{"status": "delivered"}])
    assert one_bad["results"] == [{"index": 0, "message_id": None, "outcome": "ignored",
                                   "status": None, "reason": "malformed",
                                   "refunded_units": 0}]  # fmt: skip


def test_S10_Q7_duplicate_receipts_are_harmless_and_refund_once(api: Api) -> None:
    """Posting the same receipts again counts them as duplicates; a failure is refunded once."""
    account_id, key, send_id = handed_over_send(api, ORDINARY[:3])
    m0, m1, m2 = (f"{send_id}.{i}" for i in range(3))
    receipts = [receipt(m0), receipt(m1, "failed")]

    first = outcome(api, receipts)
    assert (first["recorded"], first["duplicates"], first["refunded_units"]) == (2, 0, 2)
    assert first["rejected"] == []
    again = outcome(api, receipts)
    assert (again["recorded"], again["duplicates"], again["refunded_units"]) == (0, 2, 0)
    twice_in_one = outcome(api, [receipt(m2), receipt(m2)])
    assert (twice_in_one["recorded"], twice_in_one["duplicates"]) == (1, 1)

    api.settle()
    assert figures(balance(api, account_id, key)) == (996, 0, 1000, 6, 2)
    send = get_send(api, send_id, key)
    assert send["counts"] == {"pending": 0, "sending": 0, "success": 2, "failed": 1, "unknown": 0}
    assert (send["status"], send["units_refunded"]) == ("completed", 2)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "charge", "refund"]

    advance(api, 10)  # the simulated carrier's own (delivered) receipts come in: ignored
    assert get_message(api, m1)["status"] == "failed"
    assert figures(balance(api, account_id, key)) == (996, 0, 1000, 6, 2)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "charge", "refund"]


def test_S10_a_failed_receipt_for_a_delivered_message_changes_nothing(api: Api) -> None:
    account_id, _, send_id = handed_over_send(api, ORDINARY[:2])
    advance(api, 10)  # both delivered
    before = unit_moves(api, account_id)
    body = outcome(api, [receipt(f"{send_id}.0", "failed"), receipt(f"{send_id}.1", "failed")])
    assert (body["recorded"], body["duplicates"], body["refunded_units"]) == (0, 2, 0)
    assert body["rejected"] == []
    assert unit_moves(api, account_id) == before
    message = get_message(api, f"{send_id}.0")
    assert (message["status"], message["reason"]) == ("success", None)
    assert get_send(api, send_id)["counts"]["success"] == 2


def test_Q8_a_late_receipt_for_an_unknown_message_changes_nothing(api: Api) -> None:
    """Q8: unknown after 72 h and still charged; a failure reported later is not refunded."""
    account_id, _, send_id = handed_over_send(api, [SILENT])
    advance(api, 72 * 3600 - 1)
    assert get_message(api, f"{send_id}.0")["status"] == "sending"
    assert get_send(api, send_id)["status"] == "submitted"
    advance(api, 1)  # 72 hours after the hand-over
    message = get_message(api, f"{send_id}.0")
    assert (message["status"], message["reason"]) == ("unknown", "no_receipt_in_72h")
    assert get_send(api, send_id)["status"] == "completed"
    assert figures(balance(api, account_id))[3:] == (2, 0)  # still charged
    before = unit_moves(api, account_id)
    body = outcome(api, [receipt(f"{send_id}.0", "failed")])
    assert (body["recorded"], body["duplicates"], body["refunded_units"]) == (0, 1, 0)
    assert unit_moves(api, account_id) == before
    assert get_message(api, f"{send_id}.0")["status"] == "unknown"


def test_S10_unknown_ids_and_bad_statuses_are_rejected_one_by_one(api: Api) -> None:
    account_id, _, send_id = handed_over_send(api, ORDINARY[:2])
    before = unit_moves(api, account_id)
    stranger = f"{uuid4()}.0"
    bad = [
        receipt("nope", "failed"),
        receipt(stranger, "failed"),
        receipt(f"{send_id}.2", "failed"),  # the send has messages 0 and 1 only
        receipt(f"{send_id}.01", "failed"),  # not how message ids are written
        receipt(f"{send_id}.-1", "failed"),
        receipt(f"{send_id}.0", "bounced"),
        receipt(f"{send_id}.1", ""),
    ]
    body = outcome(api, bad)
    assert (body["recorded"], body["duplicates"], body["refunded_units"]) == (0, 0, 0)
    assert sorted((x["message_id"], x["code"]) for x in body["rejected"]) == sorted([
        ("nope", "not_found"),
        (stranger, "not_found"),
        (f"{send_id}.2", "not_found"),
        (f"{send_id}.01", "not_found"),
        (f"{send_id}.-1", "not_found"),
        (f"{send_id}.0", "validation_error"),
        (f"{send_id}.1", "validation_error"),
    ])  # fmt: skip
    assert unit_moves(api, account_id) == before
    assert get_send(api, send_id)["counts"]["sending"] == 2

    # the good ones among bad ones still count
    mixed = outcome(api, [receipt("nope"), receipt(f"{send_id}.1", "failed")])
    assert (mixed["recorded"], mixed["refunded_units"]) == (1, 2)
    assert [(x["message_id"], x["code"]) for x in mixed["rejected"]] == [("nope", "not_found")]
    api.settle()
    assert get_message(api, f"{send_id}.1")["status"] == "failed"
    assert get_message(api, f"{send_id}.0")["status"] == "sending"


def test_Q9_a_receipt_for_a_made_up_alert_sms_is_unknown(api: Api) -> None:
    """Only an alert SMS that was handed over can have a receipt (see test_sending_api for a
    real one: answered platform_notice); a made-up ``alert.`` id names no message."""
    account_id, _, send_id = handed_over_send(api, ORDINARY[:1])
    before = unit_moves(api, account_id)
    body = outcome(api, [receipt(f"alert.{uuid4()}"), receipt(f"alert.{uuid4()}", "failed")])
    assert [x["reason"] for x in body["results"]] == ["unknown_message"] * 2
    assert (body["recorded"], body["refunded_units"]) == (0, 0)
    assert unit_moves(api, account_id) == before
    assert get_send(api, send_id)["counts"]["sending"] == 1


def test_S10_a_bad_status_is_rejected_for_an_alert_sms_too(api: Api) -> None:
    """Receipt statuses are `delivered` or `failed`, whichever message they are about."""
    alert_id = f"alert.{uuid4()}"
    body = outcome(api, [receipt(alert_id, "bounced")])
    assert body["rejected"] == [{"message_id": alert_id, "code": "validation_error"}]
    assert body["recorded"] == 0
