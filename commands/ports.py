"""Ports: what the application services need from the outside world.

Adapters in ``smsplat.adapters`` implement them; tests use the in-memory fakes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import StoredEvent


class Clock(Protocol):
    """The service's time. Never ``datetime.now()`` in the domain: it takes ``at`` from here."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class ChangeListener(Protocol):
    """Told after events were stored, so in-process followers wake at once (not after polling)."""

    def __call__(self) -> None: ...


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message for one recipient, as handed to the carrier."""

    message_id: str  # ours (the carrier keeps its own ids; it deduplicates on nothing)
    phone: str
    text: str
    extension: str = ""  # the account's code, sent after the carrier's source_addr


@dataclass(frozen=True)
class Submission:
    """The carrier's answer for one message: accepted (with its id) or refused at once."""

    message_id: str
    accepted: bool
    carrier_message_id: str | None
    error: str | None = None


@dataclass(frozen=True)
class Receipt:
    """A delivery report: ``delivered`` or ``failed``, at the carrier's time."""

    message_id: str
    status: str
    at: datetime


class Carrier(Protocol):
    """The SMS carrier. ``submit`` is not idempotent: handing a message over again is a second
    SMS to a person, so the send worker claims each batch before handing it over (S5).

    ``batches_per_claim``: how many batches a worker claims and hands over in one call. One
    where a crash would resend the whole claim; more where the carrier's own records bound
    what a crash resends (SMPP's journal: a window), so its line stays full between batches.
    """

    batches_per_claim: int

    def submit(self, messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        """Hand over the claimed batches' messages; one answer per message, in order."""
        ...


@dataclass(frozen=True)
class CarrierReply:
    """A recipient's reply (MO) as a real carrier passed it on, kept until recorded."""

    reply_id: str
    phone: str  # the recipient, as an 11-digit mainland mobile
    destination: str  # the number it answered (our source_addr and any extension)
    extension: str  # what followed the carrier's source_addr in it: the account's code
    text: str
    at: datetime


class CarrierReplies(Protocol):
    """Replies the real carriers took, each given to the platform at least once."""

    def due_replies(self, limit: int = 1000) -> list[CarrierReply]: ...

    def replies_recorded(self, reply_ids: Sequence[str]) -> None:
        """They were recorded: never given again."""
        ...


class RecipientLimits(Protocol):
    """S9's counts of messages per recipient number (see ``domain/recipient_limits.py``)."""

    def admit(self, category: str, messages: Sequence[tuple[str, str]], at: datetime) -> set[str]:
        """The ids among ``(message id, phone)`` that may go to the carrier now; decided once
        per message id (a retry gets the same answer)."""
        ...

    def would_fail(self, category: str | None, phones: Sequence[str], at: datetime) -> list[str]:
        """The numbers that a message now would find over the limit."""
        ...


class AudienceDirectory(Protocol):
    """The audience context as sending sees it: synced customers (S4) and opt-outs, current
    as of the call (implementations catch their read models up first)."""

    def numbers(self, account_id: str, conditions: Sequence[str]) -> list[str]:
        """The distinct numbers of the account's customers meeting any of ``conditions``."""
        ...

    def named_numbers(
        self, account_id: str, conditions: Sequence[str]
    ) -> list[tuple[str, str | None]]:
        """The same numbers, each with its customer's name (None when it has none)."""
        ...

    def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        """Which of ``phones`` opted out of the account's marketing."""
        ...


@dataclass(frozen=True)
class Notified:
    """One stored event and its position in its application's notification log."""

    position: int
    event: Any


@runtime_checkable
class EventsOfMany(Protocol):
    """An event recorder that reads the events of many aggregates in one query (both of
    ours do: ``adapters/postgres_event_store.py``, ``adapters/sqlite_event_store.py``)."""

    def select_events_of(self, originator_ids: Sequence[UUID]) -> Sequence[StoredEvent]:
        """Every stored event of those aggregates, by aggregate and in version order."""
        ...


class Tracking(Protocol):
    """How far a handler of the event log has taken effect (a row per handler)."""

    def position(self, name: str) -> int: ...

    def advance(self, name: str, expected: int, new: int) -> bool:
        """Compare-and-set: False when another follower moved it first."""
        ...


class WebhookSecrets(Protocol):
    """The bytes of webhook secrets, by endpoint and version: kept out of the events (which
    are published and kept forever), stored so that they can still sign."""

    def keep(self, webhook_id: UUID, version: int, secret: str) -> str:
        """Store a new version's secret (before the event that makes it current is saved);
        returns the one stored for that version: ``secret``, or one a racing writer stored
        first (whichever is stored is the one that signs)."""
        ...

    def signing(self, webhook_id: UUID, versions: Sequence[int]) -> list[str]:
        """The secrets of ``versions`` that are stored, in that order."""
        ...


@dataclass(frozen=True)
class NewDelivery:
    """One webhook delivery to make: ``delivery_id`` is its ``webhook-id`` header, the same on
    every attempt, so a receiver dedupes on it."""

    delivery_id: str
    webhook_id: UUID
    account_id: str
    event_type: str
    key: str  # deliveries of one key to one endpoint go in order
    seq: int  # their order: the event's position in its log, then its place in the event
    body: str  # the JSON signed and sent, as is
    created_at: datetime
    due_at: datetime  # service clock


@dataclass(frozen=True)
class DueDelivery:
    delivery_id: str
    webhook_id: UUID
    account_id: str
    event_type: str
    body: str
    attempts: int  # made so far


@dataclass(frozen=True)
class DeliveryAttempt:
    """What one attempt got: a status code, or why there was none (timeout, refused, a
    private address); with its latency."""

    delivery_id: str
    webhook_id: UUID
    at: datetime  # service clock
    status_code: int | None
    error: str | None
    latency_ms: float


@dataclass(frozen=True)
class AnsweredDelivery:
    """What became of one attempt: delivered, or failed and due again at ``retry_at`` (None:
    given up)."""

    attempt: DeliveryAttempt
    delivered: bool
    retry_at: datetime | None = None
    gone: bool = False  # the receiver answered 410: the endpoint is disabled


class AccountNotices(Protocol):
    """The platform's own notices to an account (an SMS to its verification phone)."""

    def notify(self, account_id: str, notice_id: str, text: str) -> None:
        """Tell the account ``text``, once per ``notice_id`` however often asked."""
        ...


class DeliveryOutbox(Protocol):
    """Webhook deliveries waiting, made and failed (the outbox the dispatcher empties)."""

    def position(self, name: str) -> int: ...

    def enqueue(self, name: str, start: int, end: int, deliveries: Sequence[NewDelivery]) -> bool:
        """Store ``deliveries`` and move handler ``name``'s tracking from ``start`` to ``end``
        in one transaction; False (nothing stored) when another follower moved it first."""
        ...

    def claim_due(self, now: datetime, wall_now: datetime, limit: int) -> list[DueDelivery]:
        """Deliveries due at ``now``, each the oldest undelivered of its key and endpoint,
        leased to the caller for a minute of wall clock (a crashed dispatcher's come back)."""
        ...

    def answered(self, answers: Sequence[AnsweredDelivery]) -> dict[UUID, datetime]:
        """Answers kept, each delivery delivered, due again or given up, in one transaction
        (the dispatcher gives one at a time, as each post is answered). Returns, for each
        endpoint that only failed, since when it has been failing: its first failed attempt
        after its last delivery."""
        ...

    def cancel(self, webhook_id: UUID) -> int:
        """Give up every undelivered delivery of an endpoint (disabled or deleted)."""
        ...

    def next_due_after(self, now: datetime) -> datetime | None: ...

    def retry(self, delivery_id: str, account_id: str | None, now: datetime) -> bool:
        """Due again at ``now`` (a given-up delivery too); False when there is no such
        delivery for ``account_id`` (None: any account's)."""
        ...

    def replay(self, webhook_id: UUID, since: datetime, now: datetime) -> int:
        """Every delivery to an endpoint made since ``since`` (delivered ones too) due again
        at ``now``, with the same ids (receivers dedupe); returns how many."""
        ...


@dataclass(frozen=True)
class ReceiverAnswer:
    """What a webhook receiver answered: a status code, or why there was none."""

    status_code: int | None
    error: str | None
    latency_ms: float


class WebhookReceivers(Protocol):
    """Where deliveries go: signed, POSTed, never redirected, never to a private address
    unless the deployment allows it."""

    def post(self, url: str, delivery_id: str, body: str, secrets: Sequence[str]) -> ReceiverAnswer:
        """Sign ``body`` with every secret (Standard Webhooks) and POST it to ``url``."""
        ...
