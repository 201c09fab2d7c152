"""The audience application: customers synced from products (S4) and marketing opt-outs.

Opt-outs are *beyond the original*: a recipient's reply ``R``, ``TD``, ``T`` or ``退订`` opts
the number out of the marketing of the account the reply answers or, when the carrier does not
know it, of every account that sent the number marketing in the last 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ..domain.audience import (
    Customer,
    CustomerDetails,
    OptOut,
    opt_out_id,
    parse_opt_out_source,
    parse_phone,
    validate_customer,
    validate_customers,
)
from ..domain.errors import NotFound
from ..domain.replies import ReceivedReply, received_reply_id
from .context_application import ContextApplication
from .optimistic import MAX_ATTEMPTS, KeptChanging, saved

A = TypeVar("A", bound=Aggregate)


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
        for _ in range(MAX_ATTEMPTS):
            found = self._get(ident, Customer)
            customer = found or Customer.sync(account_id, details, actor, self.clock.now())
            changed = found is None or customer.resync(details, actor, self.clock.now())
            # a concurrent creator makes our save fail on its version: found next time
            if not changed or saved(self, customer):
                return customer, found is None
        raise KeptChanging("the customer kept changing concurrently")

    def sync_customers(
        self, account_id: UUID, customers: Sequence[Mapping[str, object]], actor: str
    ) -> list[tuple[Customer, bool]]:
        """Sync a batch of customers (S4) in one transaction: refused whole if any is invalid,
        else each as ``sync_customer`` would (a customer named twice is synced twice, in
        order). Returns each one's customer and whether the batch created it.

        The first attempt takes every customer as new (a product's first export) and writes
        them with no read; when some exist already the save conflicts, and the next attempt
        loads each customer and decides again."""
        batch = validate_customers(customers)
        for attempt in range(MAX_ATTEMPTS):
            known = self._known(account_id, batch) if attempt else {}
            decided = self._decided(account_id, batch, known, actor)
            changed = {c.id: c for c, _ in decided if c.pending_events}  # one save each
            if not changed or saved(self, *changed.values()):
                return decided
        raise KeptChanging("the customers kept changing concurrently")

    def _known(self, account_id: UUID, batch: Sequence[CustomerDetails]) -> dict[UUID, Customer]:
        idents = {d.customer_id(account_id) for d in batch}
        found = {ident: self._get(ident, Customer) for ident in idents}
        return {ident: c for ident, c in found.items() if c is not None}

    def _decided(
        self, account_id: UUID, batch: Sequence[CustomerDetails], known: dict[UUID, Customer],
        actor: str,
    ) -> list[tuple[Customer, bool]]:  # fmt: skip
        now = self.clock.now()
        current = dict(known)
        decided: list[tuple[Customer, bool]] = []
        for details in batch:
            ident = details.customer_id(account_id)
            customer = current.get(ident)
            if customer is None:
                customer = current[ident] = Customer.sync(account_id, details, actor, now)
                decided.append((customer, True))
            else:
                customer.resync(details, actor, now)
                decided.append((customer, False))
        return decided

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
        for _ in range(MAX_ATTEMPTS):
            record = self._get(ident, OptOut) or OptOut.register(
                account_id, number, self.clock.now()
            )
            changed = record.opt_out(source_, text, self.clock.now())
            if not changed or saved(self, record):
                return changed
        raise KeptChanging("the opt-out kept changing concurrently")

    # -- replies (reply.received) ---------------------------------------------------------

    def receive_reply(
        self,
        account_id: UUID,
        phone: str,
        text: str,
        replied_at: datetime,
        opt_out: bool,
        carrier_reply_id: str | None,
    ) -> bool:
        """Keep a recipient's reply to ``account_id`` (its webhooks are told); False when
        this reply was kept already (the carrier gave it twice)."""
        ident = received_reply_id(account_id, phone, replied_at, text, carrier_reply_id)
        if self._get(ident, ReceivedReply) is not None:
            return False
        reply = ReceivedReply.receive(
            account_id, phone, text, replied_at, opt_out, carrier_reply_id, self.clock.now()
        )
        return saved(self, reply)  # False: a concurrent copy of the same reply was first

    def remove_opt_out(
        self, account_id: UUID, phone: object, actor: str, request_id: str | None = None
    ) -> None:
        """Take a number off the account's opt-out list; NotFound if it is not on it."""
        number = parse_phone(phone)
        ident = opt_out_id(account_id, number)
        for _ in range(MAX_ATTEMPTS):
            record = self._get(ident, OptOut)
            if record is None:
                raise NotFound(f"{number} has not opted out of account {account_id}.")
            if record.already_handled(request_id):
                return  # this very request removed it: nothing more to do
            record.remove(actor, self.clock.now(), request_id)
            if saved(self, record):
                return
        raise KeptChanging("the opt-out kept changing concurrently")

    def opt_out_record(self, account_id: UUID, phone: object) -> OptOut | None:
        """The number's opt-out record for the account (active or not), from the event store."""
        return self._get(opt_out_id(account_id, parse_phone(phone)), OptOut)

    def is_opted_out(self, account_id: UUID, phone: object) -> bool:
        """Consistent (not eventually consistent) check for one number."""
        record = self.opt_out_record(account_id, phone)
        return record is not None and record.active

    # -- internals ------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None
