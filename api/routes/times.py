"""Parsing instants from query strings: ISO 8601; without an offset, Beijing time."""

from __future__ import annotations

import re
from datetime import datetime

from ...domain.time_range import RANGE_TEXT, in_range
from ..problems import ApiProblem
from ..schemas import BEIJING


def as_instant(text: str, field: str) -> datetime:
    try:
        # A "+" in an unencoded query string arrives as a space: put the offset back.
        value = datetime.fromisoformat(re.sub(r" (\d{2}:?\d{2})$", r"+\1", text.strip()))
    except ValueError:
        raise ApiProblem(
            422,
            "validation_error",
            f"{field} must be an ISO 8601 time, e.g. 2026-11-26T09:00:00+08:00.",
            errors=[{"field": field, "code": "validation_error", "message": "not ISO 8601"}],
        ) from None
    value = value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if not in_range(value):
        raise ApiProblem(
            422,
            "validation_error",
            f"{field} must be {RANGE_TEXT}.",
            errors=[{"field": field, "code": "validation_error", "message": "out of range"}],
        )
    return value


def aware(value: datetime | None) -> datetime | None:
    """A time from a request body; without an offset it is Beijing time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=BEIJING)
