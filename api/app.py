"""The FastAPI application: thin routes over the container's services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ..infra.background import BackgroundLoop
from ..infra.bootstrap import Container
from ..infra.housekeeping import Housekeeping
from . import problems
from .body_limit import BodyLimitMiddleware
from .idempotency import IdempotencyMiddleware
from .metrics import HttpMetrics, HttpMetricsMiddleware, ProjectionLagCollector
from .routes import accounts, audience, imports, quota, sending, system, templates

HOUSEKEEPING_SECONDS = 600

DESCRIPTION = """
Event-sourced backend of a business SMS platform. Authenticate with
`Authorization: Bearer <token>`: the operator token, or an account's API key.
Every state-changing call accepts `Idempotency-Key`. Errors are `application/problem+json`
with a stable `code`. Reads come from projections and may trail a command by a moment.
"""


def create_app(container: Container, run_projections: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        housekeeping = Housekeeping(container.idempotency, container.clock, container.limits)
        upkeep = BackgroundLoop("housekeeping", housekeeping.run_once, HOUSEKEEPING_SECONDS)
        upkeep.start()
        # idempotency records that could not be saved when their command committed
        records = BackgroundLoop("idempotency-records", container.idempotency.save_unsaved, 1.0)
        records.start()
        if run_projections:
            container.loops.start()
        yield
        records.stop()
        upkeep.stop()
        container.close()

    app = FastAPI(title="smsplat", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.container = container
    registry = CollectorRegistry()
    registry.register(ProjectionLagCollector(container))
    app.state.registry = registry
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware, store=container.idempotency)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry))
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(problems.ProblemGuard)  # added last: the outermost of ours
    for module in (system, accounts, quota, templates, sending, imports, audience):
        app.include_router(module.router)
    return app
