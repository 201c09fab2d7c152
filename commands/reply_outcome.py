"""What each reply of a body did, and the body's sums (the answer to the carrier)."""

from __future__ import annotations

from dataclasses import dataclass, field

REPLY_FIELDS = {"phone", "text", "at", "account_id", "reply_id"}


@dataclass(frozen=True)
class ReplyResult:
    """What one reply did: ``opted_out`` (of ``accounts``), ``already_opted_out``, ``ignored``
    (``reason`` ``not_an_opt_out``, kept for ``accounts``, or ``no_recent_marketing``) or
    ``rejected`` (``reason`` a problem code: ``validation_error``, ``invalid_phone``,
    ``not_found`` …)."""

    index: int
    outcome: str
    reason: str | None = None
    accounts: tuple[str, ...] = ()


@dataclass
class ReplyOutcome:
    """What a body of replies did, reply by reply (``results``), and in sums: ``opted_out``
    and ``already`` count (account, number) pairs; ``ignored``, ``unmatched`` and
    ``rejected`` count replies."""

    opted_out: int = 0  # pairs newly opted out
    already: int = 0  # pairs that were opted out already
    ignored: int = 0  # replies that are not opt-outs
    unmatched: int = 0  # opt-outs without account_id from a number no account marketed to
    rejected: list[dict[str, object]] = field(default_factory=list)  # [{index, code}]
    results: list[ReplyResult] = field(default_factory=list)
