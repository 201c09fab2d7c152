"""Carrier input guarded by the message's state (S10, Q5, Q7, Q8, Q11), on both stores.

A receipt counts only for a message the carrier was handed and that is not final. Every other
receipt is answered, one by one, as ``ignored`` with its reason, and moves no unit: messages
never handed over (a send scheduled, awaiting the provider's review, cancelled, a number
skipped), messages already final, ids that name no message (fake ``alert.`` ids too),
malformed receipts. One bad receipt never sinks the good ones beside it. Whatever was
posted, the per-message ledger verification stays clean.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from smsplat.projections.ledger_audit import audit_ledger

from tests.e2e.helpers import assert_problem, auth
from tests.e2e.sending_helpers import (
    FAILS,
    ORDINARY,
    REFUSED,
    SILENT,
    advance,
    business_template,
    funded_account,
    get_message,
    get_send,
    hand_over,
    mass_template,
    post_message,
    post_receipts,
    send_ok,
    unit_moves,
)
from tests.support import CARRIER_TOKEN, Api

AT = "2026-03-02T09:00:04+08:00"


def receipt(message_id: object, status: object = "failed") -> dict[str, Any]:
    return {"message_id": message_id, "status": status, "at": AT}


def outcome(api: Api, receipts: list[Any]) -> dict[str, Any]:
    r = post_receipts(api, receipts)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert len(body["results"]) == len(receipts)
    assert [x["index"] for x in body["results"]] == list(range(len(receipts)))
    return body


def reasons(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(x["outcome"], x.get("reason")) for x in body["results"]]


def assert_ledger_verifies(api: Api) -> None:
    api.settle()
    report = audit_ledger(api.container.quota, api.container.ledger)
    assert report.ok, report.problems


def test_S8_Q5_a_receipt_for_a_send_awaiting_the_providers_review_is_ignored(
    any_api: Api,
) -> None:
    """Units only locked, never charged: a failed receipt refunds nothing, a delivered one
    settles nothing (the trial saw available 996 → 997 and a `success` never submitted)."""
    api = any_api
    account, key = funded_account(api)
    marketing = mass_template(api, account, key, kind="marketing")
    send_id = send_ok(api, account, key, {"template_id": marketing,
                                          "recipients": ORDINARY[:2]})["send_id"]  # fmt: skip
    assert get_send(api, send_id)["status"] == "awaiting_provider_review"
    before = unit_moves(api, account)
    body = outcome(api, [receipt(f"{send_id}.0", "failed"), receipt(f"{send_id}.1", "delivered")])
    assert (body["recorded"], body["refunded_units"], body["ignored"]) == (0, 0, 2)
    assert reasons(body) == [("ignored", "not_handed_over")] * 2
    assert unit_moves(api, account) == before
    api.settle()
    assert get_send(api, send_id)["status"] == "awaiting_provider_review"
    assert get_message(api, f"{send_id}.1")["status"] == "pending"
    assert_ledger_verifies(api)


def test_S6_Q11_receipts_for_scheduled_and_cancelled_sends_are_ignored(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    later = "2026-03-03T10:00:00+08:00"
    waiting = send_ok(api, account, key, {"template_id": notice, "recipients": ORDINARY[:1],
                                          "scheduled_at": later})["send_id"]  # fmt: skip
    cancelled = send_ok(api, account, key, {"template_id": notice, "recipients": ORDINARY[:1],
                                            "scheduled_at": later})["send_id"]  # fmt: skip
    r = api.client.post(f"/v1/sends/{cancelled}/cancel", headers=auth(key))
    assert r.status_code == 200, r.text
    before = unit_moves(api, account)
    body = outcome(api, [receipt(f"{waiting}.0"), receipt(f"{cancelled}.0"),
                         receipt(f"{cancelled}.0", "delivered")])  # fmt: skip
    assert reasons(body) == [("ignored", "not_handed_over")] * 3
    assert body["refunded_units"] == 0
    assert unit_moves(api, account) == before
    assert_ledger_verifies(api)


def test_S10_Q7_receipts_for_final_messages_are_ignored(any_api: Api) -> None:
    """Delivered, failed (refunded once), refused at submission, unknown after 72 h (Q8)."""
    api = any_api
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    numbers = [ORDINARY[0], FAILS, REFUSED, SILENT]
    send_id = send_ok(api, account, key, {"template_id": notice,
                                          "recipients": numbers})["send_id"]  # fmt: skip
    hand_over(api)
    advance(api, 72 * 3600)  # delivered, failed, refused at once, unknown
    counts = get_send(api, send_id)["counts"]
    assert (counts["success"], counts["failed"], counts["unknown"]) == (1, 2, 1)
    before = unit_moves(api, account)
    body = outcome(api, [receipt(f"{send_id}.{i}", s) for i in range(4)
                         for s in ("failed", "delivered")])  # fmt: skip
    assert body["recorded"] == 0 and body["refunded_units"] == 0
    assert reasons(body) == [
        ("ignored", "already_final"), ("ignored", "duplicate"),  # delivered
        ("ignored", "duplicate"), ("ignored", "already_final"),  # failed, refunded
        ("ignored", "duplicate"), ("ignored", "already_final"),  # refused at submission
        ("ignored", "already_final"), ("ignored", "already_final"),  # unknown (Q8)
    ]  # fmt: skip
    assert unit_moves(api, account) == before
    assert_ledger_verifies(api)


def test_S10_ids_that_name_no_message_are_ignored_and_fake_alert_ids_are_not_recorded(
    any_api: Api,
) -> None:
    api = any_api
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    send_id = send_ok(api, account, key, {"template_id": notice,
                                          "recipients": ORDINARY[:2]})["send_id"]  # fmt: skip
    hand_over(api)
    before = unit_moves(api, account)
    fakes = ["alert.not-a-real-alert", f"alert.{uuid4()}", "nope", f"{uuid4()}.0",
             f"{send_id}.2", f"{send_id}.01", f"{send_id}.-1"]  # fmt: skip
    body = outcome(api, [receipt(m) for m in fakes])
    assert reasons(body) == [("ignored", "unknown_message")] * len(fakes)
    assert (body["recorded"], body["refunded_units"]) == (0, 0)
    assert unit_moves(api, account) == before
    assert get_send(api, send_id)["counts"]["sending"] == 2
    assert_ledger_verifies(api)


def test_S10_malformed_receipts_are_answered_one_by_one_beside_good_ones(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    send_id = send_ok(api, account, key, {"template_id": notice,
                                          "recipients": ORDINARY[:1]})["send_id"]  # fmt: skip
    hand_over(api)
    good = receipt(f"{send_id}.0", "failed")
    bad: list[Any] = [
        {"status": "failed"},  # no message id
        receipt(17),  # not text
        receipt(f"{send_id}.0", "bounced"),
        receipt(f"{send_id}.0", ""),
        {"message_id": f"{send_id}.0", "status": "failed", "at": "yesterday"},
        {"message_id": f"{send_id}.0", "status": "failed", "colour": "red"},
        "just text",
        None,
    ]
    body = outcome(api, [*bad, good])
    assert reasons(body) == [("ignored", "malformed")] * len(bad) + [("recorded", None)]
    assert (body["recorded"], body["refunded_units"]) == (1, 1)
    assert body["results"][-1]["status"] == "failed"
    api.settle()
    assert get_message(api, f"{send_id}.0")["status"] == "failed"
    assert_ledger_verifies(api)


def test_Q7_a_bad_receipt_never_sinks_the_good_ones_in_its_body(any_api: Api) -> None:
    """A new account's marketing send has only locked units: a refund for it was refused with
    409 quota_conflict for the whole body, dropping the valid receipt beside it."""
    api = any_api
    fresh, fresh_key = funded_account(api, phone="13800138001")
    marketing = mass_template(api, fresh, fresh_key, kind="marketing")
    waiting = send_ok(api, fresh, fresh_key, {"template_id": marketing,
                                              "recipients": ORDINARY[:1]})["send_id"]  # fmt: skip
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    sent = send_ok(api, account, key, {"template_id": notice,
                                       "recipients": ORDINARY[:1]})["send_id"]  # fmt: skip
    hand_over(api)
    body = outcome(api, [receipt(f"{waiting}.0"), receipt(f"{sent}.0")])
    assert reasons(body) == [("ignored", "not_handed_over"), ("recorded", None)]
    assert body["refunded_units"] == 1
    assert_ledger_verifies(api)


def test_S10_too_many_receipts_in_one_body_are_refused_whole(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    notice = mass_template(api, account, key)
    send_id = send_ok(api, account, key, {"template_id": notice,
                                          "recipients": ORDINARY[:1]})["send_id"]  # fmt: skip
    hand_over(api)
    before = unit_moves(api, account)
    many = [receipt(f"{send_id}.0")] * 10_001
    r = api.client.post("/v1/carrier/receipts", json={"receipts": many},
                        headers=auth(CARRIER_TOKEN))  # fmt: skip
    assert r.status_code in (413, 422), r.text
    assert unit_moves(api, account) == before
    assert get_message(api, f"{send_id}.0")["status"] == "sending"
    assert_ledger_verifies(api)


def test_S10_only_the_carrier_posts_receipts_not_an_account(any_api: Api) -> None:
    """Another account's key (or the message's own account's) cannot settle a message."""
    api = any_api
    account, key = funded_account(api)
    other, other_key = funded_account(api, phone="13800138002")
    notice = mass_template(api, account, key)
    send_id = send_ok(api, account, key, {"template_id": notice,
                                          "recipients": ORDINARY[:1]})["send_id"]  # fmt: skip
    hand_over(api)
    before = unit_moves(api, account)
    for token in (key, other_key):
        assert_problem(post_receipts(api, [receipt(f"{send_id}.0")], token=token), 403,
                       "forbidden")  # fmt: skip
    assert unit_moves(api, account) == before
    assert other  # the other account exists and is funded, untouched too
    assert_ledger_verifies(api)


