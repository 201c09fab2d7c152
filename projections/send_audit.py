"""Per-message audit: every message's final state matched against its ledger entries (Q5–Q8).

The verifier trusts neither the read models nor the aggregates' own counters. It folds the
stored send events itself, message by message, and the pool's entries by what they name:

- a message that went out (``success``, ``unknown``, still ``sending``) is charged once;
- a ``failed`` one that was charged is refunded once, by an entry naming the message;
- a message skipped at submission (opted out since acceptance) is never charged;
- a waiting send holds a lock of all its units; a cancelled one released it whole;
- a receipt may only settle a message its batch claimed or recorded, and only once;
- every charge, lock, release and refund names a send (or a message of one) that explains it.

Refunds stored before refunds named their message (``send:<id>`` refunds) are matched by
their sum against the send's failed messages that have no refund of their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from uuid import UUID

from ..domain.ledger import EntryKind, LedgerEntry
from ..domain.sending import BATCH_SIZE, Send, message_id, parse_message_id

PENDING, SENDING, SUCCESS, FAILED, UNKNOWN = "pending", "sending", "success", "failed", "unknown"
FINAL = {SUCCESS, FAILED, UNKNOWN}


@dataclass
class SendFold:
    """One send as its events tell it, message by message."""

    send_id: str
    account_id: str
    type: str
    units: list[int]  # per message (Q6)
    waits: bool
    started: bool
    status: list[str]
    skipped: set[int] = field(default_factory=set)
    cancelled: bool = False
    claimed: set[int] = field(default_factory=set)  # batches claimed (or recorded)
    recorded: int = 0  # batches recorded, in order
    problems: list[str] = field(default_factory=list)

    @classmethod
    def accepted(cls, event: Send.Accepted) -> SendFold:
        waits = event.scheduled_at is not None or event.review_due_at is not None
        total = len(event.recipients)
        units = (
            [int(u) for u in event.unit_counts]
            if event.unit_counts is not None
            else [event.units_per_message] * total
        )
        return cls(str(event.originator_id), event.account_id, event.type, units, waits,
                   not waits, [PENDING] * total)  # fmt: skip

    @property
    def total(self) -> int:
        return len(self.status)

    def charged(self, index: int) -> bool:
        return self.started and index not in self.skipped

    def expected_charge(self) -> int:
        return sum(u for i, u in enumerate(self.units) if self.charged(i))

    def counts(self) -> dict[str, int]:
        if self.cancelled:
            return dict.fromkeys((PENDING, SENDING, SUCCESS, FAILED, UNKNOWN), 0)
        return {s: self.status.count(s) for s in (PENDING, SENDING, SUCCESS, FAILED, UNKNOWN)}

    def apply(self, event: object) -> None:
        if isinstance(event, Send.SubmissionStarted):
            self._start(event)
        elif isinstance(event, Send.HandoverClaimed):
            self.claimed.update(range(event.batch, event.batch + event.batches))
        elif isinstance(event, Send.BatchSubmitted):
            self._batch(event)
        elif isinstance(event, Send.ReceiptsRecorded):
            self._settle(event.delivered, SUCCESS, "a receipt")
            self._settle(event.failed, FAILED, "a receipt")
        elif isinstance(event, Send.MessagesExpired):
            for index in event.indices:
                if self.status[index] != SENDING:
                    self._problem(index, f"expired while {self.status[index]}")
                self.status[index] = UNKNOWN
        elif isinstance(event, Send.Cancelled):
            if self.started:
                self.problems.append(f"send {self.send_id}: cancelled after it was submitted")
            self.cancelled = True

    def _start(self, event: Send.SubmissionStarted) -> None:
        if self.started:
            self.problems.append(f"send {self.send_id}: submitted twice")
        self.started = True
        for index in event.skipped:
            self.skipped.add(index)
            self.status[index] = FAILED

    def _batch(self, event: Send.BatchSubmitted) -> None:
        if not self.started:
            self.problems.append(f"send {self.send_id}: batch {event.batch} before submission")
        if event.batch != self.recorded:
            self.problems.append(
                f"send {self.send_id}: batch {event.batch} recorded out of order "
                f"(expected {self.recorded})"
            )
        self.recorded += 1
        self.claimed.add(event.batch)
        for index, _ in event.sent:
            if self.status[index] == PENDING:
                self.status[index] = SENDING
        for index, _ in event.failed:
            if self.status[index] == PENDING:
                self.status[index] = FAILED

    def _settle(self, indices: list[int], status: str, what: str) -> None:
        for index in indices:
            if not self.started or index // BATCH_SIZE not in self.claimed:
                self._problem(index, f"settled by {what} before it was handed over")
            if self.status[index] in FINAL:
                self._problem(index, f"settled twice ({self.status[index]}, then {status})")
            self.status[index] = status

    def _problem(self, index: int, text: str) -> None:
        self.problems.append(f"message {message_id_of(self.send_id, index)}: {text}")


def message_id_of(send_id: str, index: int) -> str:
    return message_id(UUID(send_id), index)


@dataclass
class SendEntries:
    """The pool entries that name one send or its messages."""

    charges: int = 0
    charge_entries: int = 0
    locked: int = 0
    released: int = 0
    legacy_refunds: int = 0  # units of refunds that name the send, not a message
    refunds: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


class SendAudit:
    """Folds sends and the entries about them; ``problems()`` reconciles the two."""

    def __init__(self) -> None:
        self.sends: dict[str, SendFold] = {}
        self.entries: dict[str, SendEntries] = defaultdict(SendEntries)
        self.orphans: list[str] = []
        self._unread: list[tuple[LedgerEntry, str]] = []  # attributed once every send is known

    def on_event(self, event: object) -> None:
        if isinstance(event, Send.Accepted):
            self.sends[str(event.originator_id)] = SendFold.accepted(event)
        elif isinstance(event, Send.Event):
            fold = self.sends.get(str(event.originator_id))
            if fold is not None:
                fold.apply(event)

    def on_entry(self, entry: LedgerEntry, where: str) -> None:
        """A pool entry, to attribute to the send (or message) it names at the end (a send's
        charge is stored just before the send itself)."""
        if entry.kind is not EntryKind.PURCHASE:
            self._unread.append((entry, where))

    def _attribute(self, entry: LedgerEntry, where: str) -> None:
        ref = entry.reference
        if ref.type == "send":
            send_id, index = ref.id, None
        elif ref.type == "message" and (parsed := parse_message_id(ref.id)) is not None:
            send_id, index = str(parsed[0]), parsed[1]
        else:
            self.orphans.append(f"{where}: {entry.kind.value} of {ref} names no send")
            return
        fold = self.sends.get(send_id)
        if fold is None or (index is not None and not 0 <= index < fold.total):
            self.orphans.append(f"{where}: {entry.kind.value} of {ref} names no send")
            return
        entries = self.entries[send_id]
        match entry.kind:
            case EntryKind.LOCK:
                entries.locked += entry.units
            case EntryKind.RELEASE:
                entries.released += entry.units
            case EntryKind.CHARGE:
                entries.charges += entry.units
                entries.charge_entries += 1
            case EntryKind.REFUND:
                if index is None:
                    entries.legacy_refunds += entry.units
                else:
                    entries.refunds[index].append(entry.units)

    def problems(self, include_unexplained: bool = True) -> list[str]:
        for entry, where in self._unread:
            self._attribute(entry, where)
        self._unread.clear()
        found = list(self.orphans) if include_unexplained else []
        for send_id, fold in self.sends.items():
            found += fold.problems
            found += _reconcile(fold, self.entries.get(send_id, SendEntries()))
        return found


def _reconcile(fold: SendFold, entries: SendEntries) -> list[str]:
    where = f"send {fold.send_id}"
    found: list[str] = []
    total_units = sum(fold.units)
    charge = fold.expected_charge()
    if entries.charges != charge or (charge and entries.charge_entries != 1):
        found.append(f"{where}: charged {entries.charges} units in {entries.charge_entries} "
                     f"entries; its messages owe {charge} in one")  # fmt: skip
    if fold.waits:
        if entries.locked != total_units:
            found.append(f"{where}: locked {entries.locked} units, not {total_units}")
        # what the lock did not become as the charge went back (cancel, remainder)
        still_locked = 0 if (fold.started or fold.cancelled) else total_units
        if entries.locked - entries.released - (entries.charges if fold.started else 0) != (
            still_locked
        ):
            found.append(f"{where}: its lock of {entries.locked} was released "
                         f"{entries.released} and charged {entries.charges}")  # fmt: skip
    elif entries.locked or entries.released:
        found.append(f"{where}: a send that never waited has lock entries")
    owed = [i for i in range(fold.total) if fold.status[i] == FAILED and fold.charged(i)]
    unrefunded = 0
    for index in owed:
        refunds = entries.refunds.get(index, [])
        if len(refunds) > 1:
            found.append(f"message {message_id_of(fold.send_id, index)}: refunded "
                         f"{len(refunds)} times")  # fmt: skip
        elif not refunds:
            unrefunded += fold.units[index]
        elif refunds[0] != fold.units[index]:
            found.append(f"message {message_id_of(fold.send_id, index)}: refunded "
                         f"{refunds[0]} units of {fold.units[index]}")  # fmt: skip
    if unrefunded != entries.legacy_refunds:
        missing = [i for i in owed if i not in entries.refunds]
        named = ", ".join(message_id_of(fold.send_id, i) for i in missing[:20])
        found.append(f"{where}: failed and charged but never refunded: {named} "
                     f"({unrefunded} units owed, {entries.legacy_refunds} refunded by "
                     f"send)")  # fmt: skip
    for index in entries.refunds:
        if index not in owed:
            state = "skipped, never charged" if index in fold.skipped else fold.status[index]
            found.append(f"message {message_id_of(fold.send_id, index)}: refunded but it is "
                         f"{state}")  # fmt: skip
    return found
