"""A throwaway PostgreSQL database per benchmark run."""

from __future__ import annotations

import os
import uuid

import psycopg

ADMIN_URL = os.environ.get("SMS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database() -> tuple[str, str]:
    """(name, url) of a new empty database next to ADMIN_URL's."""
    name = f"smsplat_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_URL.rpartition("/")[0] + "/" + name


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
