"""Wiring: settings in, a running set of applications, read models and stores out.

The one place that knows which adapter serves which port. ``build()`` is used by the API,
the CLI and the tests alike.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from ..adapters.clock import SimulatedClock, StoredSimulatedTime, SystemClock
from ..adapters.idempotency import IdempotencyStore
from ..adapters.sql import SqlDatabase
from ..commands.accounts import AccountsApp
from ..commands.ports import Clock
from ..commands.quota import QuotaApp
from ..projections.alerts import AlertQueries, AlertsReadModel
from ..projections.follower import LogFollower
from ..projections.quota_ledger import QuotaLedgerQueries, QuotaLedgerReadModel
from .event_store import event_store_env, read_store
from .settings import Settings

log = logging.getLogger(__name__)

SCHEMA_LOCK_KEY = 727_274_001  # pg_advisory_lock key serialising table creation


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: SqlDatabase
    accounts: AccountsApp
    quota: QuotaApp
    followers: list[LogFollower]
    ledger: QuotaLedgerQueries
    alerts: AlertQueries
    idempotency: IdempotencyStore
    operator_token: str
    carrier_token: str | None
    started: bool = field(default=False)

    def start_projections(self) -> None:
        for follower in self.followers:
            follower.start()

    def wait_for_projections(self, timeout: float = 10.0) -> bool:
        """Block until every read model has applied every stored event."""
        return all(f.wait_until_current(timeout) for f in self.followers)

    def run_due_work(self) -> None:
        """Everything due by the clock's now: timers (none yet), then the read models."""
        self.wait_for_projections()

    def rebuild_projections(self) -> int:
        return sum(f.rebuild() for f in self.followers)

    def catch_up_projections(self) -> int:
        return sum(f.catch_up() for f in self.followers)

    def close(self) -> None:
        for follower in self.followers:
            follower.stop()
        for app in (self.accounts, self.quota):
            app.close()
        self.db.close()


@contextmanager
def _schema_lock(settings: Settings) -> Iterator[None]:
    """Two processes creating tables at once can fail on PostgreSQL: take turns."""
    if not settings.is_postgres:
        yield
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def build(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    env = event_store_env(settings.database_url, settings.postgres_pool_size)
    db = read_store(settings.database_url)
    with _schema_lock(settings):
        clock = clock or _default_clock(settings, db)
        accounts = AccountsApp(env, clock)
        quota_follower_ref: list[LogFollower] = []
        quota = QuotaApp(env, clock, accounts, on_change=lambda: _wake(quota_follower_ref))
        quota_follower = LogFollower(
            quota,
            [QuotaLedgerReadModel(), AlertsReadModel()],
            db,
            batch_size=settings.projection_batch_size,
            poll_interval=settings.projection_poll_seconds,
        )
        quota_follower_ref.append(quota_follower)
        quota_follower.create_tables()
        idempotency = IdempotencyStore(db)
        idempotency.create_tables()
    operator_token = settings.operator_token or secrets.token_urlsafe(24)
    if not settings.operator_token:
        log.warning("SMS_OPERATOR_TOKEN is unset; generated operator token: %s", operator_token)
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        accounts=accounts,
        quota=quota,
        followers=[quota_follower],
        ledger=QuotaLedgerQueries(db),
        alerts=AlertQueries(db),
        idempotency=idempotency,
        operator_token=operator_token,
        carrier_token=settings.carrier_token,
    )


def _default_clock(settings: Settings, db: SqlDatabase) -> Clock:
    """The real clock; in simulation, the simulated one, resumed where it was left."""
    if not settings.simulation:
        return SystemClock()
    stored = StoredSimulatedTime(db)
    return SimulatedClock(stored.load(), on_move=stored.save)


def _wake(followers: list[LogFollower]) -> None:
    for follower in followers:
        follower.wake()
