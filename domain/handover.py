"""Handing a send to the carrier, batch by batch, once (S5).

A carrier deduplicates nothing: a message handed over twice is two SMS to a person. So a worker
first *claims* the next batch (an event on the send: the intent), then hands it over, then
records the carrier's answers. A claim is held by one worker at a time; it has a lease on the
wall clock, so when its worker dies another may take the batch over once the lease has run
out. Only what is in flight when a worker dies can go twice: at most the claimed batches,
and fewer when receipts already settled some of them.

A claim covers one batch, or several in a row where the carrier keeps its own record of
what it took (the SMPP journal): there a crash resends at most a bind's window whatever the
claim covers, and a longer claim keeps the window full across batch boundaries.

From the claim on, the batch's messages may be with the carrier, so their receipts count
even before the batch is recorded (a quick carrier's receipt can beat our record of its
answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Handover:
    """What the carrier answered for one message of a batch."""

    index: int
    carrier_message_id: str | None  # None: refused at submission
    failure: str | None = None  # why it failed at submission (carrier_refused, ...)


@dataclass(frozen=True)
class HandoverClaim:
    """A worker's claim on ``batches`` batches from ``batch`` on: it may be handing them
    over until ``lease_until``."""

    batch: int
    claim_id: str
    worker: str
    lease_until: datetime  # wall clock
    batches: int = 1

    @property
    def last(self) -> int:
        return self.batch + self.batches - 1

    def covers(self, batch: int) -> bool:
        return self.batch <= batch <= self.last


@dataclass(frozen=True)
class BatchClaim:
    """The answer to a claim: the batches to hand over now, nothing to do, or busy."""

    batch: int | None  # the first claimed (or already this claim's); None: nothing to do now
    busy_until: datetime | None = None  # another worker holds the next batch until then
    batches: int = 1  # how many in a row, from ``batch`` on

    @property
    def claimed(self) -> range:
        """The batches to hand over now, in order (none when there is nothing to do)."""
        return range(0) if self.batch is None else range(self.batch, self.batch + self.batches)

    @property
    def busy(self) -> bool:
        return self.busy_until is not None
