"""The Kafka entry point on fakes: every account command, the same bodies and answers as
HTTP, one effect per ``command_id`` (the broker itself is tested in
``tests/integration/test_kafka.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from smsplat.api.kafka_commands import KafkaCommands

from tests.service.world import World, world

NUMBERS = [f"1381234{n:04d}" for n in range(10, 15)]


class MemoryCommandLog:
    def __init__(self) -> None:
        self.kept: dict[str, dict[str, Any]] = {}

    def outcome_of(self, command_id: str) -> dict[str, Any] | None:
        return self.kept.get(command_id)

    def record(self, command_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        return self.kept.setdefault(command_id, outcome)


@pytest.fixture
def w() -> World:
    return world()


def kafka(w: World) -> KafkaCommands:
    return KafkaCommands(w.bus, MemoryCommandLog(), w.accounts, w.quota)


def envelope(kind: str, account: object, payload: dict[str, Any]) -> dict[str, Any]:
    return {"command_id": f"cmd-{uuid.uuid4()}", "type": kind, "account_id": str(account),
            "product": "site", "issued_at": "2026-03-02T09:00:00+08:00",
            "payload": payload}  # fmt: skip


def test_S2_Q10_a_mass_send_over_kafka_has_one_effect_and_the_http_answer(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    entry = kafka(w)
    message = envelope("send_mass", account, {"template_id": str(template), "recipients": NUMBERS})
    first, again = entry.handle(message), entry.handle(message)
    assert first == again and first["ok"], first
    result = first["result"]
    assert set(result) >= {"send_id", "status", "accepted", "units", "rejected"}  # SendAcceptedOut
    assert (result["accepted"], result["units"]) == (5, 5)
    assert w.quota.balance(account).charged_total == 5  # delivered twice, charged once


def test_a_mass_send_dry_run_over_kafka_stores_nothing(w: World) -> None:
    account = w.account(units=1000)
    template = w.template(account)
    payload = {"template_id": str(template), "recipients_text": "\n".join(NUMBERS),
               "dry_run": True}  # fmt: skip
    outcome = kafka(w).handle(envelope("send_mass", account, payload))
    assert outcome["ok"] and outcome["result"]["sufficient"] is True
    assert w.quota.balance(account).charged_total == 0


def test_payloads_are_as_strict_as_http_bodies(w: World) -> None:
    account = w.account()
    template = w.template(account)
    typo = {"template_id": str(template), "recipients": NUMBERS, "dryrun": True}
    outcome = kafka(w).handle(envelope("send_mass", account, typo))
    assert (outcome["ok"], outcome["code"]) == (False, "validation_error")
    assert "dryrun" in outcome["detail"]
    two_sources = {"template_id": str(template), "recipients": NUMBERS, "recipients_text": "1"}
    outcome = kafka(w).handle(envelope("send_mass", account, two_sources))
    assert (outcome["ok"], outcome["code"]) == (False, "validation_error")
    assert w.quota.balance(account).charged_total == 0


def test_S7_an_account_cancels_only_its_own_sends_over_kafka(w: World) -> None:
    owner, other = w.account(), w.account()
    template = w.template(owner)
    payload = {"template_id": str(template), "recipients": NUMBERS,
               "scheduled_at": "2026-03-05T10:00:00+08:00"}  # fmt: skip
    sent = kafka(w).handle(envelope("send_mass", owner, payload))["result"]
    refused = kafka(w).handle(envelope("cancel_send", other, {"send_id": sent["send_id"]}))
    assert (refused["ok"], refused["code"]) == (False, "not_found")
    cancelled = kafka(w).handle(envelope("cancel_send", owner, {"send_id": sent["send_id"]}))
    assert cancelled["ok"] and cancelled["result"]["status"] == "cancelled"
    assert w.quota.balance(owner).locked == 0


def test_T1_templates_are_submitted_and_deleted_over_kafka(w: World) -> None:
    account = w.account()
    fields = {"type": "mass", "kind": "notice", "signature": "花店",
              "content": "会员日到店有礼，欢迎光临。"}  # fmt: skip
    submitted = kafka(w).handle(envelope("submit_template", account, fields))
    assert submitted["ok"] and submitted["result"]["status"] == "pending_review"
    template_id = submitted["result"]["template_id"]
    other = kafka(w).handle(envelope("delete_template", w.account(), {"template_id": template_id}))
    assert other["code"] == "not_found"  # another account's template is not found


def test_every_kafka_type_is_one_of_the_account_commands(w: World) -> None:
    account = w.account()
    outcome = kafka(w).handle(envelope("approve_template", account, {}))
    assert outcome["code"] == "validation_error"  # reviews are the operator's, over HTTP
    assert "send_mass" in outcome["detail"] and "sync_customer" in outcome["detail"]
