"""Webhook endpoints, their secrets and their deliveries (contract: Webhooks)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ...commands.command_types import (
    CreateWebhook,
    DeleteWebhook,
    ReplayWebhook,
    RetryWebhookDelivery,
    RotateWebhookSecret,
)
from ...domain.webhooks import WebhookEndpoint
from ..auth import Caller, Principal, require_account_access
from ..idempotency import keyed_id
from ..problems import ApiProblem
from ..schemas import (
    DeliveryListOut,
    DeliveryOut,
    ReplayedOut,
    ReplayIn,
    RetriedOut,
    WebhookIn,
    WebhookListOut,
    WebhookOut,
    WebhookSecretOut,
    beijing,
)
from ..services import Accounts, Bus, WebhookDeliveries, Webhooks
from .times import aware

router = APIRouter(tags=["webhooks"])


@router.post("/v1/accounts/{account_id}/webhooks", status_code=201,
             response_model=WebhookSecretOut)  # fmt: skip
def create_webhook(
    account_id: UUID, body: WebhookIn, request: Request, caller: Caller, bus: Bus,
    accounts: Accounts,
) -> WebhookSecretOut:  # fmt: skip
    """A new endpoint; its secret is shown here once."""
    _own_account(caller, account_id, accounts)
    made = bus.handle(CreateWebhook(account_id, body.url, body.events, body.description,
                                    body.batch, keyed_id(request, "webhook")))  # fmt: skip
    return WebhookSecretOut(**webhook_out(made.endpoint).model_dump(), secret=made.secret)


@router.get("/v1/accounts/{account_id}/webhooks", response_model=WebhookListOut)
def list_webhooks(
    account_id: UUID, caller: Caller, accounts: Accounts, webhooks: Webhooks
) -> WebhookListOut:
    _own_account(caller, account_id, accounts)
    found = [e for e in webhooks.endpoints(account_id) if not e.deleted]
    return WebhookListOut(items=[webhook_out(e) for e in found])


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: UUID, caller: Caller, webhooks: Webhooks) -> WebhookOut:
    return webhook_out(webhooks.endpoint(webhook_id, _owner(caller)))


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: UUID, caller: Caller, bus: Bus) -> Response:
    """No more deliveries to it; what waits is given up."""
    bus.handle(DeleteWebhook(webhook_id, _owner(caller)))
    return Response(status_code=204)


@router.post("/v1/webhooks/{webhook_id}/rotate-secret", response_model=WebhookSecretOut)
def rotate_secret(webhook_id: UUID, caller: Caller, bus: Bus) -> WebhookSecretOut:
    """A new secret, shown once; the previous one still signs for 24 hours."""
    rotated = bus.handle(RotateWebhookSecret(webhook_id, _owner(caller)))
    return WebhookSecretOut(**webhook_out(rotated.endpoint).model_dump(), secret=rotated.secret)


@router.post("/v1/webhooks/{webhook_id}/replay", status_code=202, response_model=ReplayedOut)
def replay(webhook_id: UUID, body: ReplayIn, caller: Caller, bus: Bus) -> ReplayedOut:
    """Send again, now, everything made for this endpoint since ``since`` (delivered ones
    too, with the same webhook-id: receivers dedupe on it)."""
    since = aware(body.since)
    assert since is not None  # required by the body's model
    count = bus.handle(ReplayWebhook(webhook_id, _owner(caller), since))
    return ReplayedOut(webhook_id=str(webhook_id), deliveries=count)


@router.get("/v1/accounts/{account_id}/webhook-deliveries", response_model=DeliveryListOut)
def list_deliveries(
    account_id: UUID,
    caller: Caller,
    accounts: Accounts,
    deliveries: WebhookDeliveries,
    status: Annotated[
        Literal["pending", "delivered", "failed", "cancelled"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryListOut:
    """The newest first, each with its attempts: status code, error and latency."""
    _own_account(caller, account_id, accounts)
    rows = deliveries.deliveries(str(account_id), status, limit)
    return DeliveryListOut(items=[_delivery_out(r) for r in rows])


@router.post("/v1/webhook-deliveries/{delivery_id}/retry", status_code=202,
             response_model=RetriedOut)  # fmt: skip
def retry_delivery(delivery_id: str, caller: Caller, bus: Bus) -> RetriedOut:
    """Send one delivery again now (a given-up one too), with the same webhook-id."""
    if not bus.handle(RetryWebhookDelivery(delivery_id, _owner(caller))):
        raise ApiProblem(404, "not_found", f"No delivery {delivery_id}.")
    return RetriedOut(delivery_id=delivery_id, status="pending")


def webhook_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        webhook_id=str(endpoint.id), account_id=endpoint.account_id, url=endpoint.url,
        events=list(endpoint.events), description=endpoint.description, batch=endpoint.batch,
        status="active" if endpoint.active else "disabled",
        disabled_reason=endpoint.disabled_reason, created_at=beijing(endpoint.created_on),
    )  # fmt: skip


def _delivery_out(row: dict[str, Any]) -> DeliveryOut:
    def at(key: str) -> Any:
        return beijing(row[key]) if row[key] is not None else None

    return DeliveryOut(
        delivery_id=row["delivery_id"], webhook_id=row["webhook_id"],
        event_type=row["event_type"], status=row["status"], attempts=row["attempts"],
        created_at=at("created_at"),
        next_attempt_at=at("due_at") if row["status"] == "pending" else None,
        last_status_code=row["last_code"], last_error=row["last_error"],
        delivered_at=at("delivered_at"),
        tries=[{**t, "at": beijing(t["at"])} for t in row["tries"]],
    )  # fmt: skip


def _own_account(caller: Principal, account_id: UUID, accounts: Any) -> None:
    """Another account's webhooks and deliveries are not found, as if they did not exist
    (a 403 would tell that the account exists)."""
    if caller.kind == "account" and caller.account_id != account_id:
        raise ApiProblem(404, "not_found", f"No account {account_id}.")
    require_account_access(caller, account_id, accounts)


def _owner(caller: Principal) -> UUID | None:
    """Whose webhooks the caller may touch: its own account's, or any (the operator)."""
    if caller.kind == "account":
        return caller.account_id
    if caller.is_operator:
        return None
    raise ApiProblem(403, "forbidden", "This token may not act on webhooks.")
