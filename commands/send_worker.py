"""The send worker: hands accepted sends to the carrier, batch by batch (S5), durably.

It follows the quota application's notification log for ``Send.Accepted`` (and
``QuotaPool.LowBalanceAlerted``, whose alert SMS it sends, Q9). For each send it hands over the
next unrecorded batch of 100, records the carrier's answers in the send (refunding refusals in
the same save), and repeats; only when the whole send is handed over does its tracking row
move. A worker killed anywhere resumes with the first unrecorded batch; the carrier
deduplicates on our message ids, so a batch handed over just before the kill is not sent twice.
Two workers may run: a batch recorded by the other is simply skipped.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ..adapters.sql import SqlDatabase
from ..domain.errors import QuotaConflict
from ..domain.quota import QuotaPool
from ..domain.recipient_limits import RATE_LIMITED
from ..domain.sending import OPTED_OUT, Handover, MessageStatus, Send, message_id
from ..projections import tracking
from .ports import Carrier, Clock, OutgoingMessage, RecipientLimits
from .quota import QuotaApp

log = logging.getLogger(__name__)

NAME = "send_worker"
# a send is handed over once submitted: at once (Accepted) or when its time came (S6, S8)
TOPICS = [
    get_topic(Send.Accepted),
    get_topic(Send.SubmissionStarted),
    get_topic(QuotaPool.LowBalanceAlerted),
]


def alert_message_id(alert_id: str) -> str:
    return f"alert.{alert_id}"


def alert_text(available: int) -> str:
    """Q9: the low-balance SMS to the verification phone (a platform notice, not charged)."""
    return f"【短信平台】您的短信余量为{available}条,已低于30条,为免影响发送,请及时购买短信包。"


class SendWorker:
    def __init__(
        self,
        quota: QuotaApp,
        carrier: Carrier,
        db: SqlDatabase,
        clock: Clock,
        limits: RecipientLimits,
    ) -> None:
        self.quota = quota
        self.carrier = carrier
        self.limits = limits
        self.db = db
        self.clock = clock

    def create_tables(self) -> None:
        with self.db.transaction() as tx:
            tracking.ensure(tx, NAME, self.quota.name)

    def position(self) -> int:
        with self.db.reading() as tx:
            return tracking.position(tx, NAME)

    def run_once(self, limit: int = 20) -> int:
        """Hand over what was accepted since the last run; returns the notifications done."""
        start = self.position()
        notifications = self.quota.recorder.select_notifications(
            start=start, limit=limit, topics=TOPICS, inclusive_of_start=False
        )
        done = start
        for notification in notifications:
            event = self.quota.mapper.to_domain_event(notification)
            self._handle(event)
            try:
                with self.db.transaction() as tx:
                    tracking.advance(tx, NAME, done, notification.id)
            except tracking.StaleTracking:
                return len(notifications)  # another worker moved on: read again from there
            done = notification.id
        return len(notifications)

    def run_until_idle(self) -> int:
        total = 0
        while count := self.run_once():
            total += count
        return total

    def hand_over(self, send_id: UUID) -> None:
        """Hand every unrecorded batch of a send to the carrier, in order."""
        while True:
            send = self.quota.send(send_id)
            batch = send.next_batch
            if batch is None:
                return
            handovers = self._hand_over_batch(send, batch)
            try:
                self._record(send_id, batch, handovers)
            except QuotaConflict:
                continue  # another worker recorded this batch first: look again

    def _hand_over_batch(self, send: Send, batch: int) -> list[Handover]:
        """Give the carrier the batch's messages that are within the per-recipient limits
        (S9); the others fail with ``recipient_rate_limited`` and are refunded (Q7)."""
        now = self.clock.now()
        indices = list(send.batch_indices(batch))
        skipped = [i for i in indices if send.message_status(i) is MessageStatus.FAILED]
        indices = [i for i in indices if i not in skipped]  # opted out before submission
        limited: set[int] = set()
        if send.limit_category is not None:
            ids = [(message_id(send.id, i), send.recipients[i]) for i in indices]
            allowed = self.limits.admit(send.limit_category, ids, now)
            limited = {i for i in indices if message_id(send.id, i) not in allowed}
        outgoing = [i for i in indices if i not in limited]
        messages = [
            OutgoingMessage(message_id(send.id, i), send.recipients[i], send.text) for i in outgoing
        ]
        answers = self.carrier.submit(messages, now) if messages else []
        return (
            [Handover(i, None, OPTED_OUT) for i in skipped]
            + [Handover(i, None, RATE_LIMITED) for i in limited]
            + [
                Handover(i, a.carrier_message_id, a.error)
                for i, a in zip(outgoing, answers, strict=True)
            ]
        )

    def _record(self, send_id: UUID, batch: int, handovers: list[Handover]) -> None:
        self.quota.settle_send(send_id, lambda s, at: s.record_batch(batch, handovers, at))

    def _handle(self, event: Any) -> None:
        if isinstance(event, Send.Accepted | Send.SubmissionStarted):
            self.hand_over(event.originator_id)
        elif isinstance(event, QuotaPool.LowBalanceAlerted):
            alert = OutgoingMessage(
                alert_message_id(event.alert_id), event.phone, alert_text(event.available)
            )
            self.carrier.submit([alert], self.clock.now())
