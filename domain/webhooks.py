"""Webhooks (回调): an account's endpoints, told what happened to what it sent (contract:
Webhooks, Standard Webhooks).

An endpoint subscribes to event types and signs every delivery with its secret. The secret
itself is never in an event (events are published to Kafka and kept forever): an event says
which version of the secret is current, and the secret's bytes live in their own table
(``adapters/webhook_secrets.py``). Rotating makes a new version current and keeps the one
before valid for 24 hours, so a receiver can switch without losing a delivery: during the
overlap every delivery carries both signatures.

Delivery is at least once, retried on the service clock for more than 24 hours
(``RETRY_AFTER``, each wait stretched by a random factor the caller draws, so receivers that
came back are not hit by every sender at the same instant). A 410 from the receiver disables
the endpoint at once; failing for 5 days disables it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from .errors import DomainError, FieldProblem, InvalidInput

MESSAGE_STATUS = "message.status"
SEND_STATUS = "send.status"
REPLY_RECEIVED = "reply.received"
TEMPLATE_REVIEWED = "template.reviewed"
BALANCE_LOW = "balance.low"
EVENT_TYPES = (MESSAGE_STATUS, SEND_STATUS, REPLY_RECEIVED, TEMPLATE_REVIEWED, BALANCE_LOW)

# waits before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (27 h 35 min in all)
RETRY_AFTER = tuple(
    timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000)
)  # fmt: skip
JITTER = (0.9, 1.1)  # each wait is stretched by a factor drawn from this range
SECRET_OVERLAP = timedelta(hours=24)  # the secret before a rotation still signs this long
DISABLE_AFTER = timedelta(days=5)  # failing this long without a success disables an endpoint
MAX_ENDPOINTS = 10  # per account
MAX_BATCH = 100  # message.status events per delivery, for an endpoint that batches


class WebhookNotFound(DomainError):
    code = "not_found"
    title = "Not found"


class TooManyWebhooks(DomainError):
    code = "too_many_webhooks"
    title = "Too many webhooks"


def registry_id(account_id: UUID) -> UUID:
    """The id of an account's webhook registry (one per account, derived from it)."""
    return uuid5(NAMESPACE_URL, f"smsplat:webhooks:{account_id}")


def retry_at(attempts: int, failed_at: datetime, stretch: float) -> datetime | None:
    """When the next attempt is due after ``attempts`` failed ones (the last at
    ``failed_at``), ``stretch`` drawn from ``JITTER``; None once the schedule is spent."""
    if attempts > len(RETRY_AFTER):
        return None
    low, high = JITTER
    return failed_at + RETRY_AFTER[attempts - 1] * min(max(stretch, low), high)


def failing_too_long(failing_since: datetime, now: datetime) -> bool:
    """Every attempt since ``failing_since`` failed, for ``DISABLE_AFTER``: the endpoint is
    disabled (and the account told, as for a low balance)."""
    return now - failing_since >= DISABLE_AFTER


GONE_REASON, FAILING_REASON = "gone", "failing"  # why an endpoint was disabled

DELIVERED, GONE, RETRY = "delivered", "gone", "retry"


def answer_means(status_code: int | None, error: str | None) -> str:
    """A 2xx is delivered; a 410 says the receiver is gone for good (the endpoint is
    disabled); anything else (another status, a redirect, a timeout, no answer) is tried
    again on the schedule."""
    if status_code is not None and 200 <= status_code < 300 and error is None:
        return DELIVERED
    if status_code == 410:
        return GONE
    return RETRY


def check_endpoint(url: object, events: object, description: object, allow_http: bool) -> None:
    """The endpoint's fields as given: every problem listed (nothing is stored)."""
    problems: list[FieldProblem] = []
    if not isinstance(url, str) or not _url_ok(url, allow_http):
        scheme = "http(s)" if allow_http else "https"
        problems.append(FieldProblem(
            "url", "invalid_url", f"The URL must be an absolute {scheme} URL with a host.",
            f"回调地址必须是带主机名的完整 {scheme} 地址。",
        ))  # fmt: skip
    if (
        not isinstance(events, list)
        or not events
        or any(e not in EVENT_TYPES for e in events)
        or len(set(events)) != len(events)
    ):
        problems.append(FieldProblem(
            "events", "invalid_events",
            f"Give one or more distinct event types of: {', '.join(EVENT_TYPES)}.",
            f"请选择一个或多个不重复的事件类型：{'、'.join(EVENT_TYPES)}。",
        ))  # fmt: skip
    if description is not None and (not isinstance(description, str) or len(description) > 200):
        problems.append(FieldProblem(
            "description", "invalid_description", "The description is text of at most 200 "
            "characters.", "描述最多200个字符。",
        ))  # fmt: skip
    if problems:
        raise InvalidInput(problems[0].message, problems)


