"""What a stored event tells an account's webhooks (contract: Webhooks): ``message.status``
for each message whose status it changed, ``send.status`` when the send's status changed,
``balance.low`` for a low-balance alert (Q9), ``reply.received`` for a recipient's reply,
``template.reviewed`` for a template's review.

A send's events are read with the send as it stood just before each one, and after: a
message's status, and the send's, are exactly what the event made them, in the order the
events were stored (message events for one message arrive in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.message_status import OPTED_OUT, MessageStatus, message_id
from ..domain.quota import QuotaPool
from ..domain.replies import ReceivedReply
from ..domain.review_time import BEIJING
from ..domain.sending import Send
from ..domain.templates import Template
from ..domain.webhooks import (
    BALANCE_LOW,
    MESSAGE_STATUS,
    REPLY_RECEIVED,
    SEND_STATUS,
    TEMPLATE_REVIEWED,
)

REASONS = {  # why a message failed or became unknown, as the API says it
    Send.ReceiptsRecorded: "delivery_failed",
    Send.MessagesExpired: "no_receipt_in_72h",
}


@dataclass(frozen=True)
class WebhookEvent:
    """One thing to tell an account's endpoints that subscribe to ``type``."""

    type: str
    account_id: str
    key: str  # what orders deliveries: a message's events in order, a send's, an account's
    at: datetime
    data: dict[str, Any]


def message_events(before: Send | None, event: Any, after: Send) -> list[WebhookEvent]:
    """``message.status`` for each message of ``after`` whose status ``event`` changed, and
    ``send.status`` when the send's changed."""
    told: list[WebhookEvent] = []
    at = event.timestamp
    failed_why = dict(event.failed) if isinstance(event, Send.BatchSubmitted) else {}
    for index in touched(event):
        now = after.message_status(index)
        if before is not None and before.message_status(index) == now:
            continue  # a receipt for a message already final, say
        reason = None
        if now in (MessageStatus.FAILED, MessageStatus.UNKNOWN):
            reason = failed_why.get(index) or REASONS.get(type(event), OPTED_OUT)
        ident = message_id(after.id, index)
        told.append(WebhookEvent(MESSAGE_STATUS, after.account_id, ident, at, {
            "message_id": ident, "send_id": str(after.id), "phone": after.recipients[index],
            "status": now.value, "reason": reason,
            "units": 0 if reason == OPTED_OUT else after.units_of(index), "at": _iso(at),
        }))  # fmt: skip
    if before is None or before.status != after.status:
        told.append(WebhookEvent(SEND_STATUS, after.account_id, str(after.id), at, {
            "send_id": str(after.id), "status": after.status.value, "counts": after.counts(),
        }))  # fmt: skip
    return told


def touched(event: Any) -> list[int]:
    """The messages whose status ``event`` may have changed, in order."""
    if isinstance(event, Send.BatchSubmitted):
        return sorted([i for i, _ in event.sent] + [i for i, _ in event.failed])
    if isinstance(event, Send.ReceiptsRecorded):
        return sorted([*event.delivered, *event.failed])
    if isinstance(event, Send.MessagesExpired):
        return sorted(event.indices)
    if isinstance(event, Send.SubmissionStarted):
        return sorted(event.skipped)  # opted out since acceptance: failed at submission
    return []


def balance_events(event: QuotaPool.LowBalanceAlerted, account_id: str) -> list[WebhookEvent]:
    return [WebhookEvent(BALANCE_LOW, account_id, f"balance:{account_id}", event.timestamp, {
        "account_id": account_id, "available": event.available, "alert_id": event.alert_id,
        "at": _iso(event.timestamp),
    })]  # fmt: skip


def template_events(event: Any, account_id: str) -> list[WebhookEvent]:
    """``template.reviewed``: approved or rejected by a reviewer, or refused by the
    pre-screen (T5, T10)."""
    if isinstance(event, Template.Approved):
        status, reason, by = "approved", None, event.reviewer
    elif isinstance(event, Template.Rejected):
        status, reason, by = "rejected", event.reason, event.reviewer
    elif isinstance(event, Template.PreScreened) and event.refused:
        status, by = "rejected", "prescreen"
        reason = "; ".join(r.get("message", r.get("code", "")) for r in event.reasons)
    else:
        return []
    template_id = str(event.originator_id)
    return [WebhookEvent(TEMPLATE_REVIEWED, account_id, template_id, event.timestamp, {
        "template_id": template_id, "status": status, "reason": reason, "reviewer": by,
        "at": _iso(event.timestamp),
    })]  # fmt: skip


def reply_events(event: ReceivedReply.Received) -> list[WebhookEvent]:
    """``reply.received``: a recipient's reply to the account (``opt_out``: it was an opt-out
    keyword, and the number is off the account's marketing). Ordered per number."""
    reply_id = str(event.originator_id)
    return [WebhookEvent(REPLY_RECEIVED, event.account_id, f"reply:{event.phone}",
                         event.timestamp, {
        "reply_id": reply_id, "phone": event.phone, "text": event.text,
        "opt_out": event.opt_out, "replied_at": _iso(event.replied_at),
        "at": _iso(event.timestamp),
    })]  # fmt: skip


def _iso(at: datetime) -> str:
    """Times go out in Beijing time with their offset, as everywhere in the API."""
    return at.astimezone(BEIJING).isoformat()
