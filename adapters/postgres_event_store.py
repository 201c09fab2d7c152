"""The eventsourcing PostgreSQL store with deadlines on every connection.

eventsourcing 9.5 waits for a pooled connection up to ``POSTGRES_CONNECT_TIMEOUT`` but gives
libpq no connect timeout and sets no statement timeout, so against a database that stopped
answering a save could hang for as long as the outage (seen: 29 s). This factory adds both
to the pool's connection arguments, so every call fails within a few seconds instead, and
the API can say 503 and the background loops can back off.
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

CLIENT_CONNECT_TIMEOUT = "SMSPLAT_CONNECT_TIMEOUT"  # seconds, for libpq's connect
STATEMENT_TIMEOUT = "SMSPLAT_STATEMENT_TIMEOUT_MS"  # milliseconds, per statement


class DeadlinedPostgresFactory(PostgresFactory):
    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        connect = int(float(env.get(CLIENT_CONNECT_TIMEOUT) or 3))
        statement = int(env.get(STATEMENT_TIMEOUT) or 30_000)
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)  # the library passes its connection arguments so
        kwargs.update(connect_timeout=max(1, connect), options=f"-c statement_timeout={statement}")
