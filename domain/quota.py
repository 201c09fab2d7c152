"""The quota pool (短信数量): one per account, shared by all its products (Q4).

``QuotaPool`` is the only writer of an account's units. Every command on it records exactly
one ledger entry as one event (plus, at most, the low-balance alert of Q9), so a hot account
costs one small event per charge; a mass send is charged as one entry for all its recipients.

Commands take ``at`` from the caller's clock; the pool never moves time backwards, so entry
times are monotonic per account and ``as_of`` queries are exact (Q12).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from .errors import InsufficientQuota, InvalidInput, NotFound, NotRefundable, QuotaConflict
from .ledger import Balance, EntryKind, LedgerEntry, Reference

LOW_BALANCE_THRESHOLD = 30  # Q9: an alert once the available quota falls below this


def quota_pool_id(account_id: UUID) -> UUID:
    """The pool's id is derived from its account's, so it never needs looking up."""
    return uuid5(NAMESPACE_URL, f"smsplat:quota-pool:{account_id}")


def _positive_units(units: int) -> int:
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise InvalidInput(f"units must be a positive whole number, not {units!r}.", field="units")
    return units


class QuotaPool(Aggregate):
    """An account's units: purchases, locks, charges, refunds and releases (Q1–Q12)."""

    class Opened(Aggregate.Created):
        account_id: str
        alert_phone: str

    class EntryRecorded(Aggregate.Event):
        """Base of the events that each record one ledger entry."""

        entry_id: str
        kind: str
        units: int
        reference: str
        product: str | None
        actor: str
        from_lock: bool
        related: str | None
        available_after: int
        locked_after: int

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, QuotaPool)
            aggregate._apply_entry(self)

    class PackagePurchased(EntryRecorded):
        package_size: int

    class UnitsLocked(EntryRecorded):
        pass

    class LockReleased(EntryRecorded):
        pass

    class UnitsCharged(EntryRecorded):
        pass

    class UnitsRefunded(EntryRecorded):
        pass

    class LowBalanceAlerted(Aggregate.Event):
        """Q9: the available quota fell below the threshold; one alert SMS is due."""

        alert_id: str
        available: int
        phone: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, QuotaPool)
            aggregate.alert_armed = False

    # -- construction -------------------------------------------------------------------

    def __init__(self, account_id: str, alert_phone: str) -> None:
        self.account_id = account_id
        self.alert_phone = alert_phone
        self.available = 0
        self.locked = 0
        self.purchased_total = 0
        self.charged_total = 0
        self.refunded_total = 0
        self.alert_armed = False  # armed by a purchase, spent by an alert (Q9)
        self.last_at: datetime | None = None
        self.purchases: dict[str, int] = {}  # purchase id -> units (few per account)
        self.locks: dict[str, int] = {}  # send id -> units still locked (open locks only)

    @classmethod
    def open(cls, account_id: UUID, alert_phone: str, at: datetime) -> QuotaPool:
        if at.tzinfo is None:
            raise ValueError("quota times must be timezone-aware")
        return cls._create(
            cls.Opened,
            id=quota_pool_id(account_id),
            account_id=str(account_id),
            alert_phone=alert_phone,
            timestamp=at,
        )

    # -- queries ------------------------------------------------------------------------

    @property
    def balance(self) -> Balance:
        return Balance(
            available=self.available,
            locked=self.locked,
            purchased_total=self.purchased_total,
            charged_total=self.charged_total,
            refunded_total=self.refunded_total,
        )

    def has_purchase(self, purchase_id: str) -> bool:
        return purchase_id in self.purchases

    # -- commands -----------------------------------------------------------------------

    def purchase(
        self, purchase_id: str, package_size: int, units: int, actor: str, at: datetime
    ) -> None:
        """Q1: a package's units become available. Re-arms the low-balance alert (Q9)."""
        if purchase_id in self.purchases:
            raise QuotaConflict(f"Purchase {purchase_id} is already recorded.")
        self._record(
            self.PackagePurchased,
            at,
            kind=EntryKind.PURCHASE,
            units=_positive_units(units),
            reference=Reference("purchase", purchase_id),
            product=None,
            actor=actor,
            package_size=package_size,
        )

    def refuse_refund(self, purchase_id: str) -> None:
        """Q2: a purchased package is never refunded; asking changes nothing."""
        if purchase_id not in self.purchases:
            raise NotFound(f"No purchase {purchase_id} on this account.")
        raise NotRefundable(
            "A purchased SMS package cannot be refunded or returned (Q2).",
            detail_zh="已购买的短信包不可退款或退货。",
        )

    def lock(self, send_id: str, units: int, product: str | None, actor: str, at: datetime) -> None:
        """Q5: hold units for a scheduled send; refused whole if not available (Q10)."""
        if send_id in self.locks:
            raise QuotaConflict(f"Send {send_id} already holds a lock.")
        self._require_available(_positive_units(units))
        self._record(
            self.UnitsLocked,
            at,
            kind=EntryKind.LOCK,
            units=units,
            reference=Reference("send", send_id),
            product=product,
            actor=actor,
        )
        self._alert_if_low(at)

    def release(self, send_id: str, actor: str, at: datetime) -> int:
        """Q11: give back the whole lock of a cancelled send. Returns the units released."""
        units = self._open_lock(send_id)
        self._record(
            self.LockReleased,
            at,
            kind=EntryKind.RELEASE,
            units=units,
            reference=Reference("send", send_id),
            product=None,
            actor=actor,
        )
        return units

    def charge(
        self, reference: Reference, units: int, product: str | None, actor: str, at: datetime
    ) -> None:
        """Q5: take units at submission; more than available is refused whole (Q10)."""
        self._require_available(_positive_units(units))
        self._record(
            self.UnitsCharged,
            at,
            kind=EntryKind.CHARGE,
            units=units,
            reference=reference,
            product=product,
            actor=actor,
        )
        self._alert_if_low(at)

    def charge_lock(
        self, send_id: str, units: int, product: str | None, actor: str, at: datetime
    ) -> None:
        """A scheduled send is submitted: its lock becomes a charge of ``units``.

        A send may need fewer units than it locked (numbers dropped since); the remainder
        is released in the same save. It can never need more: that would bypass Q10.
        """
        held = self._open_lock(send_id)
        if _positive_units(units) > held:
            raise QuotaConflict(f"Send {send_id} locked {held} units, cannot charge {units}.")
        reference = Reference("send", send_id)
        self._record(
            self.UnitsCharged,
            at,
            kind=EntryKind.CHARGE,
            units=units,
            reference=reference,
            product=product,
            actor=actor,
            from_lock=True,
            related=reference,
        )
        if held > units:
            self._record(
                self.LockReleased,
                at,
                kind=EntryKind.RELEASE,
                units=held - units,
                reference=reference,
                product=product,
                actor=actor,
            )

    def refund(
        self,
        reference: Reference,
        charge: Reference,
        units: int,
        product: str | None,
        actor: str,
        at: datetime,
    ) -> None:
        """Q7: give back the units of a failed message. ``charge`` is the entry it undoes.

        The pool guarantees no more is ever refunded than was charged in total; that each
        message is refunded at most once is the guard of the message's own aggregate.
        """
        if self.refunded_total + _positive_units(units) > self.charged_total:
            raise QuotaConflict("A refund cannot exceed the units charged.")
        self._record(
            self.UnitsRefunded,
            at,
            kind=EntryKind.REFUND,
            units=units,
            reference=reference,
            product=product,
            actor=actor,
            related=charge,
        )

    # -- internals ----------------------------------------------------------------------

    def _require_available(self, units: int) -> None:
        if units > self.available:
            raise InsufficientQuota(self.available)

    def _open_lock(self, send_id: str) -> int:
        try:
            return self.locks[send_id]
        except KeyError:
            raise QuotaConflict(f"Send {send_id} holds no lock.") from None

    def _moment(self, at: datetime) -> datetime:
        """Entry times never go backwards within one pool (a clock step back is absorbed)."""
        if at.tzinfo is None:
            raise ValueError("quota times must be timezone-aware")
        floor = self.last_at or self.created_on
        return at if at >= floor else floor

    def _record(
        self,
        event_class: type[EntryRecorded],
        at: datetime,
        *,
        kind: EntryKind,
        units: int,
        reference: Reference,
        product: str | None,
        actor: str,
        from_lock: bool = False,
        related: Reference | None = None,
        **extra: Any,
    ) -> None:
        after = self.balance.after(kind, units, from_lock)
        self.trigger_event(
            event_class,
            timestamp=self._moment(at),
            # a unique label: what the entry is about is its reference (a refund names the
            # message it refunds); a save that reported failure is recognised by this id
            entry_id=str(uuid4()),
            kind=kind.value,
            units=units,
            reference=str(reference),
            product=product,
            actor=actor,
            from_lock=from_lock,
            related=str(related) if related else None,
            available_after=after.available,
            locked_after=after.locked,
            **extra,
        )

    def _alert_if_low(self, at: datetime) -> None:
        if self.alert_armed and self.available < LOW_BALANCE_THRESHOLD:
            self.trigger_event(
                self.LowBalanceAlerted,
                timestamp=self._moment(at),
                alert_id=str(uuid5(self.id, f"alert:{self.version + 1}")),
                available=self.available,
                phone=self.alert_phone,
            )

    def _apply_entry(self, event: EntryRecorded) -> None:
        kind = EntryKind(event.kind)
        after = self.balance.after(kind, event.units, event.from_lock)
        self.available = after.available
        self.locked = after.locked
        self.purchased_total = after.purchased_total
        self.charged_total = after.charged_total
        self.refunded_total = after.refunded_total
        self.last_at = event.timestamp
        subject = Reference.parse(event.reference).id
        if kind is EntryKind.PURCHASE:
            self.purchases[subject] = event.units
            self.alert_armed = True
        elif kind is EntryKind.LOCK:
            self.locks[subject] = event.units
        elif kind is EntryKind.RELEASE or (kind is EntryKind.CHARGE and event.from_lock):
            remaining = self.locks.pop(subject, 0) - event.units
            if remaining > 0:
                self.locks[subject] = remaining


def entry_from_event(event: QuotaPool.EntryRecorded, account_id: str) -> LedgerEntry:
    """The ledger entry a stored pool event records (used by projections and audits)."""
    kind = EntryKind(event.kind)
    return LedgerEntry(
        entry_id=event.entry_id,
        account_id=account_id,
        sequence=event.originator_version,
        at=event.timestamp,
        kind=kind,
        units=event.units,
        reference=Reference.parse(event.reference),
        product=event.product,
        actor=event.actor,
        from_lock=event.from_lock,
        related=Reference.parse(event.related) if event.related else None,
        available_after=event.available_after,
        locked_after=event.locked_after,
    )
