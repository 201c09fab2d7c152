"""The simulated carrier of ``SMS_SIMULATION`` (contract: Simulation).

It decides by the number's last four digits: ``0001`` a ``failed`` receipt; ``0002`` no receipt
ever; ``0003`` refused at submission; anything else ``delivered`` a few simulated seconds after
submission. Receipts become due on the service's clock and are collected with
``due_receipts(now)``, as if the carrier had posted them. Like a real carrier it deduplicates on
our message id, and it counts every hand-over, so tests can prove "exactly once".
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from ..commands.ports import OutgoingMessage, Receipt, Submission

DELIVERY_DELAY = timedelta(seconds=3)
FAILURE_DELAY = timedelta(seconds=5)


@dataclass(frozen=True)
class _Pending:
    due: datetime
    receipt: Receipt


class SimulatedCarrier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, Submission] = {}
        self._pending: list[_Pending] = []
        self.handovers: Counter[str] = Counter()  # message id -> times it was handed over
        self.texts: dict[str, str] = {}

    def submit(self, messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        answers = []
        with self._lock:
            for message in messages:
                self.handovers[message.message_id] += 1
                known = self._answers.get(message.message_id)
                if known is None:
                    known = self._accept(message, at)
                    self._answers[message.message_id] = known
                answers.append(known)
        return answers

    def due_receipts(self, now: datetime) -> list[Receipt]:
        """Receipts whose time has come, each returned once."""
        with self._lock:
            due = [p for p in self._pending if p.due <= now]
            self._pending = [p for p in self._pending if p.due > now]
        return [p.receipt for p in sorted(due, key=lambda p: p.due)]

    @property
    def sent(self) -> int:
        """Distinct messages the carrier has taken (each at most once, whatever the retries)."""
        return sum(1 for answer in self._answers.values() if answer.accepted)

    def _accept(self, message: OutgoingMessage, at: datetime) -> Submission:
        ending = message.phone[-4:]
        if ending == "0003":
            return Submission(message.message_id, False, None, "carrier_refused")
        carrier_id = str(uuid5(NAMESPACE_URL, f"sim-carrier:{message.message_id}"))
        self.texts[message.message_id] = message.text
        if ending == "0001":
            self._pending.append(
                _Pending(
                    at + FAILURE_DELAY, Receipt(message.message_id, "failed", at + FAILURE_DELAY)
                )
            )
        elif ending != "0002":
            self._pending.append(
                _Pending(
                    at + DELIVERY_DELAY,
                    Receipt(message.message_id, "delivered", at + DELIVERY_DELAY),
                )
            )
        return Submission(message.message_id, True, carrier_id)
