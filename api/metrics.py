"""Prometheus metrics: HTTP traffic, and how far each read model trails its event log."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .route_templates import RouteTemplates


class ProjectionLagCollector(Collector):
    def __init__(self, positions: Callable[[], dict[str, tuple[int, int]]]) -> None:
        self.positions = positions  # each read model's position beside its log's head

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "smsplat_projection_lag_events",
            "Events stored but not yet applied, per read model",
            labels=["read_model"],
        )
        for name, (position, head) in self.positions().items():
            lag.add_metric([name], head - position)
        yield lag


class CarrierCollector(Collector):
    """Each real carrier's state and counters (``SMS_CARRIERS``)."""

    COUNTERS = ("submitted", "refused", "throttled", "receipts", "replies", "binds",
                "bind_failures")  # fmt: skip

    def __init__(self, health: Callable[[], list[dict[str, Any]]]) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        up = GaugeMetricFamily(
            "smsplat_carrier_bound", "1 while the carrier's bind is up", labels=["carrier"]
        )
        counters = {
            name: CounterMetricFamily(
                f"smsplat_carrier_{name}", f"Carrier {name}", labels=["carrier"]
            )
            for name in self.COUNTERS
        }
        for carrier in self.health():
            up.add_metric([carrier["name"]], 1.0 if carrier["state"] == "bound" else 0.0)
            for name, family in counters.items():
                family.add_metric([carrier["name"]], float(carrier[name]))
        yield up
        yield from counters.values()


class WebhookCollector(Collector):
    """The webhook outbox: deliveries by status, the backlog and its oldest age, and the
    deliveries waiting for a retry per endpoint."""

    STATUSES = ("pending", "delivered", "failed", "cancelled")

    def __init__(self, summary: Callable[[], dict[str, Any]], now: Callable[[], datetime]) -> None:
        self.summary = summary
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        seen = self.summary()
        by_status = GaugeMetricFamily(
            "smsplat_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status in self.STATUSES:
            by_status.add_metric([status], float(seen["by_status"].get(status, 0)))
        yield by_status
        yield GaugeMetricFamily(
            "smsplat_webhook_backlog", "Deliveries not delivered yet",
            value=float(seen["by_status"].get("pending", 0)),
        )  # fmt: skip
        oldest = seen["oldest_pending"]
        age = (self.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "smsplat_webhook_oldest_undelivered_seconds",
            "Age of the oldest undelivered delivery (service clock)", value=max(age, 0.0),
        )  # fmt: skip
        failing = GaugeMetricFamily(
            "smsplat_webhook_endpoint_retrying", "Deliveries waiting for a retry, by endpoint",
            labels=["webhook_id"],
        )  # fmt: skip
        for webhook_id, count in seen["failing"].items():
            failing.add_metric([webhook_id], float(count))
        yield failing


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "smsplat_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "smsplat_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=registry,
        )


class HttpMetricsMiddleware:
    """Counts and times every HTTP request by route template and status. Plain ASGI (not
    ``BaseHTTPMiddleware``, whose task group and streams cost each request more than the
    counting does)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, templates: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # a response never started is the server's failure

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = self.templates.of(scope)
            method = str(scope["method"])
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
