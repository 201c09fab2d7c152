"""The audience (and who marketed to whom) as sending and replies need it: current as of
the call, not as of the last poll.

Sends decide on the audience read models (synced customers, S4; opt-outs). Catching their
follower up first means a customer synced, or a number opted out, before the request is
always seen by it (the follower's compare-and-set tracking makes this safe beside the
background loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..adapters.log_follower import LogFollower
from ..projections.audience import AudienceQueries
from ..projections.send_queries import SendQueries


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


class CurrentMarketing:
    """``commands.replies.RecentMarketing`` over the sends read model, caught up first, so
    a reply always sees the marketing handed over before it."""

    def __init__(self, follower: LogFollower, sends: SendQueries) -> None:
        self.follower = follower
        self.sends = sends

    def accounts_that_sent(self, phone: str, since: datetime, until: datetime) -> list[str]:
        self.follower.catch_up()
        return self.sends.accounts_that_sent(phone, since, until)
