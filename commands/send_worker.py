"""The send worker: hands accepted sends to the carrier, batch by batch (S5), once.

It is a handler of the quota application's log follower (``adapters/log_follower.py``), for
the sends released to the carrier (``Send.Accepted`` of a send going out at once,
``Send.SubmissionStarted`` of one whose time came) and ``QuotaPool.LowBalanceAlerted`` (whose
alert SMS it sends, Q9). For each send it claims the next batch, hands it over, records the
carrier's answers (refunding refusals in the same save), and repeats; only when the whole
send is handed over does its tracking row move.

A carrier deduplicates nothing, so the claim is what makes a hand-over happen once: any
number of workers (threads, processes, the simulated clock's stepping) may follow the log, and
a batch claimed by one is waited for by the others. A worker killed mid-batch leaves its
claim; once the claim's lease (wall clock) has run out, another worker takes the batch over
and hands its unsettled messages over again. So a crash sends at most the batches in flight
twice: one batch (100 messages, fewer when receipts settled some of them meanwhile) with the
simulated carrier; with SMPP, whose journal knows what each bind took, at most a window,
however many batches a claim covers (``Carrier.batches_per_claim``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic

from ..domain.errors import QuotaConflict
from ..domain.handover import Handover
from ..domain.quota import QuotaPool
from ..domain.recipient_limits import RATE_LIMITED
from ..domain.sending import BATCH_SIZE, Send, message_id
from .alert_handover import AlertHandover
from .ports import Carrier, Clock, Notified, OutgoingMessage, RecipientLimits, Tracking
from .quota import QuotaApp
from .send_lifecycle import SendLifecycle

log = logging.getLogger(__name__)

NAME = "send_worker"
# a send is handed over once submitted: at once (Accepted) or when its time came (S6, S8)
TOPICS = [
    get_topic(Send.Accepted),
    get_topic(Send.SubmissionStarted),
    get_topic(QuotaPool.LowBalanceAlerted),
]
BUSY_WAIT_SECONDS = 0.02  # how often a batch claimed by another worker is looked at again


def worker_name() -> str:
    """Who holds a claim, for people reading the events: host, process and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:6]}"


class SendWorker:
    name = NAME
    topics = TOPICS

    def __init__(
        self,
        quota: QuotaApp,
        lifecycle: SendLifecycle,
        alerts: AlertHandover,
        carrier: Carrier,
        clock: Clock,
        limits: RecipientLimits,
        tracking: Tracking,
    ) -> None:
        self.quota = quota
        self.lifecycle = lifecycle
        self.carrier = carrier
        self.limits = limits
        self.clock = clock
        self.tracking = tracking
        self.worker = worker_name()
        self.alerts = alerts
        self._threads = threading.local()

    def position(self) -> int:
        return self.tracking.position(NAME)

    def process(self, start: int, batch: Sequence[Notified]) -> None:
        """Hand over what each event released, in order, moving the tracking row after each;
        stop as soon as another worker has moved it (the next read starts from there)."""
        done = start
        for item in batch:
            self._handle(item.event)
            if not self.tracking.advance(NAME, done, item.position):
                return
            done = item.position

    def hand_over(self, send_id: UUID) -> None:
        """Hand every batch of a send to the carrier, in order, under claims of as many
        batches as the carrier takes at once (``Carrier.batches_per_claim``)."""
        claims = self._claim_ids()
        while True:
            claim_id = claims.setdefault(send_id, uuid4().hex)
            send, claim = self.lifecycle.claim_batch(
                send_id, claim_id, self.worker, self.carrier.batches_per_claim
            )
            if claim.busy:  # another worker is handing these batches over: wait for it
                time.sleep(BUSY_WAIT_SECONDS)
                continue
            if claim.batch is None:
                claims.pop(send_id, None)
                return
            # the carrier may fail here: the claim id stays, so the retry is this claim again
            answers = self._hand_over_batches(send, claim.claimed)
            try:
                self.lifecycle.record_batches(send_id, answers)
            except QuotaConflict:  # our lease ran out and another worker recorded them first
                log.warning("batches %s of send %s were recorded by another worker",
                            claim.claimed, send_id)  # fmt: skip
            claims.pop(send_id, None)  # recorded: the next batches are a new claim

    def _claim_ids(self) -> dict[UUID, str]:
        """This thread's claims still to record, by send. Kept across a failed attempt (the
        carrier was down) so that the retry resumes its own claim at once instead of waiting
        out its lease; per thread, because two threads are two workers (each its own claim)."""
        claims: dict[UUID, str] | None = getattr(self._threads, "claims", None)
        if claims is None:
            claims = self._threads.claims = {}
        return claims

    def _hand_over_batches(self, send: Send, batches: range) -> dict[int, list[Handover]]:
        """Give the carrier, in one call, the claimed batches' messages still pending that
        are within the per-recipient limits (S9); the others fail with
        ``recipient_rate_limited`` and are refunded (Q7). The answers, batch by batch."""
        now = self.clock.now()
        indices = [i for batch in batches for i in send.outgoing(batch)]
        limited: set[int] = set()
        if send.limit_category is not None:
            ids = [(message_id(send.id, i), send.recipients[i]) for i in indices]
            allowed = self.limits.admit(send.limit_category, ids, now)
            limited = {i for i in indices if message_id(send.id, i) not in allowed}
        outgoing = [i for i in indices if i not in limited]
        extension = send.extension or ""  # the account's code after the source_addr
        messages = [
            OutgoingMessage(message_id(send.id, i), send.recipients[i], send.text_of(i), extension)
            for i in outgoing
        ]
        answers = self.carrier.submit(messages, now) if messages else []
        handovers = [Handover(i, None, RATE_LIMITED) for i in limited] + [
            Handover(i, a.carrier_message_id, a.error)
            for i, a in zip(outgoing, answers, strict=True)
        ]
        by_batch: dict[int, list[Handover]] = {batch: [] for batch in batches}
        for handover in handovers:
            by_batch[handover.index // BATCH_SIZE].append(handover)
        return by_batch

    def _handle(self, event: Any) -> None:
        if isinstance(event, Send.Accepted | Send.SubmissionStarted):
            self.hand_over(event.originator_id)
        elif isinstance(event, QuotaPool.LowBalanceAlerted):
            self.alerts.hand_over(event, self.worker)
