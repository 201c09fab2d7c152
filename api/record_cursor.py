"""The records' opaque cursor: the last row's place in their order, as URL-safe base64 JSON.

It names a position, not a row, so a cursor stays good whatever happens to that row.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from ..domain.time_range import in_range
from ..projections.message_records import RecordKey
from .problems import ApiProblem

MAX_CURSOR_LENGTH = 400


def encode_cursor(key: RecordKey) -> str:
    text = json.dumps([key.created_at.isoformat(), key.send_id, key.idx], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> RecordKey:
    """The place ``encode_cursor`` made ``text`` from; 422 with ``errors`` for anything else."""
    try:
        if len(text) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at, send_id, idx = json.loads(raw)
        created_at = datetime.fromisoformat(at)
        if created_at.tzinfo is None or not in_range(created_at) or not isinstance(send_id, str):
            raise ValueError("not a cursor")
        if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < 2**31:
            raise ValueError("not a cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiProblem(
            422,
            "validation_error",
            "cursor must be a next_cursor this list gave.",
            errors=[{"field": "cursor", "code": "invalid_cursor", "message": "not a cursor"}],
        ) from None
    return RecordKey(created_at, send_id, idx)
