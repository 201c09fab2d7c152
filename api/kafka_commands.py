"""Commands from upstream products on Kafka (``sms.commands``): the second entry point.

An envelope ``{command_id, type, account_id, product, issued_at, payload}`` is read like an
HTTP request: its payload through the same pydantic models as the route's body (plus the
ids a route takes from its path), into the same typed command, through the same
``CommandBus``; the result goes out as the route's response body (``api/wire.py``), in
``{command_id, ok, code?, detail?, result?}``. ``handle`` never raises for a bad message.

``command_id`` is the idempotency key: what a command creates takes an id derived from it,
and the first outcome is kept in the command log, so a command delivered twice has one
effect and the same answer. Commands of the operator (accounts, reviews) and of the carrier
(receipts, replies) are not taken here: an upstream product acts on its own account only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel, ValidationError

from ..commands.accounts import AccountsApp
from ..commands.bus import CommandBus
from ..commands.command_types import (
    ActivateProduct,
    BuyPackage,
    CancelSend,
    DeleteTemplate,
    EditTemplate,
    PlanMassSend,
    RemoveOptOut,
    RescheduleSend,
    SubmitTemplate,
    SwitchNotification,
    SyncCustomers,
)
from ..commands.quota import QuotaApp
from ..domain.audience import MAX_CUSTOMERS_PER_SYNC
from ..domain.errors import DomainError, InvalidInput, NotFound
from ..infra.bootstrap import Container, add_command_consumer
from . import wire
from .body_commands import customer_command, mass_send_command, message_command
from .routes.times import aware
from .schemas import (
    CustomerIn,
    EditTemplateIn,
    MessageIn,
    NewTemplateIn,
    NotificationIn,
    ProductIn,
    PurchaseIn,
    RescheduleIn,
    SendIn,
    Strict,
)

MAX_COMMAND_ID_LENGTH = 255
Body = TypeVar("Body", bound=BaseModel)


class CommandLog(Protocol):
    """The outcome of every command handled, by ``command_id`` (the dedupe of at-least-once
    delivery)."""

    def outcome_of(self, command_id: str) -> dict[str, Any] | None: ...

    def record(self, command_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        """Keep ``outcome`` unless one is kept already; return the kept one."""
        ...

    def record_all(self, outcomes: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """``record`` of each (command id, outcome), at once; the kept ones, in order."""
        ...


# Payloads whose route takes an id from its path carry it in the payload instead.
class EditTemplatePayload(EditTemplateIn):
    template_id: UUID


class TemplatePayload(Strict):
    template_id: UUID


class SendPayload(Strict):
    send_id: UUID


class ReschedulePayload(RescheduleIn):
    send_id: UUID


class NotificationPayload(NotificationIn):
    name: str


class OptOutPayload(Strict):
    phone: str


@dataclass(frozen=True)
class Envelope:
    command_id: str
    kind: str  # the envelope's ``type``
    account_id: UUID
    product: str | None
    payload: Mapping[str, Any]

    @property
    def actor(self) -> str:
        return f"account:{self.account_id}"

    def derived_id(self, purpose: str) -> UUID:
        """The id of what this command creates: the same on every delivery."""
        return uuid5(NAMESPACE_URL, f"smsplat:command:{self.command_id}:{purpose}")

    def read(self, model: type[Body], with_product: bool = False) -> Body:
        """The payload as the route's body model (the envelope's product unless it names one)."""
        data = dict(self.payload)
        if with_product and "product" not in data and self.product is not None:
            data["product"] = self.product
        return model.model_validate(data)


class KafkaCommands:
    def __init__(
        self, bus: CommandBus, log: CommandLog, accounts: AccountsApp, quota: QuotaApp
    ) -> None:
        self.bus = bus
        self.log = log
        self.accounts = accounts
        self.quota = quota
        self.readers: dict[str, Callable[[Envelope], BaseModel]] = {
            "activate_product": self._activate_product,
            "purchase_package": self._purchase_package,
            "send_message": self._send_message,
            "send_mass": self._send_mass,
            "cancel_send": self._cancel_send,
            "reschedule_send": self._reschedule_send,
            "submit_template": self._submit_template,
            "edit_template": self._edit_template,
            "delete_template": self._delete_template,
            "switch_notification": self._switch_notification,
            "sync_customer": self._sync_customer,
            "remove_opt_out": self._remove_opt_out,
        }

    def handle(self, message: object) -> dict[str, Any]:
        """``{command_id, ok, code?, detail?, result?}`` for any message, however malformed."""
        command_id = message.get("command_id") if isinstance(message, dict) else None
        if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_COMMAND_ID_LENGTH:
            error = InvalidInput("command_id must be text of 1–255 characters.")
            return {"command_id": None, "ok": False, **wire.refusal(error)}
        kept = self.log.outcome_of(command_id)
        if kept is not None:
            return kept
        try:
            envelope = self._envelope(command_id, message)
            result = wire.json_of(self.readers[envelope.kind](envelope))
            outcome: dict[str, Any] = {"command_id": command_id, "ok": True, "result": result}
        except ValidationError as invalid:
            outcome = {"command_id": command_id, "ok": False, "code": "validation_error",
                       "detail": _validation_detail(invalid)}  # fmt: skip
        except DomainError as refused:
            outcome = {"command_id": command_id, "ok": False, **wire.refusal(refused)}
        return self.log.record(command_id, outcome)

    def handle_many(self, messages: Sequence[object]) -> Iterator[dict[str, Any]]:
        """``handle`` of each message, in order, each outcome yielded once it is kept (so a
        failure part way leaves the consumer knowing which were answered).

        Consecutive new ``sync_customer`` commands of one account, up to 1,000, are synced
        as one batch (``SyncCustomers``, one transaction) and their outcomes kept together;
        each is still its own command with its own outcome. When the batch is refused (one
        of them is invalid), each is handled on its own instead."""
        run: list[tuple[object, Envelope]] = []
        for message in messages:
            envelope = self._new_customer_sync(message)
            if run and (envelope is None or not _joins(run, envelope)):
                yield from self._synced(run)
                run = []
            if envelope is None:
                yield self.handle(message)
            else:
                run.append((message, envelope))
        yield from self._synced(run)

    def _new_customer_sync(self, message: object) -> Envelope | None:
        """The envelope of a well-formed ``sync_customer`` not handled before, else None."""
        if not isinstance(message, dict) or message.get("type") != "sync_customer":
            return None
        command_id = message.get("command_id")
        if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_COMMAND_ID_LENGTH:
            return None
        if self.log.outcome_of(command_id) is not None:
            return None
        try:
            return self._envelope(command_id, message)
        except DomainError:
            return None

    def _synced(self, run: Sequence[tuple[object, Envelope]]) -> list[dict[str, Any]]:
        if len(run) < 2:
            return [self.handle(message) for message, _ in run]
        first = run[0][1]
        try:
            bodies = [e.read(CustomerIn, with_product=True) for _, e in run]
            synced = self.bus.handle(
                SyncCustomers(first.account_id, [b.model_dump() for b in bodies], first.actor)
            )
        except (ValidationError, DomainError):  # one is refused: each answered on its own
            return [self.handle(message) for message, _ in run]
        return self.log.record_all([
            (e.command_id, {"command_id": e.command_id, "ok": True,
                            "result": wire.json_of(wire.customer_out(one))})
            for (_, e), one in zip(run, synced, strict=True)
        ])  # fmt: skip

    def _envelope(self, command_id: str, message: Any) -> Envelope:
        kind = message.get("type")
        if kind not in self.readers:
            raise InvalidInput(f"type must be one of {', '.join(self.readers)}; got {kind!r}.")
        try:
            account_id = UUID(str(message.get("account_id")))
        except ValueError:
            raise InvalidInput("account_id must be an account's id.") from None
        if not self.accounts.exists(account_id):
            raise NotFound(f"No account {account_id}.")
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            raise InvalidInput("payload must be an object.")
        product = message.get("product")
        return Envelope(
            command_id, kind, account_id, product if isinstance(product, str) else None, payload
        )

    # -- one reader per type: envelope → command → bus → the route's response body ------

    def _activate_product(self, e: Envelope) -> BaseModel:
        body = e.read(ProductIn, with_product=True)
        products = self.bus.handle(ActivateProduct(e.account_id, body.product, e.actor))
        return wire.products_out(e.account_id, products)

    def _purchase_package(self, e: Envelope) -> BaseModel:
        body = e.read(PurchaseIn)
        purchase_id = str(e.derived_id("purchase"))
        change = self.bus.handle(BuyPackage(e.account_id, body.package_size, purchase_id, e.actor))
        return wire.purchase_out(purchase_id, body.package_size, change)

    def _send_message(self, e: Envelope) -> BaseModel:
        body = e.read(MessageIn, with_product=True)
        command = message_command(e.account_id, body, e.actor, e.derived_id("message"))
        return wire.message_accepted_out(self.bus.handle(command))

    def _send_mass(self, e: Envelope) -> BaseModel:
        body = e.read(SendIn, with_product=True)
        command = mass_send_command(e.account_id, body, e.actor, e.derived_id("send"))
        if body.dry_run:
            return wire.send_plan_out(self.bus.handle(PlanMassSend(command)))
        return wire.send_accepted_out(self.bus.handle(command))

    def _cancel_send(self, e: Envelope) -> BaseModel:
        body = e.read(SendPayload)
        rid = str(e.derived_id("cancel"))
        cancel = CancelSend(body.send_id, e.actor, rid, owner=e.account_id)
        return wire.send_out(self.bus.handle(cancel))

    def _reschedule_send(self, e: Envelope) -> BaseModel:
        body = e.read(ReschedulePayload)
        when = aware(body.scheduled_at)
        assert when is not None
        rid = str(e.derived_id("reschedule"))
        move = RescheduleSend(body.send_id, when, e.actor, rid, owner=e.account_id)
        return wire.send_out(self.bus.handle(move))

    def _submit_template(self, e: Envelope) -> BaseModel:
        body = e.read(NewTemplateIn)
        template = self.bus.handle(
            SubmitTemplate(e.account_id, body.type, body.kind, body.scenario, body.signature,
                           body.content, e.actor, e.derived_id("template"))
        )  # fmt: skip
        return wire.template_out(template)

    def _edit_template(self, e: Envelope) -> BaseModel:
        body = e.read(EditTemplatePayload)
        rid = str(e.derived_id("resubmit"))
        template = self.bus.handle(
            EditTemplate(body.template_id, e.account_id, body.signature, body.content, e.actor,
                         rid)
        )  # fmt: skip
        return wire.template_out(template)

    def _delete_template(self, e: Envelope) -> BaseModel:
        body = e.read(TemplatePayload)
        rid = str(e.derived_id("delete"))
        deleted = self.bus.handle(DeleteTemplate(body.template_id, e.account_id, e.actor, rid))
        return wire.template_out(deleted)

    def _switch_notification(self, e: Envelope) -> BaseModel:
        body = e.read(NotificationPayload)
        states = self.bus.handle(SwitchNotification(e.account_id, body.name, body.enabled, e.actor))
        return wire.notifications_out(e.account_id, states)

    def _sync_customer(self, e: Envelope) -> BaseModel:
        body = e.read(CustomerIn, with_product=True)
        return wire.customer_out(self.bus.handle(customer_command(e.account_id, body, e.actor)))

    def _remove_opt_out(self, e: Envelope) -> BaseModel:
        body = e.read(OptOutPayload)
        rid = str(e.derived_id("remove"))
        self.bus.handle(RemoveOptOut(e.account_id, body.phone, e.actor, rid))
        return OptOutPayload(phone=body.phone)


def _joins(run: Sequence[tuple[object, Envelope]], envelope: Envelope) -> bool:
    """Whether a customer sync may join a run: the same account, not the same command twice,
    and the run not yet a full batch."""
    return (
        envelope.account_id == run[0][1].account_id
        and all(e.command_id != envelope.command_id for _, e in run)
        and len(run) < MAX_CUSTOMERS_PER_SYNC
    )


def _validation_detail(invalid: ValidationError) -> str:
    first = invalid.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
    return f"{where}: {first.get('msg', 'invalid')}"


def attach_kafka_commands(c: Container) -> None:
    """Consume ``sms.commands`` through this entry point when Kafka is configured."""
    add_command_consumer(c, KafkaCommands(c.bus, c.command_log, c.accounts, c.quota).handle_many)
