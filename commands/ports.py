"""Ports: what the application services need from the outside world.

Adapters in ``smsplat.adapters`` implement them; tests use the in-memory fakes there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The service's time. Never ``datetime.now()`` in the domain: it takes ``at`` from here."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class ChangeListener(Protocol):
    """Told after events were stored, so in-process followers wake at once (not after polling)."""

    def __call__(self) -> None: ...
