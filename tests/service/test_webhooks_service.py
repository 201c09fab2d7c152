"""Webhooks on fakes of the ports: what the outbox makes of a send's life, in order, signed
with the endpoint's secrets; retries on the schedule; 410; rotation; another account's."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from smsplat.commands.command_types import (
    CreateWebhook,
    DeleteWebhook,
    RecordReceipts,
    RecordReplies,
    RejectTemplate,
    ReplayWebhook,
    RetryWebhookDelivery,
    RotateWebhookSecret,
    SendMassSend,
    SubmitTemplate,
)
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.carrier_lines import ReportedReceipt
from smsplat.domain.sending import message_id
from smsplat.domain.webhooks import RETRY_AFTER, WebhookNotFound

from tests.service.world import World, world

NUMBERS = ["13812340010", "13812340011", "13812340012"]


@pytest.fixture
def w() -> World:
    return world()


def bodies(w: World) -> list[dict[str, object]]:
    return [json.loads(body) for _, _, body, _ in w.receivers.posted]


def test_a_sends_life_reaches_its_endpoint_in_order_per_message(w: World) -> None:
    account = w.account()
    hook = w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/hook",
                                      ["message.status", "send.status"], None, False))  # fmt: skip
    assert hook.secret.startswith("whsec_")
    template = w.template(account)
    send = w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a")).send
    w.hand_over_all()
    first, second = message_id(send.id, 0), message_id(send.id, 1)
    w.bus.handle(RecordReceipts([ReportedReceipt(first, "delivered"),
                                 ReportedReceipt(second, "failed")]))  # fmt: skip
    w.tell_webhooks()
    told = bodies(w)
    statuses = [(b["data"]["message_id"], b["data"]["status"])  # type: ignore[index]
                for b in told if b["type"] == "message.status"]  # fmt: skip
    assert [s for m, s in statuses if m == first] == ["sending", "success"]
    assert [s for m, s in statuses if m == second] == ["sending", "failed"]
    failed = next(b["data"] for b in told if b["type"] == "message.status"
                  and b["data"]["status"] == "failed")  # type: ignore[index]  # fmt: skip
    assert failed["reason"] == "delivery_failed" and failed["phone"] == NUMBERS[1]  # type: ignore[index]
    sends = [b["data"]["status"] for b in told if b["type"] == "send.status"]  # type: ignore[index]
    assert sends == ["submitting", "submitted"]
    assert all(secrets == [hook.secret] for _, _, _, secrets in w.receivers.posted)
    assert w.tell_webhooks() == 0  # all delivered: nothing again


def test_a_failing_receiver_is_retried_on_the_schedule_then_given_up_and_retried_on_request(
    w: World,
) -> None:
    account = w.account()
    w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/hook", ["send.status"], None, False))
    template = w.template(account)
    w.receivers.answer = 500
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS[:1]), None, "site", "a"))
    assert w.tell_webhooks() == 1
    (delivery,) = w.outbox.rows.values()
    for wait in RETRY_AFTER:
        assert w.tell_webhooks() == 0  # not due yet
        w.clock.advance(wait.total_seconds())
        assert w.tell_webhooks() == 1
    assert delivery.status == "failed" and delivery.attempts == len(RETRY_AFTER) + 1
    w.receivers.answer = 204
    assert w.bus.handle(RetryWebhookDelivery(delivery.new.delivery_id, account))
    assert w.tell_webhooks() == 1 and delivery.status == "delivered"
    ids = {d for _, d, _, _ in w.receivers.posted}
    assert ids == {delivery.new.delivery_id}  # the same webhook-id on every attempt


def test_410_disables_the_endpoint_and_gives_up_what_waits(w: World) -> None:
    account = w.account()
    hook = w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/hook",
                                      ["message.status"], None, False))  # fmt: skip
    template = w.template(account)
    w.receivers.answer = 410
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a"))
    w.hand_over_all()
    w.tell_webhooks()
    assert w.webhooks.endpoint(hook.endpoint.id, account).disabled_reason == "gone"
    posted = len(w.receivers.posted)  # the round in flight when the first 410 came, at most
    assert 1 <= posted <= len(NUMBERS)
    assert {r.status for r in w.outbox.rows.values()} <= {"failed", "cancelled"}
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS), None, "site", "a"))
    w.hand_over_all()
    w.tell_webhooks()
    assert len(w.receivers.posted) == posted  # disabled: nothing more goes to it


def test_during_a_rotation_both_secrets_sign_for_24_hours(w: World) -> None:
    account = w.account()
    hook = w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/h", ["send.status"], None,
                                      False))  # fmt: skip
    rotated = w.bus.handle(RotateWebhookSecret(hook.endpoint.id, account))
    assert rotated.secret != hook.secret
    assert w.webhooks.signing_secrets(rotated.endpoint) == [rotated.secret, hook.secret]
    w.clock.advance(timedelta(hours=24).total_seconds())
    assert w.webhooks.signing_secrets(w.webhooks.endpoint(hook.endpoint.id, account)) == [
        rotated.secret
    ]


def test_another_accounts_webhook_is_not_found(w: World) -> None:
    mine, theirs = w.account(), w.account()
    hook = w.bus.handle(CreateWebhook(mine, "http://127.0.0.1:9/h", ["send.status"], None, False))
    for command in (RotateWebhookSecret(hook.endpoint.id, theirs),
                    DeleteWebhook(hook.endpoint.id, theirs)):  # fmt: skip
        with pytest.raises(WebhookNotFound):
            w.bus.handle(command)
    assert w.webhooks.endpoints(theirs) == []
    w.bus.handle(DeleteWebhook(hook.endpoint.id, mine))
    assert w.webhooks.endpoints(mine) == []


def test_a_batching_endpoint_gets_message_statuses_in_hundreds(w: World) -> None:
    account = w.account(units=1000)
    w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/h", ["message.status"], None, True))
    template = w.template(account)
    many = [f"139{n:08d}" for n in range(250)]
    w.bus.handle(SendMassSend(account, template, Numbers(many), None, "site", "a"))
    w.hand_over_all()
    w.tell_webhooks()
    sizes = [len(b["data"]["messages"]) for b in bodies(w)]  # type: ignore[index]
    assert sorted(sizes) == [50, 100, 100]


def test_replay_sends_again_everything_since_a_time_with_the_same_ids(w: World) -> None:
    account = w.account()
    hook = w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/h", ["send.status"], None,
                                      False))  # fmt: skip
    template = w.template(account)
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS[:1]), None, "site", "a"))
    w.hand_over_all()
    w.tell_webhooks()
    w.clock.advance(3600)
    since = w.clock.now()
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS[1:2]), None, "site", "a"))
    w.hand_over_all()
    w.tell_webhooks()
    first = list(w.receivers.posted)
    assert len(first) == 4  # submitting and submitted, for each of two sends
    assert w.bus.handle(ReplayWebhook(hook.endpoint.id, account, since)) == 2
    assert w.tell_webhooks() == 2
    assert [d for _, d, _, _ in w.receivers.posted[4:]] == [d for _, d, _, _ in first[2:]]
    with pytest.raises(WebhookNotFound):
        w.bus.handle(ReplayWebhook(hook.endpoint.id, w.account(), since))


def test_a_templates_review_is_told_approved_or_rejected(w: World) -> None:
    account = w.account()
    w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/h", ["template.reviewed"], None,
                               False))  # fmt: skip
    approved = w.template(account)
    submitted = w.bus.handle(SubmitTemplate(account, "mass", "notice", None, "花店",
                                            "会员日到店有礼，欢迎光临。", "a"))  # fmt: skip
    w.bus.handle(RejectTemplate(submitted.id, "请写明活动主题", "operator"))
    w.tell_webhooks()
    told: dict[str, Any] = {b["data"]["template_id"]: b["data"] for b in bodies(w)}  # type: ignore[index]
    assert told[str(approved)]["status"] == "approved"
    assert told[str(submitted.id)]["status"] == "rejected"
    assert told[str(submitted.id)]["reason"] == "请写明活动主题"


def test_a_reply_is_told_once_opt_out_or_not_even_when_the_carrier_gives_it_twice(
    w: World,
) -> None:
    account, other = w.account(), w.account()
    w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/h", ["reply.received"], None,
                               False))  # fmt: skip
    at = w.clock.now().isoformat()
    replies: list[object] = [
        {"phone": NUMBERS[0], "text": "好的，明天到", "at": at, "account_id": str(account)},
        {"phone": NUMBERS[1], "text": "TD", "account_id": str(account), "reply_id": "mo-7"},
        {"phone": NUMBERS[2], "text": "收到", "at": at, "account_id": str(other)},
    ]
    outcome = w.bus.handle(RecordReplies(replies))
    assert [(r.outcome, r.accounts) for r in outcome.results] == [
        ("ignored", (str(account),)), ("opted_out", (str(account),)), ("ignored", (str(other),)),
    ]  # fmt: skip
    w.clock.advance(1)  # the carrier gives both again, later: the same replies
    w.bus.handle(RecordReplies(replies[:2]))
    w.tell_webhooks()
    told = [b["data"] for b in bodies(w) if b["type"] == "reply.received"]
    assert [(d["phone"], d["text"], d["opt_out"]) for d in told] == [  # type: ignore[index]
        (NUMBERS[0], "好的，明天到", False), (NUMBERS[1], "TD", True),
    ]  # fmt: skip
    assert len({d["reply_id"] for d in told}) == 2  # type: ignore[index]


def test_an_endpoint_failing_for_5_days_is_disabled_and_the_account_told_once(
    w: World,
) -> None:
    account = w.account()
    hook = w.bus.handle(CreateWebhook(account, "http://127.0.0.1:9/hook", ["send.status"], None,
                                      False))  # fmt: skip
    template = w.template(account)
    w.receivers.answer = 500

    def a_day_of_failures() -> None:  # something to tell every day, and every retry due
        w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS[:1]), None, "site", "a"))
        for _ in range(24):
            w.clock.advance(3600)
            w.tell_webhooks()

    for _ in range(4):
        a_day_of_failures()
    assert w.webhooks.endpoint(hook.endpoint.id, account).active  # 4 days: still on
    w.receivers.answer = 204
    w.bus.handle(SendMassSend(account, template, Numbers(NUMBERS[:1]), None, "site", "a"))
    w.tell_webhooks()  # one delivered: the streak starts again
    w.receivers.answer = 500
    for _ in range(4):
        a_day_of_failures()
    assert w.webhooks.endpoint(hook.endpoint.id, account).active
    a_day_of_failures()
    a_day_of_failures()  # an attempt 5 days after the streak's first failure
    endpoint = w.webhooks.endpoint(hook.endpoint.id, account)
    assert endpoint.disabled_reason == "failing"
    notices = [m for m in w.carrier.given if m.message_id.startswith("alert.webhook-disabled")]
    assert [(m.phone, "127.0.0.1" in m.text) for m in notices] == [("13800138000", True)]
    assert {r.status for r in w.outbox.rows.values()} <= {"delivered", "failed", "cancelled"}
    posted = len(w.receivers.posted)
    a_day_of_failures()
    assert len(w.receivers.posted) == posted  # disabled: nothing more goes to it
