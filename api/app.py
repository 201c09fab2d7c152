"""The FastAPI application: thin routes over the command bus and the read models' queries.

``create_app`` is the HTTP entry point; the Kafka entry point (``api/kafka_commands.py``)
is attached beside it, so a ``serve`` process takes commands both ways through one bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ..infra.bootstrap import Container
from . import problems
from .body_limit import BodyLimitMiddleware
from .idempotency import IdempotencyMiddleware
from .kafka_commands import attach_kafka_commands
from .metrics import (
    CarrierCollector,
    HttpMetrics,
    HttpMetricsMiddleware,
    ProjectionLagCollector,
    WebhookCollector,
)
from .routes import accounts, audience, imports, quota, sending, system, templates, webhooks
from .routes.records import router as records_router
from .services import ApiServices

DESCRIPTION = """
Event-sourced backend of a business SMS platform. Authenticate with
`Authorization: Bearer <token>`: the operator token, or an account's API key.
Every state-changing call accepts `Idempotency-Key`. Errors are `application/problem+json`
with a stable `code`. Reads come from projections and may trail a command by a moment.
"""


def create_app(container: Container, run_projections: bool = True) -> FastAPI:
    """The API over ``container``; with ``run_projections`` its background loops run too
    (read models, sending, Kafka), else only the upkeep every API process does."""
    if run_projections:
        attach_kafka_commands(container)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loops = container.loops
        if run_projections:
            loops.start()
        else:
            loops.start(loops.upkeep)
        yield
        container.close()

    app = FastAPI(title="smsplat", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.services = ApiServices.of(container)
    registry = CollectorRegistry()
    registry.register(ProjectionLagCollector(container.read_models.positions))
    if container.carriers is not None:
        registry.register(CarrierCollector(container.carriers.health))
    registry.register(WebhookCollector(container.webhook_deliveries.summary, container.clock.now))
    app.state.registry = registry
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware, store=container.idempotency)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry))
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(problems.ProblemGuard)  # added last: the outermost of ours
    for module in (system, accounts, quota, templates, sending, imports, audience, webhooks):
        app.include_router(module.router)
    app.include_router(records_router)
    return app
