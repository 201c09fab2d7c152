"""Audiences (S4): customers synced from the account's products, and marketing opt-outs.

S4's high-quality customers (高质量客户) come in three conditions: players of interactive games
who left a number, site members with a number, mini-program appointment customers. Each
``Customer`` is one (account, product, phone, condition), its id derived from those, so a sync
repeated any number of times is one customer.

*Beyond the original:* a recipient who replies ``R``, ``TD``, ``T`` or ``退订`` to a marketing
message opts out of that account's marketing. An ``OptOut`` is one per (account, phone); it is
active or not, and its events are the list's history.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from .errors import DomainError, InvalidInput, InvalidPhone, NotFound, Problems
from .handled_requests import HandledRequests
from .phones import parse_mainland_mobile
from .products import Product

E = TypeVar("E", bound=StrEnum)

MAX_CUSTOMER_NAME = 50
MAX_CUSTOMERS_PER_SYNC = 1000  # one request's batch (a product's nightly export, in pages)
MAX_OPT_OUT_TEXT = 500

# The line the platform appends to marketing messages (someone else puts it there).
OPT_OUT_LINE = "拒收请回复R"

# Replies that opt out, compared after NFKC (full-width to plain), trimming and upper-casing.
OPT_OUT_KEYWORDS = frozenset({"R", "TD", "T", "退订"})


class Condition(StrEnum):
    """S4: the three kinds of high-quality customers."""

    GAME_PLAYER = "game_player"  # played an interactive game and left a number
    SITE_MEMBER = "site_member"  # a site member with a number
    MINIAPP_BOOKING = "miniapp_booking"  # booked an appointment in a mini-program


class OptOutSource(StrEnum):
    REPLY = "reply"  # the recipient replied with an opt-out keyword
    ACCOUNT = "account"  # the account (or the operator) added the number


def is_opt_out_reply(text: object) -> bool:
    """Is a recipient's reply one of the opt-out keywords ``R``, ``TD``, ``T``, ``退订``?

    Any case; surrounding spaces (full-width too) are ignored and full-width letters count
    (``Ｒ``, ``ｔｄ``). Anything else, e.g. ``RT``, ``r td`` or ``好的``, is not an opt-out.
    """
    if not isinstance(text, str):
        return False
    return unicodedata.normalize("NFKC", text).strip().upper() in OPT_OUT_KEYWORDS


# -- ids ------------------------------------------------------------------------------------


def customer_id(account_id: UUID | str, product: str, phone: str, condition: str) -> UUID:
    """One customer per account, product, (normalised) phone and condition."""
    return uuid5(
        NAMESPACE_URL,
        f"smsplat:customer:{account_id}:{Product(product).value}:{phone}:"
        f"{Condition(condition).value}",
    )


def opt_out_id(account_id: UUID | str, phone: str) -> UUID:
    """One opt-out record per account and (normalised) phone."""
    return uuid5(NAMESPACE_URL, f"smsplat:opt-out:{account_id}:{phone}")


# -- validation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerDetails:
    """A valid customer to sync: the outcome of ``validate_customer``."""

    condition: Condition
    phone: str  # the 11-digit national number
    product: Product
    name: str | None

    def customer_id(self, account_id: UUID | str) -> UUID:
        return customer_id(account_id, self.product, self.phone, self.condition)


def parse_condition(value: object) -> Condition:
    """A condition, or InvalidInput listing the choices."""
    problems = Problems()
    condition = _choice(Condition, value, "condition", problems)
    problems.raise_if_any(f"condition must be one of: {_choices(Condition)}.")
    assert condition is not None
    return condition


def parse_phone(value: object) -> str:
    """The 11-digit number, or the phone's error (``invalid_phone``, ``not_mainland_mobile``)."""
    if not isinstance(value, str):
        raise InvalidPhone(f"{value!r} is not a phone number.")
    return parse_mainland_mobile(value)


