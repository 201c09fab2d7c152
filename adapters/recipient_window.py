"""Counting messages per recipient number for S9, in the shared database.

``admit`` decides, for messages about to be handed to the carrier, which are within the limits,
and records the decision per message id in the same transaction: a worker that retries a batch
after a crash gets the same answers, and the messages it already let through are not counted
against themselves. On PostgreSQL, an advisory lock per number makes two workers take turns.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ..domain.recipient_limits import DAY, HOUR, over_limit
from .sql import SqlDatabase, Tx

CHUNK = 500


class RecipientWindow:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        db = self.db
        ts = "TIMESTAMPTZ" if db.dialect == "postgres" else "TEXT"
        with db.transaction() as tx:
            tx.execute(
                f"""CREATE TABLE IF NOT EXISTS recipient_handovers (
                    message_id TEXT PRIMARY KEY, phone TEXT NOT NULL, category TEXT NOT NULL,
                    at {ts} NOT NULL, allowed BOOLEAN NOT NULL)"""
            )
            tx.execute(
                "CREATE INDEX IF NOT EXISTS recipient_handovers_phone "
                "ON recipient_handovers (phone, category, at)"
            )

    def admit(self, category: str, messages: Sequence[tuple[str, str]], at: datetime) -> set[str]:
        """The ids, among ``(message id, phone)``, that may go to the carrier now (S9): the
        numbers locked, the decisions already made and the counts of every number read in one
        statement each, the new decisions written in one (a batch of codes to as many
        numbers was three statements a message)."""
        allowed: set[str] = set()
        with self.db.transaction() as tx:
            if self.db.dialect == "postgres":
                keys = sorted({_lock_key(p) for _, p in messages})  # in one order: no deadlock
                tx.execute(
                    "SELECT pg_advisory_xact_lock(k) FROM "
                    "(SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k) AS keys",
                    (keys,),
                )
            decided = self._decided(tx, [m for m, _ in messages])
            counts = self._counts_of(tx, sorted({p for _, p in messages}), category, at)
            new: list[tuple[object, ...]] = []
            for ident, phone in messages:
                if ident in decided:
                    if decided[ident]:
                        allowed.add(ident)
                    continue
                seen = counts.setdefault(phone, {HOUR: 0, DAY: 0})
                ok = not over_limit(category, seen)
                new.append((ident, phone, category, self._time(at), ok))
                if ok:  # the next message to the number counts this one
                    allowed.add(ident)
                    seen[HOUR] += 1
                    seen[DAY] += 1
            if new:
                tx.executemany(
                    "INSERT INTO recipient_handovers (message_id, phone, category, at, allowed) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    new,
                )
        return allowed

    def would_fail(self, category: str | None, phones: Sequence[str], at: datetime) -> list[str]:
        """The numbers a send now would find over the limit (the dry run)."""
        if category is None:
            return []
        with self.db.reading() as tx:
            counts = self._counts_of(tx, sorted(set(phones)), category, at)
        none = {HOUR: 0, DAY: 0}
        return [p for p in phones if over_limit(category, counts.get(p, none))]

    def purge(self, now: datetime) -> int:
        """Forget hand-overs older than the longest window."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM recipient_handovers WHERE at < %s", (self._time(now - DAY),))
            return tx.rowcount

    def _decided(self, tx: Tx, ids: list[str]) -> dict[str, bool]:
        found: dict[str, bool] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = tx.execute(
                "SELECT message_id, allowed FROM recipient_handovers WHERE message_id IN "
                f"({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update((r[0], bool(r[1])) for r in rows)
        return found

    def _counts_of(
        self, tx: Tx, phones: list[str], category: str, at: datetime
    ) -> dict[str, dict[timedelta, int]]:
        """Each number's messages let through in the last hour and day (none: not there)."""
        counts: dict[str, dict[timedelta, int]] = {}
        for start in range(0, len(phones), CHUNK):
            chunk = phones[start : start + CHUNK]
            rows = tx.execute(
                "SELECT phone, SUM(CASE WHEN at > %s THEN 1 ELSE 0 END), COUNT(*) "
                "FROM recipient_handovers WHERE category = %s AND allowed AND at > %s "
                f"AND at <= %s AND phone IN ({', '.join(['%s'] * len(chunk))}) GROUP BY phone",
                (self._time(at - HOUR), category, self._time(at - DAY), self._time(at), *chunk),
            )
            counts.update((str(p), {HOUR: int(h or 0), DAY: int(d or 0)}) for p, h, d in rows)
        return counts

    def _time(self, value: datetime) -> object:
        if self.db.dialect == "postgres":
            return value
        return value.astimezone(UTC).isoformat(timespec="microseconds")


def _lock_key(phone: str) -> int:
    return zlib.crc32(f"smsplat:recipient:{phone}".encode())
