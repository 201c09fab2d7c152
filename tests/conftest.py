"""Shared fixtures: real databases (a fresh PostgreSQL database per test, or a SQLite file),
a wired container on the simulated clock, and an HTTP client over the real ASGI app.

PostgreSQL comes from ``SMS_TEST_DATABASE_URL`` (``scripts/test.sh`` makes sure one is up);
default ``postgresql://postgres@127.0.0.1:5432/test``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.app import create_app
from smsplat.infra.bootstrap import Container, build
from smsplat.infra.settings import Settings

from tests.kafka_broker import running_broker
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN, Api

ADMIN_URL = os.environ.get("SMS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# A Monday morning in Beijing: 2026-03-02 09:00 +08:00.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"smsplat_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(ADMIN_URL, name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'smsplat.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Both event stores, for behaviour that must be the same on each."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "operator_token": OPERATOR_TOKEN,
        "carrier_token": CARRIER_TOKEN,
        "simulation": True,
        "projection_poll_seconds": 0.05,
        "postgres_pool_size": 3,
    }
    values.update(overrides)
    return Settings(**values)


def make_container(url: str, clock: SimulatedClock | None = None, **overrides: Any) -> Container:
    return build(settings_for(url, **overrides), clock or SimulatedClock(START))


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@contextmanager
def running_container(url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = make_container(url, clock)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def container(pg_url: str, clock: SimulatedClock) -> Iterator[Container]:
    """A container on a fresh PostgreSQL database (projections not started)."""
    with running_container(pg_url, clock) as c:
        yield c


@pytest.fixture
def sqlite_container(sqlite_url: str, clock: SimulatedClock) -> Iterator[Container]:
    with running_container(sqlite_url, clock) as c:
        yield c


@pytest.fixture
def any_container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    """The same on each store, for behaviour that must match."""
    with running_container(store_url, clock) as c:
        yield c


@pytest.fixture
def api(container: Container) -> Iterator[Api]:
    """The HTTP API on PostgreSQL, projections running in the background as in production."""
    with TestClient(create_app(container)) as client:
        yield Api(client, container)


@pytest.fixture
def sqlite_api(sqlite_container: Container) -> Iterator[Api]:
    with TestClient(create_app(sqlite_container)) as client:
        yield Api(client, sqlite_container)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A Tansu broker for the whole session (started on first use): ``host:port``."""
    with running_broker() as bootstrap:
        yield bootstrap
