"""Every database a test wrote ends with the ledger verification passing (Q12).

``pg_url`` and ``sqlite_url`` call this before they drop their database, so every integration
and end-to-end test is also a test that nothing it did can leave a unit unexplained: the same
checks as ``smsplat ledger verify`` (the figures, every message against its entries, the read
models), on a fresh connection after the read models caught up.

Markers: ``ledger_tampered`` (the test breaks the ledger on purpose: nothing is checked) and
``pool_only_ledger`` (the test charges pools straight, with no sends behind the entries).
"""

from __future__ import annotations

import sqlite3

import psycopg
from smsplat.adapters.clock import SimulatedClock
from smsplat.infra.bootstrap import build
from smsplat.infra.settings import Settings
from smsplat.projections.ledger_audit import audit_ledger


def has_quota_events(url: str) -> bool:
    """Whether the database holds a quota event table at all (many tests never make one)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'quota_events'"
            ).fetchall()
        return bool(rows)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('quota_events')").fetchone()
    return row is not None and row[0] is not None


def assert_ledger_verifies(url: str, settings: Settings, pool_only: bool = False) -> None:
    if not has_quota_events(url):
        return
    container = build(settings, SimulatedClock())
    try:
        container.read_models.catch_up()
        report = audit_ledger(
            container.quota, container.ledger, container.send_views, pool_only=pool_only
        )
    finally:
        container.close()
    assert report.ok, "ledger verify failed:\n" + "\n".join(report.problems[:50])
