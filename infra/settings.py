"""Settings from ``SMS_*`` environment variables (or a ``.env`` file), via pydantic-settings."""

from __future__ import annotations

import json

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./data/smsplat.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMS_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    kafka_bootstrap: str | None = None
    operator_token: str | None = None
    carrier_token: str | None = None
    # the real carriers, a JSON list of {name, url, networks?, priority?} (SMPP 3.4); unset:
    # the simulated carrier. With SMS_SIMULATION=1 as well, only the clock is simulated.
    carriers: str | None = None
    simulation: bool = False
    projection_batch_size: int = Field(default=500, ge=1, le=10_000)
    projection_poll_seconds: float = Field(default=0.5, gt=0)
    postgres_pool_size: int = Field(default=5, ge=1)
    # how long a worker's claim on a batch lasts before another worker may take it over
    handover_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    # deadlines: waiting for a database connection, and any one statement
    database_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    statement_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # how long a request's Idempotency-Key claim lasts before a retry may run it again
    idempotency_lease_seconds: float = Field(default=15.0, gt=0, le=3600)
    # connections (infra/http_server.py): a request head's deadline, the keep-alive idle
    # time, and the most connections (beyond: 503)
    http_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    http_keep_alive_seconds: float = Field(default=5.0, ge=1, le=300)
    http_max_connections: int = Field(default=512, ge=1, le=100_000)
    # webhooks may go over http and to private and loopback addresses (development, tests)
    webhook_allow_private: bool = False
    # how long a dispatcher's hold on a delivery lasts (wall clock) before another may send
    # it (one killed mid-delivery), and how long a receiver may take to answer
    webhook_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # the web console's session cookie: the key it is signed with (unset: derived from the
    # operator token, so changing the token ends every session), how long a sign-in lasts,
    # and whether it is Secure (unset: Secure unless SMS_SIMULATION=1, i.e. development)
    console_session_secret: str | None = None
    console_session_minutes: int = Field(default=480, ge=1, le=30 * 24 * 60)
    console_secure_cookie: bool | None = None

    def carrier_entries(self) -> list[dict[str, object]]:
        """``SMS_CARRIERS`` read: each carrier's entry (an empty list: the simulated one)."""
        if not self.carriers:
            return []
        entries = json.loads(self.carriers)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError("SMS_CARRIERS must be a JSON list of {name, url, …} objects")
        return entries

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))
