"""The webhook outbox: a handler of the quota log (``adapters/log_follower.py``) that turns
each stored event into deliveries for the account's endpoints that subscribe to what it
tells (``commands/webhook_events.py``), stored with the handler's tracking in one
transaction. The event log is the outbox's source: nothing is told that was not stored, and
everything stored is told, once per endpoint, whoever follows the log and whenever.

A send's events are read against the send as it stood before each one: the handler keeps
the sends it saw (an event applied to a copy of the one before), and reads a send at the
version before an event when it has not kept it (after a restart, or for an account that
had no endpoints until now).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from copy import deepcopy
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.utils import get_topic

from ..domain.quota import QuotaPool
from ..domain.replies import ReceivedReply
from ..domain.review_time import BEIJING
from ..domain.sending import Send
from ..domain.templates import Template
from ..domain.webhooks import MAX_BATCH, MESSAGE_STATUS, WebhookEndpoint
from .ports import DeliveryOutbox, NewDelivery, Notified
from .quota import QuotaApp
from .templates import TemplatesApp
from .webhook_events import (
    WebhookEvent,
    balance_events,
    message_events,
    reply_events,
    template_events,
)
from .webhooks import WebhooksApp

NAME = "webhook_outbox"

SEND_EVENTS = [
    Send.Accepted, Send.Rescheduled, Send.ProviderReviewPassed, Send.Cancelled,
    Send.SubmissionStarted, Send.HandoverClaimed, Send.BatchSubmitted, Send.ReceiptsRecorded,
    Send.MessagesExpired,
]  # fmt: skip
TOPICS = [get_topic(e) for e in [*SEND_EVENTS, QuotaPool.LowBalanceAlerted]]
TEMPLATE_TOPICS = [get_topic(e) for e in (Template.PreScreened, Template.Approved,
                                           Template.Rejected)]  # fmt: skip
REPLY_TOPICS = [get_topic(ReceivedReply.Received)]
KEPT_SENDS = 200  # sends kept as they stood after the last event seen
KEPT_ACCOUNTS = 100_000  # the accounts of the sends accepted last (a few MB)


class LogOutbox:
    """What one application's log tells webhooks: the shared loop. A subclass says whose
    account an event is and what it tells."""

    name = NAME
    topics: list[str] | None = None

    def __init__(self, webhooks: WebhooksApp, outbox: DeliveryOutbox) -> None:
        self.webhooks = webhooks
        self.outbox = outbox

    def position(self) -> int:
        return self.outbox.position(self.name)

    def process(self, start: int, batch: Sequence[Notified]) -> None:
        endpoints: dict[str, list[WebhookEndpoint]] = {}  # by account, for this batch
        deliveries: list[NewDelivery] = []
        for item in batch:
            account = self._account_of(item.event)
            if account is None:
                continue
            if account not in endpoints:
                endpoints[account] = [e for e in self.webhooks.endpoints(UUID(account)) if e.active]
            if not endpoints[account]:
                continue  # most accounts have none: their events are not even read
            told = self._told(item.event, account)
            deliveries += _deliveries(self.name, item.position, told, endpoints[account])
        self.outbox.enqueue(self.name, start, batch[-1].position, deliveries)

    def _account_of(self, event: Any) -> str | None:
        raise NotImplementedError

    def _told(self, event: Any, account: str) -> list[WebhookEvent]:
        raise NotImplementedError


class WebhookOutbox(LogOutbox):
    """The quota log: sends' messages and statuses, low-balance alerts."""

    name = NAME
    topics = TOPICS

    def __init__(self, quota: QuotaApp, webhooks: WebhooksApp, outbox: DeliveryOutbox) -> None:
        super().__init__(webhooks, outbox)
        self.quota = quota
        self._sends: OrderedDict[UUID, Send] = OrderedDict()
        # whose each send is, from its Accepted read in the log before its other events: a
        # code's events would otherwise each load the send to learn it
        self._accounts: OrderedDict[UUID, str] = OrderedDict()

    def _account_of(self, event: Any) -> str | None:
        if isinstance(event, QuotaPool.LowBalanceAlerted):
            pool: object = self.quota.repository.get(event.originator_id)
            return pool.account_id if isinstance(pool, QuotaPool) else None
        if isinstance(event, Send.Accepted):
            self._accounts[event.originator_id] = event.account_id
            while len(self._accounts) > KEPT_ACCOUNTS:
                self._accounts.popitem(last=False)
            return event.account_id
        if isinstance(event, Send.Event):
            known = self._accounts.get(event.originator_id)
            return known or str(self.quota.account_of(event.originator_id))
        return None

    def _told(self, event: Any, account: str) -> list[WebhookEvent]:
        if isinstance(event, QuotaPool.LowBalanceAlerted):
            return balance_events(event, account)
        before = self._send_before(event)
        after = event.mutate(deepcopy(before) if before is not None else None)
        assert isinstance(after, Send)
        self._keep(after)
        return message_events(before, event, after)

    def _send_before(self, event: Any) -> Send | None:
        version = event.originator_version
        kept = self._sends.get(event.originator_id)
        if kept is not None and kept.version == version - 1:
            return kept
        if version <= 1:
            return None
        send: object = self.quota.repository.get(event.originator_id, version=version - 1)
        assert isinstance(send, Send)
        return send

    def _keep(self, send: Send) -> None:
        self._sends[send.id] = send
        self._sends.move_to_end(send.id)
        while len(self._sends) > KEPT_SENDS:
            self._sends.popitem(last=False)


