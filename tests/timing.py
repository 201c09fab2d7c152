"""Waiting on conditions, never on time: generous deadlines, so a busy machine only slows a
test down and never fails it."""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE_SECONDS = 120.0


def wait_until(condition: Callable[[], bool], timeout: float = DEADLINE_SECONDS) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