def test_S9_Q7_a_receipt_for_a_message_failed_over_its_limit_is_ignored(any_api: Api) -> None:
    """S9: the 11th code in an hour never reached the carrier (failed and refunded at once):
    a receipt about it is not about anything the carrier had."""
    api = any_api
    account, key = funded_account(api)
    template = business_template(api, account, key)
    ids = []
    for n in range(11):
        r = post_message(api, account, key, {"template_id": template, "phone": ORDINARY[0],
                                             "variables": {"code": f"{n:06d}"}})  # fmt: skip
        assert r.status_code == 202, r.text
        ids.append(r.json()["message_id"])
    hand_over(api)
    limited = get_message(api, ids[10])
    assert (limited["status"], limited["reason"]) == ("failed", "recipient_rate_limited")
    before = unit_moves(api, account)
    body = outcome(api, [receipt(ids[10], "failed"), receipt(ids[10], "delivered")])
    assert reasons(body) == [("ignored", "not_handed_over")] * 2
    assert unit_moves(api, account) == before
    assert_ledger_verifies(api)


def test_S8_a_receipt_for_a_number_skipped_as_opted_out_is_ignored(any_api: Api) -> None:
    """A number that opted out while its marketing send waited is skipped when it goes out:
    failed, never charged, never handed over."""
    api = any_api
    account, key = funded_account(api)
    marketing = mass_template(api, account, key, kind="marketing")
    send_id = send_ok(api, account, key, {"template_id": marketing,
                                          "recipients": ORDINARY[:2]})["send_id"]  # fmt: skip
    r = api.client.post("/v1/carrier/replies", headers=auth(CARRIER_TOKEN), json={
        "replies": [{"phone": ORDINARY[0], "text": "TD", "account_id": account}]})  # fmt: skip
    assert r.status_code == 200, r.text
    advance(api, 1800)  # the provider's review passes (S8): it goes out without ORDINARY[0]
    skipped = get_message(api, f"{send_id}.0")
    assert (skipped["status"], skipped["reason"]) == ("failed", "opted_out")
    before = unit_moves(api, account)
    body = outcome(api, [receipt(f"{send_id}.0", "failed"), receipt(f"{send_id}.0", "delivered")])
    assert reasons(body) == [("ignored", "not_handed_over")] * 2
    assert unit_moves(api, account) == before
    assert_ledger_verifies(api)
