"""The port of ``Idempotency-Key`` records, and the ids a keyed request's command creates.

A request claims its key before its command runs and completes it with the response; a
retry gets the stored response (``adapters/idempotency.py`` keeps them in the database).
What a keyed command creates (a purchase, a send) takes an id derived from the key, so a
retry whose first answer was lost finds the effect instead of repeating it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5


class ClaimOutcome(Enum):
    NEW = "new"  # go ahead, then complete() or abandon()
    REPLAY = "replay"  # the stored response is the answer
    MISMATCH = "mismatch"  # the key was used with another request body
    IN_PROGRESS = "in_progress"  # the first request with this key is still running


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    status_code: int = 0
    body: bytes = b""
    content_type: str = ""
    retry_after: float = 0.0  # IN_PROGRESS: seconds until the running claim's lease ends


class IdempotencyRecords(Protocol):
    def claim(self, scope: str, key: str, fingerprint: str) -> Claim: ...

    def complete(
        self, scope: str, key: str, status_code: int, body: bytes, content_type: str
    ) -> None: ...

    def complete_later(
        self, scope: str, key: str, status_code: int, body: bytes, content_type: str
    ) -> None:
        """Keep a response whose record could not be saved, to save it a moment later."""
        ...

    def abandon(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed on our side (5xx), so a retry may run."""
        ...


def derived_id(scope: str, key: str, purpose: str) -> UUID:
    """A deterministic id for what a keyed request creates (the same on every retry)."""
    return uuid5(NAMESPACE_URL, f"smsplat:idempotency:{scope}:{key}:{purpose}")
