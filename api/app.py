"""The FastAPI application: thin routes over the command bus and the read models' queries.

``create_app`` is the HTTP entry point; the Kafka entry point (``api/kafka_commands.py``)
is attached beside it, so a ``serve`` process takes commands both ways through one bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from ..infra.bootstrap import Container
from . import problems
from .body_limit import BodyLimitMiddleware
from .console.app import console_app
from .console.config import ConsoleConfig
from .console.rendering import MOUNT as CONSOLE_MOUNT
from .idempotency import IdempotencyMiddleware
from .kafka_commands import attach_kafka_commands
from .metrics import (
    CarrierCollector,
    HttpMetrics,
    HttpMetricsMiddleware,
    ProjectionLagCollector,
    WebhookCollector,
)
from .openapi import install_docs
from .platform_metrics import platform_collectors
from .route_templates import RouteTemplates
from .routes import (
    accounts,
    audience,
    imports,
    quota,
    records,
    sending,
    system,
    templates,
    webhooks,
)
from .services import ApiServices

DESCRIPTION = """
Event-sourced backend of a business SMS platform. Authenticate with
`Authorization: Bearer <token>`: the operator token, or an account's API key.
Every state-changing call accepts `Idempotency-Key`. Errors are `application/problem+json`
with a stable `code`. Reads come from projections and may trail a command by a moment.
"""
ROUTES = (system, accounts, quota, templates, sending, records, imports, audience, webhooks)


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

    app = FastAPI(
        title="smsplat",
        version=version("smsplat"),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from local assets, not a CDN
        redoc_url=None,
    )
    app.state.services = ApiServices.of(container)
    registry = CollectorRegistry()
    registry.register(ProjectionLagCollector(container.read_models.positions))
    if container.carriers is not None:
        registry.register(CarrierCollector(container.carriers.health))
    registry.register(WebhookCollector(container.webhook_deliveries.summary, container.clock.now))
    for collector in platform_collectors(container.db, container.clock.now):
        registry.register(collector)
    app.state.registry = registry
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware, store=container.idempotency)
    served = RouteTemplates(route for module in ROUTES for route in module.router.routes)
    app.state.route_templates = served  # also a 405's Allow (problems.py)
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry), templates=served)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(problems.ProblemGuard)  # added last: the outermost of ours
    for module in ROUTES:
        app.include_router(module.router)
    install_docs(app)
    app.mount(CONSOLE_MOUNT, console_app(app.state.services, _console_config(container)))
    return app


def _console_config(container: Container) -> ConsoleConfig:
    s = container.settings
    return ConsoleConfig.of(
        container.operator_token,
        s.console_session_secret,
        s.console_session_minutes,
        s.console_secure_cookie,
        development=s.simulation,
    )
