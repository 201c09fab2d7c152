"""Handing a send to the carrier, batch by batch, once (S5).

A carrier deduplicates nothing: a message handed over twice is two SMS to a person. So a worker
first *claims* the next batch (an event on the send: the intent), then hands it over, then
records the carrier's answers. A claim is held by one worker at a time; it has a lease on the
wall clock, so when its worker dies another may take the batch over once the lease has run
out. Only the batch in flight when a worker dies can go twice: at most one batch (100
messages) per crash, and fewer when receipts already settled some of it.

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
    """A worker's claim on one batch: it may be handing it over until ``lease_until``."""

    batch: int
    claim_id: str
    worker: str
    lease_until: datetime  # wall clock


@dataclass(frozen=True)
class BatchClaim:
    """The answer to a claim: the batch to hand over now, nothing to do, or busy."""

    batch: int | None  # claimed (or already this claim's); None: nothing to hand over now
    busy_until: datetime | None = None  # another worker holds the next batch until then

    @property
    def busy(self) -> bool:
        return self.busy_until is not None
