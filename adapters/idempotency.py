"""Idempotency records: ``Idempotency-Key`` → the first response, in the shared database.

A request *claims* its key before the command runs and *completes* it with the response.
A retry with the same key and body gets the stored response; with another body, a refusal.
A claim left behind by a crashed process (or whose completion could not be saved) is taken
over once its lease has run out, on the wall clock (the simulated clock may stand still);
commands derive their ids from the key (``commands/idempotency.py``), so a taken-over command finds
the work already done and answers as the first time would have, instead of doing it twice.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ..commands.idempotency import Claim, ClaimOutcome
from .sql import SqlDatabase

DEFAULT_LEASE_SECONDS = 15.0


class IdempotencyStore:
    def __init__(
        self,
        db: SqlDatabase,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        retention: timedelta = timedelta(days=1),
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.retention = retention
        self.now = wall_clock  # leases and retention run on real time, whatever the service's
        self._unsaved: deque[tuple[str, str, int, bytes, str]] = deque()
        self._unsaved_lock = threading.Lock()

    def create_tables(self) -> None:
        ts = "TIMESTAMPTZ" if self.db.dialect == "postgres" else "TEXT"
        blob = "BYTEA" if self.db.dialect == "postgres" else "BLOB"
        with self.db.transaction() as tx:
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS idempotency_keys (
                    scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
                    state TEXT NOT NULL, status_code INTEGER, body {blob}, content_type TEXT,
                    claimed_at {ts} NOT NULL, PRIMARY KEY (scope, key))"""
            )

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        now = self.now()
        stamp = self._time(now)
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, state, claimed_at) "
                "VALUES (%s, %s, %s, 'running', %s) ON CONFLICT (scope, key) DO NOTHING",
                (scope, key, fingerprint, stamp),
            )
            if tx.rowcount == 1:
                return Claim(ClaimOutcome.NEW)
            rows = tx.execute(
                "SELECT fingerprint, state, status_code, body, content_type, claimed_at "
                "FROM idempotency_keys WHERE scope = %s AND key = %s",
                (scope, key),
            )
            stored_fp, state, status, body, content_type, claimed_at = rows[0]
            if stored_fp != fingerprint:
                return Claim(ClaimOutcome.MISMATCH)
            if state == "done":
                return Claim(ClaimOutcome.REPLAY, int(status), bytes(body), content_type)
            lease_ends = self._parse(claimed_at) + timedelta(seconds=self.lease_seconds)
            if lease_ends > now:
                return Claim(
                    ClaimOutcome.IN_PROGRESS, retry_after=(lease_ends - now).total_seconds()
                )
            tx.execute(
                "UPDATE idempotency_keys SET claimed_at = %s WHERE scope = %s AND key = %s",
                (stamp, scope, key),
            )
            return Claim(ClaimOutcome.NEW)

    def complete(
        self, scope: str, key: str, status_code: int, body: bytes, content_type: str
    ) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE idempotency_keys SET state = 'done', status_code = %s, body = %s, "
                "content_type = %s WHERE scope = %s AND key = %s",
                (status_code, body, content_type, scope, key),
            )

    def complete_later(
        self, scope: str, key: str, status_code: int, body: bytes, content_type: str
    ) -> None:
        """Keep a response whose record could not be saved (the database went away just
        after the command committed) to save by ``save_unsaved``; the client got it."""
        with self._unsaved_lock:
            self._unsaved.append((scope, key, status_code, body, content_type))

    def save_unsaved(self) -> int:
        """Save the responses kept by ``complete_later``; returns how many were saved."""
        saved = 0
        while True:
            with self._unsaved_lock:
                if not self._unsaved:
                    return saved
                item = self._unsaved[0]
            self.complete(*item)  # raises while the database is still away: tried again later
            with self._unsaved_lock:
                self._unsaved.popleft()
            saved += 1

    def abandon(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed on our side (5xx), so a retry may run."""
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM idempotency_keys WHERE scope = %s AND key = %s AND state = 'running'",
                (scope, key),
            )

    def purge(self) -> int:
        """Forget completed keys older than the retention (a retry after that runs anew)."""
        now = self.now()
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM idempotency_keys WHERE state = 'done' AND claimed_at < %s",
                (self._time(now - self.retention),),
            )
            return tx.rowcount

    def _time(self, value: datetime) -> object:
        if self.db.dialect == "postgres":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    @staticmethod
    def _parse(value: object) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
