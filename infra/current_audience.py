"""The audience as sending needs it: current as of the call, not as of the last poll.

Sends decide on the audience read models (synced customers, S4; opt-outs). Catching their
follower up first means a customer synced, or a number opted out, before the request is
always seen by it (the follower's compare-and-set tracking makes this safe beside the
background loop).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..adapters.log_follower import LogFollower
from ..projections.audience import AudienceQueries


class CurrentAudience:
    """``commands.ports.AudienceDirectory`` over the audience read models."""

    def __init__(self, follower: LogFollower, queries: AudienceQueries) -> None:
        self.follower = follower
        self.queries = queries

    def numbers(self, account_id: str, conditions: Sequence[str]) -> list[str]:
        self.follower.catch_up()
        return self.queries.numbers(account_id, conditions)

    def named_numbers(
        self, account_id: str, conditions: Sequence[str]
    ) -> list[tuple[str, str | None]]:
        self.follower.catch_up()
        return self.queries.named_numbers(account_id, conditions)

    def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        self.follower.catch_up()
        return self.queries.opted_out(account_id, phones)
