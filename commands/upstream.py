"""Commands from upstream products (the ``sms.commands`` topic): the same application
services the HTTP API uses, behind one entry point that never raises.

A command is ``{command_id, type, account_id, product, issued_at, payload}``. ``command_id``
is its idempotency key: what a command creates gets an id derived from it (a purchase, a
send), and the first outcome is kept in the command log, so a command delivered twice has
one effect and gets the same result twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from ..domain.errors import DomainError, InvalidInput, NotFound
from ..domain.sending import message_id
from .accounts import AccountsApp
from .audience import AudienceApp
from .quota import QuotaApp
from .sending import SendingService

log = logging.getLogger(__name__)

MAX_COMMAND_ID_LENGTH = 255


class CommandLog(Protocol):
    """The outcome of every command handled, by ``command_id`` (the dedupe of at-least-once
    delivery)."""

    def outcome_of(self, command_id: str) -> dict[str, Any] | None: ...

    def record(self, command_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        """Keep ``outcome`` unless one is kept already; return the kept one."""
        ...


@dataclass(frozen=True)
class Command:
    command_id: str
    type: str
    account_id: UUID
    product: str | None
    payload: Mapping[str, Any]

    @property
    def actor(self) -> str:
        return f"account:{self.account_id}"

    def derived_id(self, purpose: str) -> UUID:
        """The id of what this command creates: the same on every delivery."""
        return uuid5(NAMESPACE_URL, f"smsplat:command:{self.command_id}:{purpose}")


class UpstreamCommands:
    def __init__(
        self,
        accounts: AccountsApp,
        quota: QuotaApp,
        sending: SendingService,
        audience: AudienceApp,
        log_: CommandLog,
    ) -> None:
        self.accounts = accounts
        self.quota = quota
        self.sending = sending
        self.audience = audience
        self.log = log_
        self.handlers: dict[str, Callable[[Command], dict[str, Any]]] = {
            "activate_product": self._activate_product,
            "purchase_package": self._purchase_package,
            "send_message": self._send_message,
            "sync_customer": self._sync_customer,
        }

    def handle(self, message: object) -> dict[str, Any]:
        """``{command_id, ok, code?, detail?, result?}`` for any message, however malformed."""
        command_id = message.get("command_id") if isinstance(message, dict) else None
        if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_COMMAND_ID_LENGTH:
            return _refused(None, InvalidInput("command_id must be text of 1–255 characters."))
        kept = self.log.outcome_of(command_id)
        if kept is not None:
            return kept
        try:
            command = self._parse(command_id, message)
            outcome = {"command_id": command_id, "ok": True,
                       "result": self.handlers[command.type](command)}  # fmt: skip
        except DomainError as refused:
            outcome = _refused(command_id, refused)
        return self.log.record(command_id, outcome)

    def _parse(self, command_id: str, message: Any) -> Command:
        kind = message.get("type")
        if kind not in self.handlers:
            raise InvalidInput(f"type must be one of {', '.join(self.handlers)}; got {kind!r}.")
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
        return Command(
            command_id, kind, account_id, product if isinstance(product, str) else None, payload
        )

    def _activate_product(self, c: Command) -> dict[str, Any]:
        products = self.accounts.activate_product(
            c.account_id, c.payload.get("product", c.product), c.actor
        )
        return {"products": products}

    def _purchase_package(self, c: Command) -> dict[str, Any]:
        purchase_id = str(c.derived_id("purchase"))
        change = self.quota.purchase(
            c.account_id, c.payload.get("package_size"), purchase_id, c.actor
        )
        return {"purchase_id": purchase_id, "entry_id": change.entry_id,
                "balance": asdict(change.balance)}  # fmt: skip

    def _send_message(self, c: Command) -> dict[str, Any]:
        accepted = self.sending.send_message(
            c.account_id, _uuid(c.payload.get("template_id"), "template_id"),
            c.payload.get("phone"), _variables(c.payload.get("variables")),
            c.payload.get("product", c.product), c.actor, c.derived_id("message"),
        )  # fmt: skip
        send = accepted.send
        return {
            "message_id": message_id(send.id, 0),
            "send_id": str(send.id),
            "status": send.message_status(0).value,
            "units": send.units_per_message,
        }

    def _sync_customer(self, c: Command) -> dict[str, Any]:
        customer, created = self.audience.sync_customer(
            c.account_id, c.payload.get("condition"), c.payload.get("phone"),
            c.payload.get("product", c.product), c.payload.get("name"), c.actor,
        )  # fmt: skip
        return {"customer_id": str(customer.id), "created": created}


def _refused(command_id: str | None, error: DomainError) -> dict[str, Any]:
    return {"command_id": command_id, "ok": False, "code": error.code, "detail": error.detail}


def _uuid(value: object, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{field} must be an id.") from None


def _variables(value: object) -> dict[str, object] | None:
    if value is None or isinstance(value, dict):
        return value
    raise InvalidInput("variables must be an object.")
