"""The quota application: the only writer of account quota pools.

Each command loads the account's pool, lets the domain decide, and saves the resulting
event(s) in one transaction. A concurrent writer makes the save fail on the pool's version
(optimistic concurrency); the command is then decided again on the fresh pool, so two
charges can never overspend. A save can also fail *after* committing (seen when PostgreSQL
restarts): before deciding again we look for our own entry among the events stored since
we loaded, so a command is never applied twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from ..domain.errors import DomainError, NotFound
from ..domain.ledger import Balance, Reference
from ..domain.packages import package_units
from ..domain.quota import QuotaPool, quota_pool_id
from ..domain.sending import Send, message_id
from .context_application import ContextApplication
from .ports import ChangeListener, Clock

MAX_ATTEMPTS = 50


class AccountDirectory(Protocol):
    """What the quota context needs to know about accounts."""

    def require_can_buy(self, account_id: UUID) -> None:
        """Raise unless the account exists and has an active product (Q3)."""

    def alert_phone(self, account_id: UUID) -> str:
        """The verification phone that low-balance alerts go to (Q9)."""
        ...


class QuotaBusy(DomainError):
    code = "quota_busy"
    title = "Quota pool busy"


@dataclass(frozen=True)
class SavedWith:
    """Returned by a decision: aggregates to save in the same transaction as the pool."""

    aggregates: tuple[Aggregate, ...]


@dataclass(frozen=True)
class QuotaChange:
    """The outcome of a quota command: the entry it recorded and the balance right after."""

    entry_id: str
    sequence: int
    balance: Balance


class QuotaApp(ContextApplication):
    """Bounded context "quota": pools, with snapshots so a long history loads fast."""

    name = "quota"
    snapshotting_intervals = {QuotaPool: 200}  # noqa: RUF012

    def __init__(
        self,
        env: dict[str, Any] | None,
        clock: Clock,
        accounts: AccountDirectory,
        on_change: ChangeListener | None = None,
    ) -> None:
        super().__init__(env, clock, on_change)
        self.accounts = accounts

    # -- commands -----------------------------------------------------------------------

    def purchase(
        self, account_id: UUID, package_size: object, purchase_id: str, actor: str
    ) -> QuotaChange:
        """Q1, Q3: buy a package. Buying again with the same ``purchase_id`` changes nothing."""
        units = package_units(package_size)
        self.accounts.require_can_buy(account_id)
        pool = self._pool_or_none(account_id)
        if pool is not None and pool.has_purchase(purchase_id):
            return self._outcome_of(pool, Reference("purchase", purchase_id))
        return self._change(
            account_id,
            lambda p, at: p.purchase(purchase_id, units, units, actor, at),
        )

    def refuse_refund(self, account_id: UUID, purchase_id: str) -> None:
        """Q2: always refused (NotRefundable, or NotFound for another account's purchase)."""
        self._existing_or_empty(account_id).refuse_refund(purchase_id)

    def lock(
        self, account_id: UUID, send_id: str, units: int, product: str | None, actor: str
    ) -> QuotaChange:
        return self._change(account_id, lambda p, at: p.lock(send_id, units, product, actor, at))

    def release(self, account_id: UUID, send_id: str, actor: str) -> QuotaChange:
        return self._change(account_id, lambda p, at: p.release(send_id, actor, at))

    def charge(
        self,
        account_id: UUID,
        reference: Reference,
        units: int,
        product: str | None,
        actor: str,
    ) -> QuotaChange:
        return self._change(
            account_id, lambda p, at: p.charge(reference, units, product, actor, at)
        )

    def charge_lock(
        self, account_id: UUID, send_id: str, units: int, product: str | None, actor: str
    ) -> QuotaChange:
        return self._change(
            account_id, lambda p, at: p.charge_lock(send_id, units, product, actor, at)
        )

    def refund(
        self,
        account_id: UUID,
        reference: Reference,
        charge: Reference,
        units: int,
        product: str | None,
        actor: str,
    ) -> QuotaChange:
        return self._change(
            account_id,
            lambda p, at: p.refund(reference, charge, units, product, actor, at),
        )

    def accept_send(
        self, account_id: UUID, build: Callable[[datetime], Send], actor: str
    ) -> tuple[Send, QuotaChange]:
        """Q5, Q10: take a send's units (a charge, or a lock for a send that waits) and accept
        it in one transaction, or refuse it whole and store nothing. ``build`` makes the send
        afresh on each attempt. A send whose id is already stored (a retried request) is
        returned as it is, and takes nothing more."""
        made: list[Send] = []

        def decide(pool: QuotaPool, at: datetime) -> SavedWith | None:
            send = build(at)
            if send.id in self.repository:
                made[:] = [self.send(send.id)]
                return None
            made[:] = [send]
            take_units(pool, send, actor, at)
            return SavedWith((send,))

        change = self._change(account_id, decide)
        return made[0], change

    def settle_send(
        self, send_id: UUID, act: Callable[[Send, datetime], int], actor: str = "system"
    ) -> Send:
        """Record something on a send (a batch, receipts, expiry) and refund in the same
        transaction the units it says failed (Q7): so a refund happens exactly once."""

        def on_send(send: Send, pool: QuotaPool, at: datetime) -> None:
            units = act(send, at)
            if units:
                charge = charge_reference(send)
                pool.refund(charge, charge, units, send.product, actor, at)

        return self.change_send(send_id, on_send)

    def cancel_send(self, send_id: UUID, reason: str, actor: str) -> Send:
        """S7, Q11: cancel a send not yet submitted and release its whole lock, together."""

        def on_send(send: Send, pool: QuotaPool, at: datetime) -> None:
            send.cancel(reason, actor, at)
            pool.release(str(send.id), actor, at)

        return self.change_send(send_id, on_send)

    def reschedule_send(self, send_id: UUID, when: datetime, actor: str) -> Send:
        """S7: a new time for a scheduled send (its lock stays as it is)."""
        return self.change_send(send_id, lambda send, _, at: send.reschedule(when, actor, at))

    def advance_send(
        self,
        send_id: UUID,
        opted_out: Callable[[Send], set[str]],
        template_usable: Callable[[Send], bool],
    ) -> bool:
        """A waiting send's due work: the provider's review passes (S8); at its time it is
        submitted, its lock becoming the charge (Q5). A send whose template was deleted while
        it waited is cancelled instead, its lock released (see README: scheduled sends).
        Returns whether anything was due (another worker may have done it first)."""

        def on_send(send: Send, pool: QuotaPool, at: datetime) -> None:
            send.pass_review(at)
            if not send.is_due(at):
                return
            if not template_usable(send):
                send.cancel("template_deleted", "system", at)
                pool.release(str(send.id), "system", at)
                return
            units = send.start(opted_out(send), at)
            if units:
                pool.charge_lock(str(send.id), units, send.product, "system", at)
            else:  # every number opted out: nothing goes, nothing is charged
                pool.release(str(send.id), "system", at)

        changed: list[bool] = []

        def recorded(send: Send, pool: QuotaPool, at: datetime) -> None:
            on_send(send, pool, at)
            changed[:] = [bool(send.pending_events)]

        self.change_send(send_id, recorded)
        return changed[0]

    def change_send(
        self, send_id: UUID, act: Callable[[Send, QuotaPool, datetime], object]
    ) -> Send:
        """Decide on a send and its account's pool together and save both in one transaction
        (retried on a concurrent change, like every pool command)."""
        account_id = UUID(self.send(send_id).account_id)
        changed: list[Send] = []

        def decide(pool: QuotaPool, at: datetime) -> SavedWith:
            send = self.send(send_id)
            changed[:] = [send]
            act(send, pool, at)
            return SavedWith((send,))

        self._change(account_id, decide)
        return changed[0]

    def pool_for(self, account_id: UUID) -> QuotaPool:
        """The account's pool as stored, or a new one (opened by the first charge's save)."""
        pool = self._pool_or_none(account_id)
        if pool is None:
            pool = QuotaPool.open(
                account_id, self.accounts.alert_phone(account_id), self.clock.now()
            )
        return pool

    def send(self, send_id: UUID) -> Send:
        try:
            send: object = self.repository.get(send_id)
        except AggregateNotFoundError:
            send = None
        if not isinstance(send, Send):
            raise NotFound(f"No send {send_id}.")
        return send

    # -- queries ------------------------------------------------------------------------

    def balance(self, account_id: UUID) -> Balance:
        """The balance as the event store has it now (final, not eventually consistent)."""
        return self._existing_or_empty(account_id).balance

    # -- internals ----------------------------------------------------------------------

    def _change(
        self, account_id: UUID, decide: Callable[[QuotaPool, datetime], object]
    ) -> QuotaChange:
        for attempt in range(MAX_ATTEMPTS):
            pool = self._pool_or_none(account_id)
            if pool is None:
                pool = QuotaPool.open(
                    account_id, self.accounts.alert_phone(account_id), self.clock.now()
                )
                base_version = 0
            else:
                base_version = pool.version
            outcome = decide(pool, self.clock.now())
            together = outcome.aggregates if isinstance(outcome, SavedWith) else ()
            mine = [e for e in pool.pending_events if isinstance(e, QuotaPool.EntryRecorded)]
            try:
                # a decision that moves no units (a batch with no failure) leaves the pool be
                self.save(*([pool] if mine else []), *together)
            except IntegrityError:
                stored = self._stored_twin(pool.id, base_version, mine[0]) if mine else None
                if stored is not None:
                    return stored
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            self.changed()
            if not mine:
                return QuotaChange("", pool.version, pool.balance)
            return QuotaChange(mine[0].entry_id, mine[0].originator_version, pool.balance)
        raise QuotaBusy("The account's quota is under heavy concurrent use; try again.")

    def _stored_twin(
        self, pool_id: UUID, base_version: int, mine: QuotaPool.EntryRecorded
    ) -> QuotaChange | None:
        """Our own entry, if a save that reported failure had in fact committed it."""
        for event in self.events.get(pool_id, gt=base_version):
            if (
                isinstance(event, QuotaPool.EntryRecorded)
                and event.kind == mine.kind
                and event.reference == mine.reference
                and event.units == mine.units
                and event.related == mine.related
                and event.actor == mine.actor
            ):
                fresh: object = self.repository.get(pool_id)
                assert isinstance(fresh, QuotaPool)
                return QuotaChange(event.entry_id, event.originator_version, fresh.balance)
        return None

    def _outcome_of(self, pool: QuotaPool, reference: Reference) -> QuotaChange:
        for event in self.events.get(pool.id):
            if isinstance(event, QuotaPool.EntryRecorded) and event.reference == str(reference):
                return QuotaChange(event.entry_id, event.originator_version, pool.balance)
        raise LookupError(reference)  # pragma: no cover - has_purchase said it exists

    def _pool_or_none(self, account_id: UUID) -> QuotaPool | None:
        try:
            pool: object = self.repository.get(quota_pool_id(account_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(pool, QuotaPool)
        return pool

    def _existing_or_empty(self, account_id: UUID) -> QuotaPool:
        pool = self._pool_or_none(account_id)
        if pool is None:
            self.accounts.alert_phone(account_id)  # NotFound for an unknown account
            return QuotaPool.open(account_id, "", self.clock.now())
        return pool


def take_units(pool: QuotaPool, send: Send, actor: str, at: datetime) -> None:
    """Q5: a send going out now is charged; one that waits (scheduled, or awaiting the
    provider's review) has its units locked. Either is refused whole past what is available."""
    if send.waiting:
        pool.lock(str(send.id), send.units_locked, send.product, actor, at)
    else:
        pool.charge(charge_reference(send), send.units_charged, send.product, actor, at)


def charge_reference(send: Send) -> Reference:
    """What a send's charge (and its refunds) name: the message of a single-recipient
    business send, otherwise the send."""
    if send.type == "business" and send.total == 1:
        return Reference("message", message_id(send.id, 0))
    return Reference("send", str(send.id))
