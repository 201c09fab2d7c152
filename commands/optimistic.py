"""Optimistic concurrency for aggregates that are rarely contended (accounts, templates).

Load, decide, save; when another writer got there first the save fails on the aggregate's
version and the command is decided again on the fresh state, so a guard (such as "only a
pending template can be approved") is always checked against what is really stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

A = TypeVar("A")
MAX_ATTEMPTS = 10


class KeptChanging(RuntimeError):
    """Every attempt met a concurrent change (practically never for these aggregates)."""


def update(
    app: Application[Any],
    load: Callable[[], A],
    decide: Callable[[A], bool],
) -> A:
    """Apply ``decide`` (True: it recorded events) to a freshly loaded aggregate and save it."""
    for _ in range(MAX_ATTEMPTS):
        aggregate = load()
        if not decide(aggregate):
            return aggregate
        try:
            app.save(aggregate)  # type: ignore[arg-type]
        except IntegrityError:
            continue
        return aggregate
    raise KeptChanging("the aggregate kept changing concurrently")


def saved(app: Application[Any], *aggregates: Any) -> bool:
    """Save what a decision changed; False when a concurrent writer got there first (decide
    again on fresh state)."""
    try:
        app.save(*aggregates)
    except IntegrityError:
        return False
    return True
