"""An account's webhook endpoints and their recent deliveries; adding and deleting an
endpoint with the API's commands. The API has no enable/disable: an endpoint is disabled
only by the platform (410, or failing for 5 days), and the page shows why."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from ...commands.command_types import CreateWebhook, DeleteWebhook
from ...domain.errors import DomainError
from ...domain.webhooks import EVENT_TYPES
from ..problems import STATUS_BY_CODE
from ..schemas import beijing
from ..services import Bus, WebhookDeliveries, Webhooks
from .access import AccountViewer, CheckedForm
from .refusals import Refusal, refusal_of
from .rendering import MOUNT, language_of, page
from .session import put_notice, take_notice

router = APIRouter()
DELIVERIES_SHOWN = 20


@router.get("/accounts/{account_id}/webhooks")
def webhooks_page(
    account_id: UUID,
    request: Request,
    caller: AccountViewer,
    webhooks: Webhooks,
    deliveries: WebhookDeliveries,
) -> Response:
    return _page(request, caller, account_id, webhooks, deliveries, notice=take_notice(request))


@router.post("/accounts/{account_id}/webhooks")
def add_webhook(
    account_id: UUID,
    request: Request,
    form: CheckedForm,
    caller: AccountViewer,
    bus: Bus,
    webhooks: Webhooks,
    deliveries: WebhookDeliveries,
) -> Response:
    """The API's creation (the domain checks the URL, events, description). The secret is
    shown once on the page this post answers: never put in the session cookie."""
    url = str(form.get("url") or "").strip()
    events = [str(e) for e in form.getlist("events")]
    description = str(form.get("description") or "").strip() or None
    try:
        made = bus.handle(CreateWebhook(account_id, url, events, description, False))
    except DomainError as refused:
        status = STATUS_BY_CODE.get(refused.code, 409)
        shown = refusal_of(refused, language_of(request))
        entered = {"url": url, "events": events, "description": description or ""}
        return _page(request, caller, account_id, webhooks, deliveries, status, shown, entered)
    created = {"url": made.endpoint.url, "secret": made.secret}
    return _page(request, caller, account_id, webhooks, deliveries, 201, created=created)


@router.post("/accounts/{account_id}/webhooks/{webhook_id}/delete")
def delete_webhook(
    account_id: UUID,
    webhook_id: UUID,
    request: Request,
    form: CheckedForm,
    caller: AccountViewer,
    bus: Bus,
    webhooks: Webhooks,
    deliveries: WebhookDeliveries,
) -> Response:
    """The API's deletion, of this account's endpoint only (another's is not found)."""
    try:
        deleted = bus.handle(DeleteWebhook(webhook_id, account_id))
    except DomainError as refused:
        status = STATUS_BY_CODE.get(refused.code, 409)
        shown = refusal_of(refused, language_of(request))
        return _page(request, caller, account_id, webhooks, deliveries, status, shown)
    put_notice(request, {"deleted": deleted.url})
    return RedirectResponse(f"{MOUNT}/accounts/{account_id}/webhooks", status_code=303)


def _page(request: Request, caller: Any, account_id: UUID, webhooks: Webhooks,
          deliveries: WebhookDeliveries, status: int = 200, refusal: Refusal | None = None,
          entered: dict[str, Any] | None = None, **context: Any) -> Response:  # fmt: skip
    endpoints = [
        {"id": e.id, "url": e.url, "events": list(e.events), "description": e.description,
         "active": e.active, "disabled_reason": e.disabled_reason,
         "created_at": beijing(e.created_on).strftime("%Y-%m-%d %H:%M")}
        for e in webhooks.endpoints(account_id) if not e.deleted
    ]  # fmt: skip
    recent = [_delivery(d) for d in deliveries.deliveries(str(account_id), None, DELIVERIES_SHOWN)]
    return page(
        request, "webhooks.html", status=status, caller=caller, account_id=account_id,
        endpoints=endpoints, deliveries=recent, event_types=EVENT_TYPES, refusal=refusal,
        entered=entered or {"url": "", "events": [], "description": ""},
        here=f"{MOUNT}/accounts/{account_id}/webhooks", **context,
    )  # fmt: skip


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_type": row["event_type"], "status": row["status"], "attempts": row["attempts"],
        "created_at": beijing(row["created_at"]).strftime("%Y-%m-%d %H:%M:%S"),
        "last_code": row["last_code"], "last_error": row["last_error"],
    }  # fmt: skip
