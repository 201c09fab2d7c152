"""Recipients' replies from the carrier (beyond the original: opt-outs by reply).

A reply ``R``, ``TD``, ``T`` or ``退订`` opts the number out of the marketing of the account
the reply answers or, when the carrier does not know it, of every account that sent the
number marketing in the 30 days before the reply (read from the sends read model, caught up
first: ``infra/current_audience.py``). Every reply, opt-out or not, is kept for the accounts
it belongs to, so their webhooks are told (``reply.received``). Each reply is answered on its
own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from ..domain.audience import OptOutSource, is_opt_out_reply, parse_phone
from ..domain.errors import DomainError, InvalidInput, NotFound
from ..domain.review_time import BEIJING
from ..domain.time_range import RANGE_TEXT, in_range
from .audience import AudienceApp
from .command_types import RecordReplies
from .reply_outcome import REPLY_FIELDS, ReplyOutcome, ReplyResult

REPLY_LOOKBACK = timedelta(days=30)  # contract: accounts that sent marketing in the last 30 days


class RecentMarketing(Protocol):
    """Who sent a number marketing lately (implemented on the sends read model)."""

    def accounts_that_sent(self, phone: str, since: datetime, until: datetime) -> list[str]:
        """The ids of the accounts whose marketing the carrier took for ``phone`` between
        ``since`` and ``until`` (a reply answers only what came before it)."""
        ...


class ReplyRecorder:
    def __init__(
        self,
        audience: AudienceApp,
        recent_marketing: RecentMarketing,
        account_exists: Callable[[UUID], bool],
    ) -> None:
        self.audience = audience
        self.recent_marketing = recent_marketing
        self.account_exists = account_exists

    def record(self, command: RecordReplies) -> ReplyOutcome:
        """Recipients' replies from the carrier, each answered on its own. A reply belongs
        to its account (``account_id``) or, without one, to every account that sent the
        number marketing in the 30 days before the reply (``at``, else now); each of them
        keeps it (``reply.received``), once however often the carrier gives it. An opt-out
        keyword also opts the number out of their marketing. A malformed reply, or one naming
        an unknown account, is rejected with its index and code; it never stops the others."""
        outcome = ReplyOutcome()
        for index, reply in enumerate(command.replies):
            try:
                parsed = self._parse_reply(reply)
            except DomainError as exc:
                outcome.rejected.append({"index": index, "code": exc.code})
                outcome.results.append(ReplyResult(index, "rejected", exc.code))
                continue
            outcome.results.append(self._reply(index, parsed, outcome))
        return outcome

    def _reply(self, index: int, reply: _Reply, outcome: ReplyOutcome) -> ReplyResult:
        opt_out = is_opt_out_reply(reply.text)
        accounts = self._accounts_of(reply)
        for account in accounts:
            self.audience.receive_reply(
                account, reply.phone, reply.text, reply.at, opt_out, reply.carrier_reply_id
            )
        if not opt_out:
            outcome.ignored += 1
            return ReplyResult(index, "ignored", "not_an_opt_out", tuple(map(str, accounts)))
        if not accounts:
            outcome.unmatched += 1
            return ReplyResult(index, "ignored", "no_recent_marketing")
        newly = [
            a
            for a in accounts
            if self.audience.opt_out(a, reply.phone, OptOutSource.REPLY, reply.text)
        ]
        outcome.opted_out += len(newly)
        outcome.already += len(accounts) - len(newly)
        if not newly:
            return ReplyResult(index, "already_opted_out", None, tuple(map(str, accounts)))
        return ReplyResult(index, "opted_out", None, tuple(map(str, newly)))

    def _accounts_of(self, reply: _Reply) -> list[UUID]:
        """The account the reply names, else those that sent the number marketing lately."""
        if reply.account is not None:
            return [reply.account]
        since = reply.at - REPLY_LOOKBACK
        return _unique_ids(self.recent_marketing.accounts_that_sent(reply.phone, since, reply.at))

    def _parse_reply(self, reply: object) -> _Reply:
        if not isinstance(reply, Mapping):
            raise InvalidInput("A reply is an object {phone, text, at?, account_id?, reply_id?}.")
        if unknown := set(reply) - REPLY_FIELDS:
            raise InvalidInput(f"A reply has no field {', '.join(sorted(map(str, unknown)))}.")
        phone = parse_phone(reply.get("phone"))
        at = _instant(reply.get("at"), self.audience.clock.now())
        account = _account_id(reply.get("account_id"))
        if account is not None and not self.account_exists(account):
            raise NotFound(f"No account {account}.")
        text = reply.get("text")
        if not isinstance(text, str):
            raise InvalidInput("text must be text.")
        carrier_reply_id = reply.get("reply_id")
        if carrier_reply_id is not None and (
            not isinstance(carrier_reply_id, str) or not 0 < len(carrier_reply_id) <= 100
        ):
            raise InvalidInput("reply_id is the carrier's id of the reply: 1 to 100 characters.")
        return _Reply(phone, text, at, account, carrier_reply_id)


@dataclass(frozen=True)
class _Reply:
    """One reply as checked."""

    phone: str
    text: str
    at: datetime
    account: UUID | None
    carrier_reply_id: str | None


def _instant(value: object, now: datetime) -> datetime:
    """A reply's time: a datetime or ISO 8601 text (without an offset: Beijing time)."""
    if value is None:
        return now
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"at is not an ISO 8601 time: {value!r}.") from None
    if not isinstance(value, datetime):
        raise InvalidInput(f"at is not a time: {value!r}.")
    value = value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if not in_range(value):
        raise InvalidInput(f"at must be {RANGE_TEXT}.")
    return value


def _account_id(value: object) -> UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidInput(f"account_id is not an account id: {value!r}.")


def _unique_ids(values: list[str]) -> list[UUID]:
    """The accounts the read model named, each once, in order (malformed ones skipped)."""
    seen: dict[UUID, None] = {}
    for value in values:
        try:
            seen.setdefault(UUID(str(value)), None)
        except ValueError:
            continue
    return list(seen)
