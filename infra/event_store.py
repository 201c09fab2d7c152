"""``SMS_DATABASE_URL`` mapped, in this one place, onto the eventsourcing library's settings."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from ..adapters.sql import PostgresDatabase, SqlDatabase, SqliteDatabase

SQLITE_FACTORY = "smsplat.adapters.sqlite_event_store:PerApplicationSQLiteFactory"
POSTGRES_FACTORY = "smsplat.adapters.postgres_event_store:DeadlinedPostgresFactory"


class UnsupportedDatabaseUrl(ValueError):
    pass


def sqlite_path(url: str) -> str:
    """``sqlite:///relative/x.db`` or ``sqlite:////absolute/x.db`` to a file path."""
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        raise UnsupportedDatabaseUrl(
            "SQLite needs a file (the follower reads from its own connection)"
        )
    return path


def event_store_env(
    url: str, pool_size: int = 5, timeout: float = 5.0, statement_timeout: float = 30.0
) -> dict[str, str]:
    """The eventsourcing environment for ``url`` (shared by every application). ``timeout``
    bounds the wait for a connection (from the pool, and libpq's connect); every statement
    is cancelled after ``statement_timeout`` seconds."""
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": SQLITE_FACTORY,
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlparse(url)
        return {
            "PERSISTENCE_MODULE": POSTGRES_FACTORY,
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(max(1, round(timeout))),  # the pool's wait
            "SMSPLAT_CONNECT_TIMEOUT": str(max(1, round(timeout))),
            "SMSPLAT_STATEMENT_TIMEOUT_MS": str(round(statement_timeout * 1000)),
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
            # Never POSTGRES_ENABLE_DB_FUNCTIONS: it drops the table lock that keeps
            # notification readers from skipping events (docs/architecture.md).
        }
    raise UnsupportedDatabaseUrl(
        f"SMS_DATABASE_URL must be sqlite:///... or postgresql://...: {url}"
    )


def read_store(url: str, timeout: float = 5.0, statement_timeout: float = 30.0) -> SqlDatabase:
    """The database for read models and idempotency records: the event store's own."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(sqlite_path(url))
    return PostgresDatabase(
        url.replace("postgres://", "postgresql://", 1),
        statement_timeout_ms=round(statement_timeout * 1000),
        timeout=timeout,
    )