def validate_customer(
    condition: object, phone: object, product: object, name: object
) -> CustomerDetails:
    """Check a customer to sync.

    A bad phone alone is refused with its own error (``invalid_phone``/``not_mainland_mobile``);
    several problems are refused together as ``validation_error``, each listed with its code.
    """
    problems = Problems()
    chosen_condition = _choice(Condition, condition, "condition", problems)
    number = ""
    phone_error: DomainError | None = None
    try:
        number = parse_phone(phone)
    except DomainError as exc:
        phone_error = exc
        problems.add("phone", exc.code, exc.detail)
    chosen_product = _choice(Product, product, "product", problems)
    clean_name: str | None = None
    if name is not None:
        if not isinstance(name, str):
            problems.add("name", "validation_error", "name must be text.", "name 须为文本。")
        else:
            clean_name = name.strip() or None
            if clean_name is not None and len(clean_name) > MAX_CUSTOMER_NAME:
                problems.add(
                    "name", "validation_error",
                    f"name is at most {MAX_CUSTOMER_NAME} characters.",
                    f"name 最多 {MAX_CUSTOMER_NAME} 个字符。",
                )  # fmt: skip
    if phone_error is not None and len(problems.items) == 1:
        phone_error.problems = list(problems.items)
        raise phone_error
    problems.raise_if_any("The customer has invalid fields.")
    assert chosen_condition is not None and chosen_product is not None
    return CustomerDetails(chosen_condition, number, chosen_product, clean_name)


def validate_customers(customers: Sequence[Mapping[str, object]]) -> list[CustomerDetails]:
    """Check a batch of customers to sync (S4), at most ``MAX_CUSTOMERS_PER_SYNC``: every one
    is valid or the batch is refused whole, each problem listed at ``customers[i].field``."""
    if not 0 < len(customers) <= MAX_CUSTOMERS_PER_SYNC:
        raise InvalidInput(
            f"customers holds 1 to {MAX_CUSTOMERS_PER_SYNC:,} customers; got {len(customers):,}.",
            field="customers",
            detail_zh=f"customers 须包含 1 至 {MAX_CUSTOMERS_PER_SYNC} 个客户。",
        )
    problems = Problems()
    checked: list[CustomerDetails] = []
    for i, c in enumerate(customers):
        try:
            checked.append(
                validate_customer(c.get("condition"), c.get("phone"), c.get("product"),
                                  c.get("name"))
            )  # fmt: skip
        except DomainError as refused:
            for p in refused.problems:
                problems.add(f"customers[{i}].{p.field}", p.code, p.message, p.message_zh)
    problems.raise_if_any("Some customers have invalid fields; none was synced.")
    return checked


def parse_opt_out_source(value: object) -> OptOutSource:
    problems = Problems()
    source = _choice(OptOutSource, value, "source", problems)
    problems.raise_if_any(f"source must be one of: {_choices(OptOutSource)}.")
    assert source is not None
    return source


def _choice(enum: type[E], value: object, field: str, problems: Problems) -> E | None:
    try:
        return enum(value if isinstance(value, str) else "")
    except ValueError:
        allowed = _choices(enum)
        problems.add(
            field, "validation_error", f"{field} must be one of: {allowed}.",
            f"{field} 须为以下之一:{allowed}。",
        )  # fmt: skip
        return None


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(e.value for e in enum)


# -- aggregates -----------------------------------------------------------------------------


