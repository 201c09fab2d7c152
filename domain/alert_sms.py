"""The low-balance alert SMS (Q9), handed to the carrier once like any batch (S5), and the
platform's other notices to an account's verification phone sent the same way (a webhook
disabled after failing for 5 days).

The quota pool records the alert; the send worker then hands its SMS to the account's
verification phone. Two workers may see the same alert, and a carrier deduplicates nothing,
so the hand-over is claimed first: this small aggregate (one per alert, its id derived from
the alert's) is created by the claim, and only the claim's worker hands the SMS over. As
with batches, a claim whose worker died may be taken over once its lease (wall clock) ran out.

It also tells a receipt about ``alert.<alert_id>`` from a made-up one: only an alert SMS that
was handed over can have a receipt.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from .errors import QuotaConflict

ALERT_PREFIX = "alert."


def alert_message_id(alert_id: str) -> str:
    """The message id of an alert SMS, as the carrier knows it."""
    return f"{ALERT_PREFIX}{alert_id}"


def alert_sms_id(alert_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"smsplat:alert-sms:{alert_id}")


def alert_text(available: int) -> str:
    """Q9: the low-balance SMS to the verification phone (a platform notice, not charged)."""
    return f"【短信平台】您的短信余量为{available}条,已低于30条,为免影响发送,请及时购买短信包。"


def webhook_disabled_text(host: str) -> str:
    """The notice that an endpoint failing for 5 days was disabled (same way as Q9's)."""
    return (
        f"【短信平台】您的回调地址{host}已连续5天推送失败,已停用。"
        "请检查接收服务后重新添加回调地址。"
    )


class AlertSms(Aggregate):
    class Claimed(Aggregate.Created):
        alert_id: str
        account_id: str
        phone: str
        text: str
        claim_id: str
        worker: str
        lease_until: datetime

    class Reclaimed(Aggregate.Event):
        """The first claim's lease ran out before it handed the SMS over: taken over."""

        claim_id: str
        worker: str
        lease_until: datetime

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, AlertSms)
            aggregate.claim_id = self.claim_id
            aggregate.lease_until = self.lease_until

    class HandedOver(Aggregate.Event):
        carrier_message_id: str | None
        failure: str | None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, AlertSms)
            aggregate.handed_over = True

    def __init__(
        self,
        alert_id: str,
        account_id: str,
        phone: str,
        text: str,
        claim_id: str,
        worker: str,
        lease_until: datetime,
    ) -> None:
        self.alert_id = alert_id
        self.account_id = account_id
        self.phone = phone
        self.text = text
        self.claim_id = claim_id
        self.lease_until = lease_until
        self.handed_over = False

    @classmethod
    def claim(
        cls,
        alert_id: str,
        account_id: str,
        phone: str,
        text: str,
        claim: tuple[str, str, datetime],
        at: datetime,
    ) -> AlertSms:
        """The first claim: ``claim`` is (claim id, worker, lease until)."""
        claim_id, worker, lease_until = claim
        return cls._create(
            cls.Claimed, id=alert_sms_id(alert_id), alert_id=alert_id, account_id=account_id,
            phone=phone, text=text, claim_id=claim_id, worker=worker,
            lease_until=lease_until, timestamp=at,
        )  # fmt: skip

    @property
    def message_id(self) -> str:
        return alert_message_id(self.alert_id)

    def take_over(
        self, claim_id: str, worker: str, lease_until: datetime, wall_now: datetime, at: datetime
    ) -> bool:
        """Claim it for ``claim_id``: True if it is (now) this claim's to hand over."""
        if self.handed_over:
            return False
        if self.claim_id == claim_id:
            return True
        if self.lease_until > wall_now:
            return False
        self.trigger_event(
            self.Reclaimed, claim_id=claim_id, worker=worker, lease_until=lease_until,
            timestamp=at,
        )  # fmt: skip
        return True

    def record_handover(self, carrier_id: str | None, failure: str | None, at: datetime) -> None:
        if self.handed_over:
            raise QuotaConflict(f"Alert SMS {self.alert_id} was already handed over.")
        self.trigger_event(
            self.HandedOver, carrier_message_id=carrier_id, failure=failure, timestamp=at
        )
