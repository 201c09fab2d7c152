"""What a user could write instead of smsplat for a verification code (issue 17's baseline):
one FastAPI endpoint doing one psycopg ``INSERT … COMMIT`` per request, served by the same
uvicorn (httptools, uvloop) in one process. No quota, no template, no carrier: the floor.

``python -m uvicorn benchmarks.baseline_app:app`` with ``BASELINE_DATABASE_URL`` set.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

POOL = ConnectionPool(os.environ["BASELINE_DATABASE_URL"], min_size=4, max_size=16, open=True)
with POOL.connection() as conn:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS baseline_messages (id BIGSERIAL PRIMARY KEY, "
        "phone TEXT NOT NULL, template_id TEXT NOT NULL, code TEXT NOT NULL)"
    )

app = FastAPI()


class MessageIn(BaseModel):
    template_id: str
    phone: str
    variables: dict[str, str]


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/messages", status_code=202)
def message(body: MessageIn) -> dict[str, Any]:
    with POOL.connection() as conn:  # commits on leaving
        row = conn.execute(
            "INSERT INTO baseline_messages (phone, template_id, code) VALUES (%s, %s, %s) "
            "RETURNING id",
            (body.phone, body.template_id, body.variables.get("code", "")),
        ).fetchone()
    assert row is not None
    return {"message_id": row[0]}