def _url_ok(url: str, allow_http: bool) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    schemes = ("https", "http") if allow_http else ("https",)
    return parts.scheme in schemes and bool(parts.hostname) and not parts.username


class WebhookEndpoint(Aggregate):
    class Created(Aggregate.Created):
        account_id: str
        url: str
        events: list[str]
        description: str | None
        batch: bool  # message.status events go in batches of up to MAX_BATCH

    class SecretRotated(Aggregate.Event):
        """A new secret version is current; the one before signs until ``previous_until``."""

        version: int
        previous_until: datetime

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, WebhookEndpoint)
            aggregate.previous_until = self.previous_until
            aggregate.secret_version = self.version

    class Disabled(Aggregate.Event):
        """No more deliveries: the receiver answered 410, or failed for 5 days."""

        reason: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, WebhookEndpoint)
            aggregate.disabled_reason = self.reason

    class Deleted(Aggregate.Event):
        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, WebhookEndpoint)
            aggregate.deleted = True

    def __init__(
        self, account_id: str, url: str, events: list[str], description: str | None, batch: bool
    ) -> None:
        self.account_id = account_id
        self.url = url
        self.events = list(events)
        self.description = description
        self.batch = batch
        self.secret_version = 1
        self.previous_until: datetime | None = None
        self.disabled_reason: str | None = None
        self.deleted = False

    @classmethod
    def create(
        cls,
        webhook_id: UUID,
        account_id: UUID,
        url: object,
        events: object,
        description: object,
        batch: bool,
        allow_http: bool,
        at: datetime,
    ) -> WebhookEndpoint:
        check_endpoint(url, events, description, allow_http)
        assert isinstance(url, str) and isinstance(events, list)
        return cls._create(
            cls.Created, id=webhook_id, account_id=str(account_id), url=url,
            events=[str(e) for e in events],
            description=description if isinstance(description, str) else None,
            batch=batch, timestamp=at,
        )  # fmt: skip

    @property
    def active(self) -> bool:
        return not self.deleted and self.disabled_reason is None

    def subscribes(self, event_type: str) -> bool:
        return self.active and event_type in self.events

    def secret_versions(self, now: datetime) -> list[int]:
        """The versions that sign a delivery at ``now``: the current one, and the one before
        during a rotation's overlap."""
        if self.previous_until is not None and now < self.previous_until:
            return [self.secret_version, self.secret_version - 1]
        return [self.secret_version]

    def rotate(self, at: datetime) -> int:
        """A new secret version (its bytes are stored before this is saved); returns it."""
        self._check_not_deleted()
        version = self.secret_version + 1
        self.trigger_event(
            self.SecretRotated, version=version, previous_until=at + SECRET_OVERLAP, timestamp=at
        )
        return version

    def disable(self, reason: str, at: datetime) -> None:
        if self.active:
            self.trigger_event(self.Disabled, reason=reason, timestamp=at)

    def delete(self, at: datetime) -> None:
        self._check_not_deleted()
        self.trigger_event(self.Deleted, timestamp=at)

    def _check_not_deleted(self) -> None:
        if self.deleted:
            raise WebhookNotFound(f"No webhook {self.id}.")


class WebhookRegistry(Aggregate):
    """An account's endpoints: what the dispatcher looks up for each event of the account,
    and where the limit of ``MAX_ENDPOINTS`` is kept."""

    class Opened(Aggregate.Created):
        account_id: str

    class Added(Aggregate.Event):
        webhook_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, WebhookRegistry)
            aggregate.webhook_ids.append(self.webhook_id)

    class Removed(Aggregate.Event):
        webhook_id: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, WebhookRegistry)
            aggregate.webhook_ids.remove(self.webhook_id)

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.webhook_ids: list[str] = []

    @classmethod
    def open(cls, account_id: UUID, at: datetime) -> WebhookRegistry:
        return cls._create(
            cls.Opened, id=registry_id(account_id), account_id=str(account_id), timestamp=at
        )

    def add(self, webhook_id: UUID, at: datetime) -> None:
        if len(self.webhook_ids) >= MAX_ENDPOINTS:
            raise TooManyWebhooks(f"An account has at most {MAX_ENDPOINTS} webhooks.")
        self.trigger_event(self.Added, webhook_id=str(webhook_id), timestamp=at)

    def remove(self, webhook_id: UUID, at: datetime) -> None:
        if str(webhook_id) in self.webhook_ids:
            self.trigger_event(self.Removed, webhook_id=str(webhook_id), timestamp=at)

    @property
    def endpoints(self) -> Sequence[UUID]:
        return [UUID(w) for w in self.webhook_ids]
