"""The Kafka entry point on fakes: every account command, the same bodies and answers as
HTTP, one effect per ``command_id`` (the broker itself is tested in
``tests/integration/test_kafka.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from smsplat.api.kafka_commands import KafkaCommands
from smsplat.domain.audience import customer_id

from tests.service.world import World, world

NUMBERS = [f"1381234{n:04d}" for n in range(10, 15)]


class MemoryCommandLog:
    def __init__(self) -> None:
        self.kept: dict[str, dict[str, Any]] = {}

    def outcome_of(self, command_id: str) -> dict[str, Any] | None:
        return self.kept.get(command_id)

    def record(self, command_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        return self.kept.setdefault(command_id, outcome)

    def record_all(self, outcomes: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        return [self.record(command_id, outcome) for command_id, outcome in outcomes]


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


class SaveCounter:
    """Counts the audience application's saves (each is one transaction)."""

    def __init__(self, w: World) -> None:
        self.count = 0
        save = w.audience.save

        def counted(*aggregates: Any, **kwargs: Any) -> Any:
            self.count += 1
            return save(*aggregates, **kwargs)

        w.audience.save = counted


def customer_sync(account: object, phone: str, **more: Any) -> dict[str, Any]:
    return envelope("sync_customer", account, {"condition": "site_member", "phone": phone, **more})


def test_S4_consecutive_customer_syncs_of_an_account_are_saved_as_one_batch(w: World) -> None:
    account, other = w.account(), w.account()
    entry, saves = kafka(w), SaveCounter(w)
    commands = [customer_sync(account, n) for n in NUMBERS]
    commands.append(customer_sync(other, NUMBERS[0]))  # another account: another batch
    outcomes = list(entry.handle_many(commands))
    assert [o["command_id"] for o in outcomes] == [c["command_id"] for c in commands]
    assert all(o["ok"] and o["result"]["created"] for o in outcomes), outcomes
    assert saves.count == 2  # one for the five of the first account, one for the other's
    again = list(entry.handle_many(commands))  # delivered again: the same answers, no effect
    assert again == outcomes and saves.count == 2


def test_S4_a_bad_customer_sync_in_a_batch_is_answered_alone_and_the_rest_synced(
    w: World,
) -> None:
    account = w.account()
    commands = [customer_sync(account, NUMBERS[0]), customer_sync(account, "12345"),
                customer_sync(account, NUMBERS[1]), {"not": "a command"}]  # fmt: skip
    commands.insert(3, commands[2])  # the same command twice in a row: one effect, one answer
    outcomes = list(kafka(w).handle_many(commands))
    assert [o["ok"] for o in outcomes] == [True, False, True, True, False]
    assert outcomes[1]["code"] == "invalid_phone" and outcomes[2] == outcomes[3]
    for phone in NUMBERS[:2]:
        assert (
            w.audience.customer(customer_id(account, "site", phone, "site_member")).phone == phone
        )
