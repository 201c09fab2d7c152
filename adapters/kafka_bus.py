"""Kafka, the production bus (contract: ``sms.commands``, ``sms.command-results``,
``sms.events``), with kafka-python. Messages are UTF-8 JSON keyed by ``account_id``.

- ``CommandConsumer``: a consumer-group member on ``sms.commands``. Each command goes to
  the Kafka entry point's ``handle`` (``api/kafka_commands.py``, idempotent per
  ``command_id``) and its outcome to
  ``sms.command-results``; offsets are committed only after the outcomes are flushed, so a
  crash re-delivers, and the re-delivery is answered from the command log.
- ``EventPublisher``: follows every application's notification log and publishes each stored
  event once to ``sms.events``; its position moves (compare-and-set, like a read model's) only
  after the broker acknowledged the batch. Delivery is at least once: consumers dedupe on
  ``event_id``, which is derived from the aggregate and version, so a re-sent event keeps it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from kafka import KafkaConsumer, KafkaProducer
from kafka.serializer import Serializer

from ..commands.ports import Notified
from ..domain.extensions import REGISTRY_ID
from .tracking import SqlTracking

log = logging.getLogger(__name__)

COMMANDS = "sms.commands"
RESULTS = "sms.command-results"
EVENTS = "sms.events"
GROUP = "smsplat-commands"
BATCH = 500


class JsonValue(Serializer):  # type: ignore[misc]  # kafka-python has no type hints
    """Values: UTF-8 JSON (times in ISO 8601, ids as text)."""

    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        return json.dumps(data, ensure_ascii=False, default=_plain).encode()


class TextKey(Serializer):  # type: ignore[misc]
    """Keys: the account id as UTF-8 text (so one account's messages stay in order)."""

    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        return str(data).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, value_serializer=JsonValue(),
        key_serializer=TextKey(),
    )  # fmt: skip


class CommandConsumer:
    """``sms.commands`` in, an outcome per command to ``sms.results``; offsets committed only
    once every outcome of a poll is acknowledged. ``handle`` takes one partition's commands
    and yields their outcomes in order, so it may decide several together (a batch of
    customer syncs) and a failure part way resumes at the first command not answered."""

    def __init__(
        self,
        bootstrap: str,
        handle: Callable[[Sequence[object]], Iterable[dict[str, Any]]],
        group_id: str = GROUP,
        poll_interval_ms: int = 5000,
    ) -> None:
        self.handle = handle
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.poll_interval_ms = poll_interval_ms
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None

    def run_once(self) -> int:
        """Handle what one poll brings; returns how many commands. The clients connect on
        first use, so a broker that is down only delays this loop (it retries)."""
        consumer, producer_ = self._clients()
        batches = list(consumer.poll(timeout_ms=200).items())
        done = 0
        for n, (partition, records) in enumerate(batches):
            answered = 0
            messages = [_decoded(r.value) for r in records]
            try:
                for outcome in self.handle(messages):
                    self._answer(records[answered].key, messages[answered], outcome)
                    answered += 1
            except Exception:
                # a failure, not a refusal (the database is down, ...): come back to it
                if answered < len(records):
                    consumer.seek(partition, records[answered].offset)
                for later, rest in batches[n + 1 :]:
                    consumer.seek(later, rest[0].offset)
                producer_.flush()
                consumer.commit()
                raise
            done += answered
        if done:
            producer_.flush()  # every outcome acknowledged before the commands are committed
            consumer.commit()
        return done

    def assigned(self) -> bool:
        """Whether the group gave this member partitions yet."""
        return self._consumer is not None and bool(self._consumer.assignment())

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
        if self._producer is not None:
            self._producer.close()

    def _clients(self) -> tuple[KafkaConsumer, KafkaProducer]:
        if self._consumer is None or self._producer is None:
            self._producer = self._producer or producer(self.bootstrap)
            self._consumer = KafkaConsumer(
                COMMANDS, bootstrap_servers=self.bootstrap, group_id=self.group_id,
                enable_auto_commit=False, auto_offset_reset="earliest",
                max_poll_interval_ms=max(self.poll_interval_ms, 5000),
                session_timeout_ms=6000, heartbeat_interval_ms=1000, max_poll_records=BATCH,
            )  # fmt: skip
        return self._consumer, self._producer

    def _answer(self, key: bytes | None, message: object, outcome: dict[str, Any]) -> None:
        account = message.get("account_id") if isinstance(message, dict) else None
        partition_key = str(account) if account else (key or b"").decode(errors="replace")
        _, producer_ = self._clients()
        producer_.send(RESULTS, outcome, key=partition_key)


def _decoded(value: bytes) -> object:
    """A command as JSON, or None when it is not JSON (``handle`` answers it as invalid)."""
    try:
        message: object = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        message = None
    return message


class EventPublisher:
    """Every stored event of one application to ``sms.events``: a handler of that
    application's log follower (``adapters/log_follower.py``). The batch is published with
    ``acks=all`` and flushed before the tracking row moves: at least once, never skipped."""

    topics = None  # every event

    def __init__(self, bootstrap: str, app: Application[UUID], tracking: SqlTracking) -> None:
        self.app = app
        self.name = f"kafka_events:{app.name}"
        self.tracking = tracking
        self.bootstrap = bootstrap
        self._producer: KafkaProducer | None = None
        self._accounts: dict[UUID, str] = {}

    def create_tables(self) -> None:
        self.tracking.ensure(self.name, self.app.name)

    def position(self) -> int:
        return self.tracking.position(self.name)

    def process(self, start: int, batch: Sequence[Notified]) -> None:
        for item in batch:
            envelope = self._envelope(item.event)
            self.producer.send(EVENTS, envelope, key=envelope["account_id"] or "")
        self.producer.flush()  # acknowledged (acks=all) before the position moves
        # False: another publisher sent them too (at least once: deduped on event_id)
        self.tracking.advance(self.name, start, batch[-1].position)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()

    @property
    def producer(self) -> KafkaProducer:
        """Connected on first use (see ``CommandConsumer.run_once``)."""
        if self._producer is None:
            self._producer = producer(self.bootstrap)
        return self._producer

    def _envelope(self, event: Any) -> dict[str, Any]:
        data = {k: v for k, v in event.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp")}  # fmt: skip
        return {
            "event_id": str(
                uuid5(NAMESPACE_URL, f"{event.originator_id}:{event.originator_version}")
            ),
            "type": type(event).__qualname__,
            "account_id": self._account_of(event),
            "aggregate_id": str(event.originator_id),
            "aggregate_version": event.originator_version,
            "occurred_at": event.timestamp.isoformat(),
            "data": data,
        }

    def _account_of(self, event: Any) -> str | None:
        """Most events name their account; a quota pool's entries do not (the pool does)."""
        account = getattr(event, "account_id", None)
        if account:
            return str(account)
        if event.originator_id == REGISTRY_ID:  # the extension codes' registry: no account
            return None
        if self.app.name == "accounts":
            return str(event.originator_id)
        if event.originator_id not in self._accounts:
            aggregate: object = self.app.repository.get(event.originator_id, version=1)
            self._accounts[event.originator_id] = str(getattr(aggregate, "account_id", ""))
        return self._accounts[event.originator_id] or None


def event_id(aggregate_id: UUID, version: int) -> str:
    """The same for every delivery of one stored event."""
    return str(uuid5(NAMESPACE_URL, f"smsplat:event:{aggregate_id}:{version}"))
