"""The carrier port over the real carriers of ``SMS_CARRIERS``: routing by network, failover.

A number's network (China Mobile ``cmcc``, Unicom ``unicom``, Telecom ``telecom``) comes from
the carrier data of **phonenumbers** (Google's libphonenumber prefix tables, updated with
each release); a number of no listed network (China Broadnet, a virtual operator unknown to
the tables) may go to any carrier. Each message goes to the highest-priority carrier serving
its network that is up; what a carrier did not take (it is unbound, refuses the bind, or is
throttling) is offered to the next; what no carrier could take raises
``CarrierUnavailable``, and the send worker hands that batch over later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import phonenumbers
from phonenumbers import carrier as phone_carriers

from ..commands.ports import OutgoingMessage, Receipt, Submission
from ..domain.sending import BATCH_SIZE
from .smpp_carrier import CarrierUnavailable, SmppCarrier
from .smpp_journal import SmppJournal

NETWORK_BY_NAME = {"China Mobile": "cmcc", "China Unicom": "unicom", "China Telecom": "telecom"}


def batches_per_claim(tps_caps: Iterable[float | None]) -> int:
    """How many batches the send worker claims at once. The journal bounds what a crash
    resends (a window per bind) whatever a claim covers, so a claim spans several batches
    and the line never idles while one batch is recorded and the next claimed; but never so
    many that, at the carriers' tps caps, handing them over would outlast the claim's lease
    (60 s) and let another worker take them over meanwhile."""
    caps = list(tps_caps)
    if not caps or any(cap is None for cap in caps):
        return CLAIM_BATCHES
    rate = sum(cap or 0.0 for cap in caps)
    return max(1, min(CLAIM_BATCHES, int(rate * CLAIM_SECONDS) // BATCH_SIZE))


def network_of(phone: str) -> str | None:
    """``cmcc``, ``unicom``, ``telecom``, or None (no carrier data names one of them)."""
    try:
        number = phonenumbers.parse(f"+86{phone}")
    except phonenumbers.NumberParseException:
        return None
    return NETWORK_BY_NAME.get(phone_carriers.name_for_number(number, "en"))


CLAIM_BATCHES = 5  # batches per claim: keeps a bind's window full across batch boundaries
CLAIM_SECONDS = 20.0  # at the carriers' tps caps, a claim's hand-over stays well in its lease


class CarrierRouter:
    def __init__(self, carriers: Sequence[SmppCarrier], journal: SmppJournal) -> None:
        # highest priority first; the configured order breaks ties
        self.carriers = sorted(carriers, key=lambda c: -c.endpoint.priority)
        self.journal = journal
        self.batches_per_claim = batches_per_claim(c.endpoint.tps for c in carriers)

    def submit(self, messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        answers: dict[str, Submission] = {}
        for carrier in self.carriers:
            offered = [
                m
                for m in messages
                if m.message_id not in answers and self._serves(carrier, m) and carrier.up
            ]
            if not offered:
                continue
            for message, answer in zip(offered, carrier.submit_some(offered), strict=True):
                if answer is not None:
                    answers[message.message_id] = answer
        missing = [m.message_id for m in messages if m.message_id not in answers]
        if missing:
            states = ", ".join(f"{c.name} {c.state}" for c in self.carriers)
            raise CarrierUnavailable(f"no carrier took {len(missing)} messages ({states})")
        return [answers[m.message_id] for m in messages]

    def due_receipts(self, now: datetime) -> list[Receipt]:
        return self.journal.due_receipts(now)

    def health(self) -> list[dict[str, Any]]:
        """Each carrier's state and counters (``/v1/health`` and ``/metrics``)."""
        return [
            {"name": c.name, "state": c.state, "networks": list(c.endpoint.networks),
             "priority": c.endpoint.priority, "last_error": c.last_error,
             **vars(c.counters)}
            for c in self.carriers
        ]  # fmt: skip

    def close(self) -> None:
        for carrier in self.carriers:
            carrier.close()

    @staticmethod
    def _serves(carrier: SmppCarrier, message: OutgoingMessage) -> bool:
        network = network_of(message.phone)
        return network is None or network in carrier.endpoint.networks