class Customer(Aggregate):
    """A customer synced from one of the account's products (S4).

    Syncing the same (account, product, phone, condition) again is the same customer: with
    another non-empty name it records ``Renamed``; otherwise nothing (an omitted name keeps
    the one known).
    """

    class Synced(Aggregate.Created):
        account_id: str
        product: str
        phone: str
        condition: str
        name: str | None
        actor: str

    class Renamed(Aggregate.Event):
        name: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Customer)
            aggregate.name = self.name

    def __init__(
        self,
        account_id: str,
        product: str,
        phone: str,
        condition: str,
        name: str | None,
        actor: str,
    ) -> None:
        self.account_id = account_id
        self.product = product
        self.phone = phone
        self.condition = condition
        self.name = name
        self.synced_by = actor

    @classmethod
    def sync(
        cls, account_id: UUID | str, details: CustomerDetails, actor: str, at: datetime
    ) -> Customer:
        """The first sync of a customer; its id is ``details.customer_id(account_id)``."""
        return cls._create(
            cls.Synced,
            id=details.customer_id(account_id),
            account_id=str(account_id),
            product=details.product.value,
            phone=details.phone,
            condition=details.condition.value,
            name=details.name,
            actor=actor,
            timestamp=at,
        )

    def resync(self, details: CustomerDetails, actor: str, at: datetime) -> bool:
        """A repeated sync: True if it recorded a new name, False if it changed nothing."""
        if details.customer_id(self.account_id) != self.id:
            raise ValueError("these details belong to another customer")
        if details.name is None or details.name == self.name:
            return False
        self.trigger_event(self.Renamed, name=details.name, actor=actor, timestamp=at)
        return True

    @property
    def synced_at(self) -> datetime:
        return self.created_on


class OptOut(Aggregate, HandledRequests):
    """Whether one number has opted out of one account's marketing, and its history.

    Opting out while active records nothing; removal (by the account or operator) ends it;
    a later opt-out (another reply) records a new ``OptedOut``.
    """

    class Created(Aggregate.Created):
        account_id: str
        phone: str

    class OptedOut(Aggregate.Event):
        account_id: str
        phone: str
        source: str
        text: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, OptOut)
            aggregate.active = True
            aggregate.source = self.source
            aggregate.text = self.text
            aggregate.opted_out_at = self.timestamp

    class OptOutRemoved(Aggregate.Event):
        account_id: str
        phone: str
        actor: str
        request_id: str | None = None  # see domain/handled_requests.py

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, OptOut)
            aggregate._handled(self.request_id)
            aggregate.active = False
            aggregate.source = None
            aggregate.text = None
            aggregate.opted_out_at = None

    def __init__(self, account_id: str, phone: str) -> None:
        self.account_id = account_id
        self.phone = phone
        self.active = False
        self.source: str | None = None
        self.text: str | None = None
        self.opted_out_at: datetime | None = None
        self.handled: set[str] = set()

    @classmethod
    def register(cls, account_id: UUID | str, phone: object, at: datetime) -> OptOut:
        """The (not yet active) record of a number for an account; ``opt_out`` activates it."""
        number = parse_phone(phone)
        return cls._create(
            cls.Created,
            id=opt_out_id(account_id, number),
            account_id=str(account_id),
            phone=number,
            timestamp=at,
        )

    @classmethod
    def start(
        cls, account_id: UUID | str, phone: object, source: object, text: object, at: datetime
    ) -> OptOut:
        """A number's first opt-out from an account: ``register`` then ``opt_out``."""
        source_ = parse_opt_out_source(source)
        clean_text = _opt_out_text(text)
        opt_out = cls.register(account_id, phone, at)
        opt_out.opt_out(source_, clean_text, at)
        return opt_out

    def opt_out(self, source: object, text: object, at: datetime) -> bool:
        """Opt out; True if it recorded it, False if the number was already opted out."""
        source_ = parse_opt_out_source(source)
        clean_text = _opt_out_text(text)
        if self.active:
            return False
        self.trigger_event(
            self.OptedOut,
            account_id=self.account_id,
            phone=self.phone,
            source=source_.value,
            text=clean_text,
            timestamp=at,
        )
        return True

    def remove(self, actor: str, at: datetime, request_id: str | None = None) -> None:
        """The account takes the number off its opt-out list; NotFound if it is not on it."""
        if self.already_handled(request_id):
            return
        if not self.active:
            raise NotFound(f"{self.phone} has not opted out of account {self.account_id}.")
        self.trigger_event(
            self.OptOutRemoved,
            account_id=self.account_id,
            phone=self.phone,
            actor=actor,
            request_id=request_id,
            timestamp=at,
        )


def _opt_out_text(text: object) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InvalidInput("text must be text.")
    if len(text) > MAX_OPT_OUT_TEXT:
        raise InvalidInput(f"text is at most {MAX_OPT_OUT_TEXT} characters.")
    return text.strip()
