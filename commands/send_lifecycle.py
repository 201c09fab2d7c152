"""A send's life after acceptance: claimed, handed over, settled, expired, cancelled, moved.

Each command loads the send and its account's pool once per attempt, asks the domain, and saves
both in one transaction, so a refund is stored with the settlement that causes it, or neither
is (Q7). A concurrent writer makes the save fail on a version: the command is then decided
again on fresh state. No stored result is ever mistaken for ours: every decision is guarded by
the send itself (a settled message is not settled again, a recorded batch not recorded again,
a claim known by its id), so deciding again is always safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from ..domain.carrier_input import CarrierReceipt, ReceiptSettlement
from ..domain.errors import QuotaConflict
from ..domain.handover import DEFAULT_LEASE, BatchClaim, Handover
from ..domain.ledger import Reference
from ..domain.quota import QuotaPool
from ..domain.sending import Send, message_id
from .ports import Clock
from .quota import QuotaApp, QuotaBusy, charge_reference


class SendLifecycle:
    def __init__(
        self, quota: QuotaApp, wall_clock: Clock, lease: timedelta = DEFAULT_LEASE
    ) -> None:
        self.quota = quota
        self.wall_clock = wall_clock  # claims' leases run on real time, whatever the service's
        self.lease = lease

    # -- hand-over (S5) -----------------------------------------------------------------

    def claim_batch(
        self, send_id: UUID, claim_id: str, worker: str, batches: int = 1
    ) -> tuple[Send, BatchClaim]:
        """Claim the send's next batch, and up to ``batches - 1`` after it, for ``claim_id``
        (see ``domain/handover.py``)."""
        for _ in self.quota.attempts():
            send = self.quota.send(send_id)
            wall_now = self.wall_clock.now()
            claim = send.claim_next_batch(
                claim_id, worker, self.quota.clock.now(), wall_now + self.lease, wall_now,
                batches,
            )  # fmt: skip
            if not send.pending_events or self.quota.save_if_current(None, send):
                return send, claim
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    def claim_together(
        self, claims: Mapping[UUID, str], worker: str, accepted: Sequence[Send.Accepted] = ()
    ) -> list[tuple[Send, BatchClaim]] | None:
        """``claim_batch`` of several sends' next batch (send id → claim id), in one save;
        None when a concurrent writer changed one of them first (claim them one by one).
        A send whose ``Accepted`` event is given (the log follower just read it) is made
        from it instead of being loaded: if it changed since, the save fails on its version."""
        wall_now = self.wall_clock.now()
        at = self.quota.clock.now()
        known = {event.originator_id: event for event in accepted}
        claimed = []
        for send_id, claim_id in claims.items():
            send = _made_by(known[send_id]) if send_id in known else self.quota.send(send_id)
            claim = send.claim_next_batch(claim_id, worker, at, wall_now + self.lease, wall_now)
            claimed.append((send, claim))
        changed = [send for send, _ in claimed if send.pending_events]
        if changed and not self.quota.save_if_current(None, *changed):
            return None
        return claimed

    def record_together(
        self, claimed: Sequence[Send], answers: Mapping[UUID, Mapping[int, Sequence[Handover]]]
    ) -> list[UUID]:
        """``record_batches`` of several sends whose answers refund nothing, in one save, on
        the sends as ``claim_together`` saved them (one changed since, by an early receipt,
        makes the save fail on its version). Returns the sends left to record one by one:
        those with a refund to make (their pool is saved with them), or all of them when a
        concurrent writer changed one first."""
        at = self.quota.clock.now()
        alone: list[Send] = []
        left: list[UUID] = []
        for send in claimed:
            send_id, batches = send.id, answers[send.id]
            try:
                refunds = any([send.record_batch(b, batches[b], at) for b in sorted(batches)])
            except QuotaConflict:  # recorded by another worker meanwhile: one by one says so
                refunds = True
            if refunds:
                left.append(send_id)
            else:
                alone.append(send)
        if alone and not self.quota.save_if_current(None, *alone):
            return list(answers)
        return left

    def record_batch(self, send_id: UUID, batch: int, handovers: Sequence[Handover]) -> Send:
        """The carrier's answers for a claimed batch; refusals refunded with them (Q7)."""
        return self.record_batches(send_id, {batch: handovers})

    def record_batches(self, send_id: UUID, answers: Mapping[int, Sequence[Handover]]) -> Send:
        """The carrier's answers for claimed batches, in the order of the batches, in one
        save; refusals refunded with them (Q7). Answers that refuse nothing are the send's
        alone: the pool (which every acceptance of the account writes) is read only when
        there is something to refund."""
        for _ in self.quota.attempts():
            alone = self.quota.send(send_id)
            at = self.quota.clock.now()
            if not any([alone.record_batch(b, answers[b], at) for b in sorted(answers)]):
                if self.quota.save_if_current(None, alone):
                    return alone
                continue
            pool, send = self._load(send_id)
            for batch in sorted(answers):
                refunds = send.record_batch(batch, answers[batch], at)
                refund_messages(pool, send, refunds, at)
            if self.quota.save_if_current(pool, send):
                return send
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    # -- settlement (S10, Q7, Q8) ---------------------------------------------------------

    def record_receipts(
        self, send_id: UUID, receipts: Sequence[CarrierReceipt]
    ) -> ReceiptSettlement:
        """Settle messages from receipts; each failure is refunded once, in the same save."""
        for _ in self.quota.attempts():
            pool, send = self._load(send_id)
            at = self.quota.clock.now()
            settled = send.record_receipts(receipts, at)
            refund_messages(pool, send, settled.refunds, at)
            if not settled.changed or self.quota.save_if_current(pool, send):
                return settled
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    def record_receipts_together(
        self, receipts: Mapping[UUID, Sequence[CarrierReceipt]]
    ) -> tuple[dict[UUID, ReceiptSettlement], list[UUID]]:
        """``record_receipts`` of several sends whose receipts refund nothing (deliveries,
        the common case), in one save: every transaction that writes the quota log waits for
        the one before it, and a transaction per receipt kept the verification codes being
        accepted behind them. Returns the settlements saved and the sends
        left to settle one by one: those with a refund to make (their pool is saved with
        them) or not found, or all of them when a concurrent writer changed one first."""
        at = self.quota.clock.now()
        settled: dict[UUID, ReceiptSettlement] = {}
        changed: list[Send] = []
        left: list[UUID] = []
        sends = self.quota.sends(list(receipts))
        for send_id, theirs in receipts.items():
            send = sends.get(send_id)
            if send is None:
                left.append(send_id)
                continue
            settlement = send.record_receipts(theirs, at)
            if settlement.refunds:
                left.append(send_id)
                continue
            settled[send_id] = settlement
            if settlement.changed:
                changed.append(send)
        if changed and not self.quota.save_if_current(None, *changed):
            return {}, list(receipts)
        return settled, left

    def expire(self, send_id: UUID) -> int:
        """Q8: messages 72 hours without a receipt become unknown (and stay charged)."""
        for _ in self.quota.attempts():
            send = self.quota.send(send_id)
            expired = send.expire(self.quota.clock.now())
            if not expired or self.quota.save_if_current(None, send):
                return expired
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    # -- waiting sends (S6–S8, Q5, Q11) ---------------------------------------------------

    def cancel(self, send_id: UUID, reason: str, actor: str, request_id: str | None = None) -> Send:
        """S7, Q11: cancel a send not yet submitted and release its whole lock, together. A
        retry of the request that cancelled it answers with the send as it is."""
        for _ in self.quota.attempts():
            pool, send = self._load(send_id)
            if send.already_handled(request_id):
                return send
            at = self.quota.clock.now()
            send.cancel(reason, actor, at, request_id)
            pool.release(str(send.id), actor, at)
            if self.quota.save_if_current(pool, send):
                return send
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    def reschedule(
        self, send_id: UUID, when: datetime, actor: str, request_id: str | None = None
    ) -> Send:
        """S7: a new time for a scheduled send (its lock stays as it is)."""
        for _ in self.quota.attempts():
            send = self.quota.send(send_id)
            send.reschedule(when, actor, self.quota.clock.now(), request_id)
            if not send.pending_events or self.quota.save_if_current(None, send):
                return send
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    def advance(self, send_id: UUID, opted_out: set[str], template_usable: bool) -> bool:
        """A waiting send's due work: the provider's review passes (S8); at its time it is
        submitted, its lock becoming the charge (Q5), numbers in ``opted_out`` skipped. One
        whose template was deleted while it waited is cancelled instead, its lock released.
        Returns whether anything was due (another worker may have done it first)."""
        for _ in self.quota.attempts():
            pool, send = self._load(send_id)
            at = self.quota.clock.now()
            send.pass_review(at)
            if send.is_due(at):
                _submit_or_cancel(send, pool, opted_out, template_usable, at)
            if not send.pending_events:
                return False
            if self.quota.save_if_current(pool, send):
                return True
        raise QuotaBusy(f"Send {send_id} is under heavy concurrent use; try again.")

    def _load(self, send_id: UUID) -> tuple[QuotaPool, Send]:
        """The send's pool, then the send: in this order, so a change committed between the
        two reads leaves at worst a stale pool, which the save refuses on its version (a
        stale send beside a fresh pool could ask the pool for a lock already charged)."""
        pool = self.quota.pool_for(self.quota.account_of(send_id))
        return pool, self.quota.send(send_id)


def _made_by(accepted: Send.Accepted) -> Send:
    """The send as its first event made it (version 1)."""
    send = accepted.mutate(None)
    assert isinstance(send, Send)
    return send


def refund_messages(pool: QuotaPool, send: Send, indices: Sequence[int], at: datetime) -> None:
    """Q7: one refund entry per failed message, naming the message it refunds and the charge
    it gives back."""
    charge = charge_reference(send)
    for index in indices:
        pool.refund(
            message_reference(send, index), charge, send.units_of(index), send.product,
            "system", at,
        )  # fmt: skip


def message_reference(send: Send, index: int) -> Reference:
    return Reference("message", message_id(send.id, index))


def _submit_or_cancel(
    send: Send, pool: QuotaPool, opted_out: set[str], template_usable: bool, at: datetime
) -> None:
    if not template_usable:
        send.cancel("template_deleted", "system", at)
        pool.release(str(send.id), "system", at)
        return
    units = send.start(opted_out, at)
    if units:
        pool.charge_lock(str(send.id), units, send.product, "system", at)
    else:  # every number opted out: nothing goes, nothing is charged
        pool.release(str(send.id), "system", at)
