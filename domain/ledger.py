"""Ledger entries: every change of an account's quota, as finance reads it (Q12).

The quota pool's events each describe exactly one entry; this module names the entry kinds,
says how each moves the balance figures, and computes a balance from entries, so the
read models, the verification command and the tests all share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class EntryKind(StrEnum):
    PURCHASE = "purchase"  # a package bought: units become available
    LOCK = "lock"  # units held for a scheduled send (Q5)
    RELEASE = "release"  # a lock given back: cancelled send (Q11) or unused remainder
    CHARGE = "charge"  # units taken at submission (Q5), from available or from a lock
    REFUND = "refund"  # units given back for a failed message (Q7)


@dataclass(frozen=True)
class Reference:
    """What an entry is about: ``purchase``, ``send`` or ``message``, and its id."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Reference:
        kind, _, ident = text.partition(":")
        return cls(kind, ident)


@dataclass(frozen=True)
class Balance:
    """The five figures of an account's quota. ``available`` is what a charge may take.

    Invariant: available = purchased_total - charged_total + refunded_total - locked.
    """

    available: int = 0
    locked: int = 0
    purchased_total: int = 0
    charged_total: int = 0
    refunded_total: int = 0

    def after(self, kind: EntryKind, units: int, from_lock: bool = False) -> Balance:
        """The balance once an entry of ``kind`` for ``units`` has been applied."""
        match kind:
            case EntryKind.PURCHASE:
                return replace(
                    self,
                    available=self.available + units,
                    purchased_total=self.purchased_total + units,
                )
            case EntryKind.LOCK:
                return replace(self, available=self.available - units, locked=self.locked + units)
            case EntryKind.RELEASE:
                return replace(self, available=self.available + units, locked=self.locked - units)
            case EntryKind.CHARGE if from_lock:
                return replace(
                    self, locked=self.locked - units, charged_total=self.charged_total + units
                )
            case EntryKind.CHARGE:
                return replace(
                    self,
                    available=self.available - units,
                    charged_total=self.charged_total + units,
                )
            case EntryKind.REFUND:
                return replace(
                    self,
                    available=self.available + units,
                    refunded_total=self.refunded_total + units,
                )
        raise ValueError(f"unknown entry kind {kind!r}")  # pragma: no cover

    def is_consistent(self) -> bool:
        return (
            self.available >= 0
            and self.locked >= 0
            and self.available
            == self.purchased_total - self.charged_total + self.refunded_total - self.locked
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One immutable change of quota: what, when, why, which product, by whom (Q12)."""

    entry_id: str
    account_id: str
    sequence: int  # the entry's position in its account's history (the pool's version)
    at: datetime
    kind: EntryKind
    units: int
    reference: Reference
    product: str | None
    actor: str
    from_lock: bool
    related: Reference | None  # the charge a refund gives back, the lock a charge consumes
    available_after: int
    locked_after: int

    @property
    def available_change(self) -> int:
        """The signed change to ``available`` this entry made (entries are additive)."""
        return replay_one(Balance(), self).available

    @property
    def locked_change(self) -> int:
        return replay_one(Balance(), self).locked


def replay_one(balance: Balance, entry: LedgerEntry) -> Balance:
    return balance.after(entry.kind, entry.units, entry.from_lock)


def balance_of(entries: list[LedgerEntry]) -> Balance:
    """The balance that a sequence of entries adds up to, from nothing."""
    balance = Balance()
    for entry in entries:
        balance = replay_one(balance, entry)
    return balance