class TemplateOutbox(LogOutbox):
    """The templates log: a template's review decided (approved, rejected, or refused by the
    pre-screen)."""

    name = f"{NAME}:templates"
    topics = TEMPLATE_TOPICS

    def __init__(
        self, templates: TemplatesApp, webhooks: WebhooksApp, outbox: DeliveryOutbox
    ) -> None:
        super().__init__(webhooks, outbox)
        self.templates = templates

    def _account_of(self, event: Any) -> str | None:
        if isinstance(event, Template.PreScreened) and not event.refused:
            return None  # passed the pre-screen: a reviewer decides later
        template: object = self.templates.repository.get(event.originator_id)
        return template.account_id if isinstance(template, Template) else None

    def _told(self, event: Any, account: str) -> list[WebhookEvent]:
        return template_events(event, account)


class ReplyOutbox(LogOutbox):
    """The audience log: recipients' replies (``reply.received``)."""

    name = f"{NAME}:replies"
    topics = REPLY_TOPICS

    def _account_of(self, event: Any) -> str | None:
        return event.account_id if isinstance(event, ReceivedReply.Received) else None

    def _told(self, event: Any, account: str) -> list[WebhookEvent]:
        return reply_events(event)


def _deliveries(
    log: str, position: int, told: Sequence[WebhookEvent], endpoints: Sequence[WebhookEndpoint]
) -> list[NewDelivery]:
    """Each endpoint's deliveries of what one stored event told: one per event, or, for an
    endpoint that batches, its ``message.status`` in deliveries of up to ``MAX_BATCH``."""
    made: list[NewDelivery] = []
    for endpoint in endpoints:
        mine = [t for t in told if endpoint.subscribes(t.type) and t.at >= endpoint.created_on]
        singles = [t for t in mine if not (endpoint.batch and t.type == MESSAGE_STATUS)]
        statuses = [t for t in mine if endpoint.batch and t.type == MESSAGE_STATUS]
        units: list[tuple[str, str, datetime, dict[str, Any]]] = [
            (t.type, t.key, t.at, t.data) for t in singles
        ]
        for first in range(0, len(statuses), MAX_BATCH):
            chunk = statuses[first : first + MAX_BATCH]
            units.append((MESSAGE_STATUS, chunk[0].data["send_id"], chunk[0].at,
                          {"messages": [t.data for t in chunk]}))  # fmt: skip
        for k, (kind, key, at, data) in enumerate(units):
            ident = uuid5(NAMESPACE_URL, f"smsplat:webhook:{endpoint.id}:{log}:{position}:{k}")
            stamp = at.astimezone(BEIJING).isoformat()
            body = json.dumps({"type": kind, "timestamp": stamp, "data": data},
                              ensure_ascii=False, separators=(",", ":"))  # fmt: skip
            made.append(NewDelivery(f"msg_{ident.hex}", endpoint.id, endpoint.account_id, kind,
                                    key, position * 100_000 + k, body, at, at))  # fmt: skip
    return made
