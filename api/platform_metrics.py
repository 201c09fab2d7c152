"""What an operator runs the platform on, read from the read models at each scrape: messages
by status and reason, units moved by the quota ledger, sends waiting, the send worker's
backlog and how long handed-over messages wait for their receipts.

Every figure comes from a small table or an indexed query (``projections/message_counts.py``,
``unit_totals.py``, ``receipt_latency.py``, ``send_pipeline.py``): a scrape costs the same with
a million messages as with ten. Labels are bounded: statuses, reasons, products, entry kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ..domain.ledger import EntryKind
from ..domain.sending import MessageStatus
from ..projections.message_counts import MessageCountQueries
from ..projections.receipt_latency import ReceiptLatencyQueries
from ..projections.send_pipeline import SendPipelineQueries
from ..projections.unit_totals import UnitTotalQueries

if TYPE_CHECKING:
    from ..adapters.sql import SqlDatabase

NO_LABEL = ""  # a message without a failure reason, or a send without a product


class MessagesCollector(Collector):
    def __init__(self, counts: MessageCountQueries) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "smsplat_messages",
            "Messages in the read model now, by status, failure reason and product",
            labels=["status", "reason", "product"],
        )
        seen = set()
        for c in self.counts.counts():
            family.add_metric([c.status, c.reason or NO_LABEL, c.product or NO_LABEL], c.count)
            seen.add(c.status)
        for status in MessageStatus:  # every status is there from the start, at 0
            if status.value not in seen:
                family.add_metric([status.value, NO_LABEL, NO_LABEL], 0)
        yield family


class QuotaUnitsCollector(Collector):
    def __init__(self, totals: UnitTotalQueries) -> None:
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "smsplat_quota_units",
            "Units moved by quota ledger entries since the first, by entry kind and product "
            "(charge: taken at submission; refund: given back for failed messages)",
            labels=["kind", "product"],
        )
        seen = set()
        for t in self.totals.totals():
            family.add_metric([t.kind, t.product or NO_LABEL], t.units)
            seen.add(t.kind)
        for kind in EntryKind:
            if kind.value not in seen:
                family.add_metric([kind.value, NO_LABEL], 0)
        yield family


class SendPipelineCollector(Collector):
    def __init__(
        self,
        pipeline: SendPipelineQueries,
        latency: ReceiptLatencyQueries,
        now: Callable[[], datetime],
    ) -> None:
        self.pipeline = pipeline
        self.latency = latency
        self.now = now  # the service clock (simulated in tests)

    def collect(self) -> Iterator[Metric]:
        now = self.now()
        sends = GaugeMetricFamily(
            "smsplat_sends_waiting", "Sends waiting to go out, by status", labels=["status"]
        )
        messages = GaugeMetricFamily(
            "smsplat_sends_waiting_messages",
            "Messages of the sends waiting to go out, by status",
            labels=["status"],
        )
        for status, waiting in self.pipeline.waiting().items():
            sends.add_metric([status], waiting.sends)
            messages.add_metric([status], waiting.messages)
        yield sends
        yield messages
        backlog = self.pipeline.backlog()
        yield GaugeMetricFamily(
            "smsplat_send_backlog_messages",
            "Messages accepted and due, not yet handed to the carrier",
            value=backlog.messages,
        )
        yield GaugeMetricFamily(
            "smsplat_send_backlog_oldest_seconds",
            "How long the oldest message of the backlog has been due (0 without a backlog)",
            value=_age(now, backlog.oldest_due_at),
        )
        yield GaugeMetricFamily(
            "smsplat_receipt_oldest_awaiting_seconds",
            "How long ago the oldest message still awaiting its receipt was handed over",
            value=_age(now, self.pipeline.oldest_awaiting_receipt()),
        )
        histogram = self.latency.histogram()
        family = HistogramMetricFamily(
            "smsplat_receipt_latency_seconds",
            "Time from hand-over to the carrier to the message's receipt",
        )
        family.add_metric(
            [],
            [(_bound(le), float(count)) for le, count in histogram.buckets],
            sum_value=histogram.sum_seconds,
        )
        yield family


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def _bound(le: float) -> str:
    return "+Inf" if le == float("inf") else f"{le:g}"


def platform_collectors(db: SqlDatabase, now: Callable[[], datetime]) -> list[Collector]:
    """The collectors of this module over the read models in ``db``."""
    return [
        MessagesCollector(MessageCountQueries(db)),
        QuotaUnitsCollector(UnitTotalQueries(db)),
        SendPipelineCollector(SendPipelineQueries(db), ReceiptLatencyQueries(db), now),
    ]
