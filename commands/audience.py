"""The audience application: customers synced from products (S4) and marketing opt-outs.

Opt-outs are *beyond the original*: a recipient's reply ``R``, ``TD``, ``T`` or ``退订`` opts
the number out of the marketing of the account the reply answers or, when the carrier does not
know it, of every account that sent the number marketing in the last 30 days.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ..domain.audience import (
    Customer,
    OptOut,
    OptOutSource,
    is_opt_out_reply,
    opt_out_id,
    parse_opt_out_source,
    parse_phone,
    validate_customer,
)
from ..domain.errors import DomainError, InvalidInput, NotFound
from ..domain.review_time import BEIJING
from ..domain.time_range import RANGE_TEXT, in_range
from .context_application import ContextApplication
from .optimistic import update

REPLY_LOOKBACK = timedelta(days=30)  # contract: accounts that sent marketing in the last 30 days

A = TypeVar("A", bound=Aggregate)


class RecentMarketing(Protocol):
    """Who sent a number marketing lately (implemented on the sends read model)."""

    def accounts_that_sent(self, phone: str, since: datetime, until: datetime) -> list[str]:
        """The ids of the accounts whose marketing the carrier took for ``phone`` between
        ``since`` and ``until`` (a reply answers only what came before it)."""
        ...


REPLY_FIELDS = {"phone", "text", "at", "account_id"}


@dataclass(frozen=True)
class ReplyResult:
    """What one reply did: ``opted_out`` (of ``accounts``), ``already_opted_out``, ``ignored``
    (``reason`` ``not_an_opt_out`` or ``no_recent_marketing``) or ``rejected`` (``reason`` a
    problem code: ``validation_error``, ``invalid_phone``, ``not_found`` …)."""

    index: int
    outcome: str
    reason: str | None = None
    accounts: tuple[str, ...] = ()


@dataclass
class ReplyOutcome:
    """What ``record_replies`` did, reply by reply (``results``), and in sums: ``opted_out``
    and ``already`` count (account, number) pairs; ``ignored``, ``unmatched`` and
    ``rejected`` count replies."""

    opted_out: int = 0  # pairs newly opted out
    already: int = 0  # pairs that were opted out already
    ignored: int = 0  # replies that are not opt-outs
    unmatched: int = 0  # opt-outs without account_id from a number no account marketed to
    rejected: list[dict[str, object]] = field(default_factory=list)  # [{index, code}]
    results: list[ReplyResult] = field(default_factory=list)


class AudienceApp(ContextApplication):
    """Bounded context "audience": its own event table."""

    name = "audience"

    # -- customers (S4) -------------------------------------------------------------------

    def sync_customer(
        self,
        account_id: UUID,
        condition: object,
        phone: object,
        product: object,
        name: object,
        actor: str,
    ) -> tuple[Customer, bool]:
        """Sync a customer (S4); idempotent per product + phone + condition. Returns the
        customer and whether this call created it. A repeated sync with another name renames
        the customer; without a name it changes nothing."""
        details = validate_customer(condition, phone, product, name)
        ident = details.customer_id(account_id)
        created = False

        def load() -> Customer:
            nonlocal created
            found = self._get(ident, Customer)
            created = found is None
            return found or Customer.sync(account_id, details, actor, self.clock.now())

        def decide(customer: Customer) -> bool:
            # a new customer was recorded by load(); a concurrent creator makes the save fail
            # on its version and load() then finds the stored one
            return created or customer.resync(details, actor, self.clock.now())

        customer = update(self, load, decide)
        return customer, created

    def customer(self, customer_id: UUID, owner: UUID | None = None) -> Customer:
        found = self._get(customer_id, Customer)
        if found is None or (owner is not None and found.account_id != str(owner)):
            raise NotFound(f"No customer {customer_id}.")
        return found

    # -- opt-outs -------------------------------------------------------------------------

    def opt_out(self, account_id: UUID, phone: str, source: str, text: str) -> bool:
        """Opt ``phone`` out of ``account_id``'s marketing; True if it changed anything
        (False: it was opted out already)."""
        number = parse_phone(phone)
        source_ = parse_opt_out_source(source)
        ident = opt_out_id(account_id, number)
        changed = False

        def load() -> OptOut:
            found = self._get(ident, OptOut)
            return found or OptOut.register(account_id, number, self.clock.now())

        def decide(opt_out: OptOut) -> bool:
            nonlocal changed
            changed = opt_out.opt_out(source_, text, self.clock.now())
            return changed

        update(self, load, decide)
        return changed

    def remove_opt_out(
        self, account_id: UUID, phone: object, actor: str, request_id: str | None = None
    ) -> None:
        """Take a number off the account's opt-out list; NotFound if it is not on it."""
        number = parse_phone(phone)
        ident = opt_out_id(account_id, number)

        def load() -> OptOut:
            found = self._get(ident, OptOut)
            if found is None:
                raise NotFound(f"{number} has not opted out of account {account_id}.")
            return found

        def decide(opt_out: OptOut) -> bool:
            if opt_out.already_handled(request_id):
                return False  # this very request removed it: nothing more to do
            opt_out.remove(actor, self.clock.now(), request_id)
            return True

        update(self, load, decide)

    def opt_out_record(self, account_id: UUID, phone: object) -> OptOut | None:
        """The number's opt-out record for the account (active or not), from the event store."""
        return self._get(opt_out_id(account_id, parse_phone(phone)), OptOut)

    def is_opted_out(self, account_id: UUID, phone: object) -> bool:
        """Consistent (not eventually consistent) check for one number."""
        record = self.opt_out_record(account_id, phone)
        return record is not None and record.active

    def record_replies(
        self,
        replies: Sequence[object],
        recent_marketing: RecentMarketing,
        account_exists: Callable[[UUID], bool] = lambda _: True,
    ) -> ReplyOutcome:
        """Recipients' replies from the carrier, each answered on its own. An opt-out keyword
        opts the number out of the reply's account (``account_id``) or, without one, of every
        account that sent it marketing in the 30 days before the reply (``at``, else now).
        A malformed reply, or one naming an unknown account, is rejected with its index and
        code; it never stops the others."""
        outcome = ReplyOutcome()
        for index, reply in enumerate(replies):
            try:
                phone, text, at, account = self._parse_reply(reply, account_exists)
            except DomainError as exc:
                outcome.rejected.append({"index": index, "code": exc.code})
                outcome.results.append(ReplyResult(index, "rejected", exc.code))
                continue
            outcome.results.append(self._reply(index, phone, text, at, account,
                                               recent_marketing, outcome))  # fmt: skip
        return outcome

    def _reply(
        self,
        index: int,
        phone: str,
        text: str,
        at: datetime,
        account: UUID | None,
        recent_marketing: RecentMarketing,
        outcome: ReplyOutcome,
    ) -> ReplyResult:
        if not is_opt_out_reply(text):
            outcome.ignored += 1
            return ReplyResult(index, "ignored", "not_an_opt_out")
        if account is not None:
            accounts = [account]
        else:
            since = at - REPLY_LOOKBACK
            accounts = _unique_ids(recent_marketing.accounts_that_sent(phone, since, at))
            if not accounts:
                outcome.unmatched += 1
                return ReplyResult(index, "ignored", "no_recent_marketing")
        newly = [a for a in accounts if self.opt_out(a, phone, OptOutSource.REPLY, text)]
        outcome.opted_out += len(newly)
        outcome.already += len(accounts) - len(newly)
        if not newly:
            return ReplyResult(index, "already_opted_out", None, tuple(map(str, accounts)))
        return ReplyResult(index, "opted_out", None, tuple(map(str, newly)))

    def _parse_reply(
        self, reply: object, account_exists: Callable[[UUID], bool]
    ) -> tuple[str, str, datetime, UUID | None]:
        if not isinstance(reply, Mapping):
            raise InvalidInput("A reply is an object {phone, text, at, account_id?}.")
        if unknown := set(reply) - REPLY_FIELDS:
            raise InvalidInput(f"A reply has no field {', '.join(sorted(map(str, unknown)))}.")
        phone = parse_phone(reply.get("phone"))
        at = _instant(reply.get("at"), self.clock.now())
        account = _account_id(reply.get("account_id"))
        if account is not None and not account_exists(account):
            raise NotFound(f"No account {account}.")
        text = reply.get("text")
        if not isinstance(text, str):
            raise InvalidInput("text must be text.")
        return phone, text, at, account

    # -- internals ------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None


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
