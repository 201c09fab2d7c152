"""The webhook delivery log, as an account reads it: each delivery with its attempts (status
code, error, latency), newest first. The tables are the outbox's
(``adapters/webhook_outbox.py``); this is only their query side."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..adapters.sql import SqlDatabase


class DeliveryQueries:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def summary(self) -> dict[str, Any]:
        """For ``/metrics``: deliveries by status, the oldest undelivered one's creation, and
        per endpoint how many wait for a retry (they failed at least once)."""
        with self.db.reading() as tx:
            by_status = tx.execute(
                "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status"
            )
            oldest = tx.execute(
                "SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'"
            )
            failing = tx.execute(
                "SELECT webhook_id, COUNT(*) FROM webhook_deliveries WHERE status = 'pending' "
                "AND attempts > 0 GROUP BY webhook_id"
            )
        first = oldest[0][0] if oldest else None
        return {
            "by_status": {str(s): int(n) for s, n in by_status},
            "oldest_pending": _parse(first) if first is not None else None,
            "failing": {str(w): int(n) for w, n in failing},
        }

    def deliveries(
        self, account_id: str | None, status: str | None, limit: int
    ) -> list[dict[str, object]]:
        """The newest deliveries first, each with its attempts (status code, error,
        latency), of one account (None: every account), ``status`` only if given."""
        where, params = ["1 = 1"], []
        if account_id is not None:
            where.append("account_id = %s")
            params.append(account_id)
        if status is not None:
            where.append("status = %s")
            params.append(status)
        with self.db.reading() as tx:
            rows = tx.execute(
                "SELECT delivery_id, webhook_id, account_id, event_type, status, attempts, "
                "created_at, due_at, last_code, last_error, delivered_at FROM "
                f"webhook_deliveries WHERE {' AND '.join(where)} "
                "ORDER BY seq DESC LIMIT %s",
                [*params, limit],
            )
            ids = [str(r[0]) for r in rows]
            tried = tx.execute(
                "SELECT delivery_id, attempt, at, status_code, error, latency_ms FROM "
                f"webhook_attempts WHERE delivery_id IN ({', '.join(['%s'] * len(ids))}) "
                "ORDER BY delivery_id, attempt",
                ids,
            ) if ids else []  # fmt: skip
        attempts: dict[str, list[dict[str, object]]] = {}
        for d, n, at, code, error, latency in tried:
            attempts.setdefault(str(d), []).append({"attempt": int(n), "at": _parse(at),
                "status_code": code, "error": error, "latency_ms": float(latency)})  # fmt: skip
        keys = ("delivery_id", "webhook_id", "account_id", "event_type", "status", "attempts",
                "created_at", "due_at", "last_code", "last_error", "delivered_at")  # fmt: skip
        out = []
        for r in rows:
            row: dict[str, object] = dict(zip(keys, r, strict=True))
            for stamp in ("created_at", "due_at", "delivered_at"):
                row[stamp] = _parse(row[stamp]) if row[stamp] is not None else None
            row["tries"] = attempts.get(str(r[0]), [])
            out.append(row)
        return out


def _parse(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
