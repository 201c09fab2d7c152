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
from tests.ledger_check import assert_ledger_verifies
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN, Api

ADMIN_URL = os.environ.get("SMS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
# A Monday morning in Beijing: 2026-03-02 09:00 +08:00.
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _verify_ledger(request: pytest.FixtureRequest, url: str) -> None:
    """Q12: the test leaves a ledger that verifies (see ``tests/ledger_check.py``)."""
    failed = getattr(request.node, "rep_call", None)
    if request.node.get_closest_marker("ledger_tampered") or (failed and failed.failed):
        return  # broken on purpose, or the test failed already (its own error says why)
    pool_only = request.node.get_closest_marker("pool_only_ledger") is not None
    assert_ledger_verifies(url, settings_for(url), pool_only)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, verified and dropped afterwards."""
    name = f"smsplat_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(ADMIN_URL, name)
    try:
        yield url
        _verify_ledger(request, url)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file for one test, verified afterwards."""
    url = f"sqlite:///{tmp_path / 'smsplat.db'}"
    yield url
    _verify_ledger(request, url)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so fixtures can see how the test went."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


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
def running_container(url: str, clock: SimulatedClock, **overrides: Any) -> Iterator[Container]:
    c = make_container(url, clock, **overrides)
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


@pytest.fixture
def any_api(any_container: Container) -> Iterator[Api]:
    """The HTTP API on each store, for behaviour that must match."""
    with TestClient(create_app(any_container)) as client:
        yield Api(client, any_container)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A Tansu broker for the whole session (started on first use): ``host:port``."""
    with running_broker() as bootstrap:
        yield bootstrap
