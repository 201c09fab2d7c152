"""The quota application: the only writer of account quota pools.

Each command loads the account's pool, lets the domain decide, and saves the resulting
event(s) in one transaction. A concurrent writer makes the save fail on the pool's version
(optimistic concurrency); the command is then decided again on the fresh pool, so two
charges can never overspend. A save can also fail *after* committing (seen when PostgreSQL
restarts): before deciding again we look for our own entry among the events stored since
we loaded, by its id (each entry's is unique), never by its content: two concurrent refunds
of one send look alike and are not the same refund. Changes of sends after acceptance are in
``send_lifecycle.py``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
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
from .ports import ChangeListener, Clock, EventsOfMany

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
        self._send_accounts: dict[UUID, UUID] = {}

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

    # -- saving what a decision changed ----------------------------------------------------

    def attempts(self) -> Iterator[int]:
        """Optimistic concurrency: the attempt numbers of a command, with a short jittered
        pause before each retry. A caller that runs out raises ``QuotaBusy``."""
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, 0.002 * attempt))
            yield attempt

    def save_if_current(self, pool: QuotaPool | None, *others: Aggregate) -> bool:
        """Save a decision in one transaction: the pool (when it recorded an entry) and the
        aggregates decided with it. False when a concurrent writer changed one of them first
        (or the save reported failure): decide again on fresh state."""
        entries = pool is not None and any(
            isinstance(e, QuotaPool.EntryRecorded) for e in pool.pending_events
        )
        try:
            self.save(*([pool] if entries and pool is not None else []), *others)
        except IntegrityError:
            return False
        return True

    def pool_for(self, account_id: UUID) -> QuotaPool:
        """The account's pool as stored, or a new one (opened by the first charge's save)."""
        pool = self._pool_or_none(account_id)
        if pool is None:
            pool = QuotaPool.open(
                account_id, self.accounts.alert_phone(account_id), self.clock.now()
            )
        return pool

    def account_of(self, send_id: UUID) -> UUID:
        """The account a send belongs to (it never changes: remembered once read)."""
        account = self._send_accounts.get(send_id)
        if account is None:
            account = UUID(self.send(send_id).account_id)
            if len(self._send_accounts) >= 100_000:
                self._send_accounts.clear()
            self._send_accounts[send_id] = account
        return account

    def sends(self, send_ids: Sequence[UUID]) -> dict[UUID, Send]:
        """The sends there are among ``send_ids``, as stored now, their events read in one
        query (a receipt for each of 200 codes was 400 queries: a snapshot looked for, then
        the events). Sends are never snapshotted, so their events are the whole of them."""
        if not isinstance(self.recorder, EventsOfMany):
            return {s.id: s for s in (self._send_or_none(i) for i in send_ids) if s is not None}
        events: dict[str, list[Any]] = {}
        for stored in self.recorder.select_events_of(send_ids):
            theirs = events.setdefault(str(stored.originator_id), [])
            theirs.append(self.mapper.to_domain_event(stored))
        sends: dict[UUID, Send] = {}
        for send_id, theirs in events.items():
            send = None  # each event applied in turn (the library's projector asks a
            for event in theirs:  # runtime protocol of each, a tenth of this read's time)
                send = event.mutate(send)
            if isinstance(send, Send):
                sends[UUID(send_id)] = send
        return sends

    def _send_or_none(self, send_id: UUID) -> Send | None:
        try:
            return self.send(send_id)
        except NotFound:
            return None

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
            decide(pool, self.clock.now())
            mine = [e for e in pool.pending_events if isinstance(e, QuotaPool.EntryRecorded)]
            try:
                self.save(*([pool] if mine else []))
            except IntegrityError:
                stored = self._stored_twin(pool.id, base_version, mine[0]) if mine else None
                if stored is not None:
                    return stored
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            if not mine:
                return QuotaChange("", pool.version, pool.balance)
            return QuotaChange(mine[0].entry_id, mine[0].originator_version, pool.balance)
        raise QuotaBusy("The account's quota is under heavy concurrent use; try again.")

    def _stored_twin(
        self, pool_id: UUID, base_version: int, mine: QuotaPool.EntryRecorded
    ) -> QuotaChange | None:
        """Our own entry, if a save that reported failure had in fact committed it. Entry
        ids are unique, so only our own save can have stored ``mine.entry_id``."""
        for event in self.events.get(pool_id, gt=base_version):
            if isinstance(event, QuotaPool.EntryRecorded) and event.entry_id == mine.entry_id:
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


def charge_reference(send: Send) -> Reference:
    """What a send's charge (and its refunds) name: the message of a single-recipient
    business send, otherwise the send."""
    if send.type == "business" and send.total == 1:
        return Reference("message", message_id(send.id, 0))
    return Reference("send", str(send.id))
