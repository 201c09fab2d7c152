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
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.utils import get_topic

from ..domain.errors import QuotaConflict
from ..domain.handover import BatchClaim, Handover
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
        """Hand over what each event released, in order, moving the tracking row after each
        (after each run of business messages, handed over together); stop as soon as another
        worker has moved it (the next read starts from there)."""
        done = start
        for run in _runs(batch):
            if len(run) > 1:
                self.hand_over_together([item.event for item in run])
            else:
                self._handle(run[0].event)
            if not self.tracking.advance(NAME, done, run[-1].position):
                return
            done = run[-1].position

    def hand_over_together(self, accepted: Sequence[Send.Accepted]) -> None:
        """Sends of one batch each (business messages) handed over together: their claims in
        one save, their messages in one carrier call, their answers in one save. A send this
        cannot take so (another worker's claim, a concurrent change, a refund to make) goes
        the one-by-one way, ``hand_over``, which is always right."""
        claims = self._claim_ids()
        send_ids = [event.originator_id for event in accepted]
        wanted = {send_id: claims.setdefault(send_id, uuid4().hex) for send_id in send_ids}
        claimed = self.lifecycle.claim_together(wanted, self.worker, accepted)
        if claimed is None:
            for send_id in send_ids:
                self.hand_over(send_id)
            return
        ready = [(send, claim) for send, claim in claimed if claim.batch is not None]
        answers = self._hand_over_together(ready)
        for send_id in self.lifecycle.record_together([send for send, _ in ready], answers):
            self._record(send_id, answers[send_id])
        for send, claim in claimed:
            claims.pop(send.id, None)
            if claim.busy:  # another worker holds it: wait for it as one by one does
                self.hand_over(send.id)

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
            self._record(send_id, answers)
            claims.pop(send_id, None)  # recorded: the next batches are a new claim

    def _record(self, send_id: UUID, answers: dict[int, list[Handover]]) -> None:
        try:
            self.lifecycle.record_batches(send_id, answers)
        except QuotaConflict:  # our lease ran out and another worker recorded them first
            log.warning("batches %s of send %s were recorded by another worker",
                        sorted(answers), send_id)  # fmt: skip

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
        return self._hand_over_together([(send, BatchClaim(batches.start, batches=len(batches)))])[
            send.id
        ]

    def _hand_over_together(
        self, claimed: Sequence[tuple[Send, BatchClaim]]
    ) -> dict[UUID, dict[int, list[Handover]]]:
        """``_hand_over_batches`` of several sends' claims: the per-recipient limits asked
        once per category, the carrier once for all. The answers, by send and batch."""
        now = self.clock.now()
        pending = {send.id: [i for b in claim.claimed for i in send.outgoing(b)]
                   for send, claim in claimed}  # fmt: skip
        allowed = self._within_limits([send for send, _ in claimed], pending, now)
        outgoing = [(send, i) for send, _ in claimed for i in pending[send.id]
                    if message_id(send.id, i) in allowed]  # fmt: skip
        messages = [
            OutgoingMessage(message_id(send.id, i), send.recipients[i], send.text_of(i),
                            send.extension or "")  # the account's code after the source_addr
            for send, i in outgoing
        ]  # fmt: skip
        answers = self.carrier.submit(messages, now) if messages else []
        by_batch: dict[UUID, dict[int, list[Handover]]] = {
            send.id: {batch: [] for batch in claim.claimed} for send, claim in claimed
        }

        def answered(send: Send, handover: Handover) -> None:
            by_batch[send.id][handover.index // BATCH_SIZE].append(handover)

        for send, _ in claimed:  # over a limit: failed at once (and refunded, Q7)
            for i in pending[send.id]:
                if message_id(send.id, i) not in allowed:
                    answered(send, Handover(i, None, RATE_LIMITED))
        for (send, i), answer in zip(outgoing, answers, strict=True):
            answered(send, Handover(i, answer.carrier_message_id, answer.error))
        return by_batch

    def _within_limits(
        self, sends: Sequence[Send], pending: dict[UUID, list[int]], now: datetime
    ) -> set[str]:
        """The message ids the per-recipient limits let through (S9), one ask per category;
        a send with no category is not limited."""
        allowed: set[str] = set()
        asked: dict[str, list[tuple[str, str]]] = {}
        for send in sends:
            ids = [(message_id(send.id, i), send.recipients[i]) for i in pending[send.id]]
            if send.limit_category is None:
                allowed.update(m for m, _ in ids)
            else:
                asked.setdefault(send.limit_category, []).extend(ids)
        for category, ids in asked.items():
            allowed |= self.limits.admit(category, ids, now)
        return allowed

    def _handle(self, event: Any) -> None:
        if isinstance(event, Send.Accepted | Send.SubmissionStarted):
            self.hand_over(event.originator_id)
        elif isinstance(event, QuotaPool.LowBalanceAlerted):
            self.alerts.hand_over(event, self.worker)


def _runs(batch: Sequence[Notified]) -> list[list[Notified]]:
    """``batch`` cut into runs: consecutive ``Send.Accepted`` of sends of one batch going
    out at once (business messages, handed over together), and every other event alone."""
    runs: list[list[Notified]] = []
    for item in batch:
        if _one_batch_now(item.event) and runs and _one_batch_now(runs[-1][-1].event):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _one_batch_now(event: Any) -> bool:
    return (
        isinstance(event, Send.Accepted)
        and len(event.recipients) <= BATCH_SIZE
        and event.scheduled_at is None
        and event.review_due_at is None
    )
