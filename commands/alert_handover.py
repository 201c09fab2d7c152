"""Handing the low-balance alert SMS (Q9), and the platform's other notices, to the carrier
once (see ``domain/alert_sms.py``)."""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ..domain.alert_sms import AlertSms, alert_sms_id, alert_text
from ..domain.quota import QuotaPool
from .ports import Carrier, Clock, OutgoingMessage
from .quota import QuotaApp, QuotaBusy

BUSY_WAIT_SECONDS = 0.02


@dataclass(frozen=True)
class PlatformNotice:
    """An SMS of the platform's own to an account's verification phone, sent once per id."""

    notice_id: str
    account_id: str
    phone: str
    text: str


class AlertHandover:
    def __init__(
        self, quota: QuotaApp, wall_clock: Clock, lease: timedelta, carrier: Carrier
    ) -> None:
        self.quota = quota
        self.wall_clock = wall_clock
        self.lease = lease
        self.carrier = carrier

    def hand_over(self, alert: QuotaPool.LowBalanceAlerted, worker: str) -> None:
        """Q9's alert SMS, once."""
        account = self._account_of(alert.originator_id)
        self.hand_over_notice(
            PlatformNotice(alert.alert_id, account, alert.phone, alert_text(alert.available)),
            worker,
        )

    def hand_over_notice(self, notice: PlatformNotice, worker: str) -> None:
        """Claim the notice's SMS, hand it over, record it; wait while another worker holds
        the claim; do nothing once it was handed over."""
        claim_id = uuid4().hex
        while True:
            sms = self._claimed(notice, claim_id, worker)
            if sms is None:
                return  # handed over already
            if sms.claim_id != claim_id:
                time.sleep(BUSY_WAIT_SECONDS)  # another worker's live claim
                continue
            message = OutgoingMessage(sms.message_id, sms.phone, sms.text)
            (answer,) = self.carrier.submit([message], self.quota.clock.now())
            sms.record_handover(answer.carrier_message_id, answer.error, self.quota.clock.now())
            with suppress(IntegrityError):  # taken over after our lease ran out: it went twice
                self.quota.save(sms)
            return

    def handed_over(self, alert_id: str) -> bool:
        """Whether the alert's SMS was handed to the carrier (so a receipt may name it)."""
        sms = self._get(alert_sms_id(alert_id))
        return sms is not None and sms.handed_over

    def _claimed(self, notice: PlatformNotice, claim_id: str, worker: str) -> AlertSms | None:
        """The notice's SMS as this claim leaves it, or None when it was handed over already."""
        for _ in self.quota.attempts():
            wall_now = self.wall_clock.now()
            lease_until = wall_now + self.lease
            at = self.quota.clock.now()
            sms = self._get(alert_sms_id(notice.notice_id))
            if sms is None:
                sms = AlertSms.claim(
                    notice.notice_id, notice.account_id, notice.phone, notice.text,
                    (claim_id, worker, lease_until), at,
                )  # fmt: skip
            elif not sms.take_over(claim_id, worker, lease_until, wall_now, at):
                if sms.handed_over:
                    return None
                return sms  # someone else's live claim
            if not sms.pending_events or self.quota.save_if_current(None, sms):
                return sms
        raise QuotaBusy(f"The notice SMS {notice.notice_id} is under heavy concurrent use.")

    def _account_of(self, pool_id: UUID) -> str:
        pool: object = self.quota.repository.get(pool_id)
        assert isinstance(pool, QuotaPool)
        return pool.account_id

    def _get(self, sms_id: UUID) -> AlertSms | None:
        try:
            sms: object = self.quota.repository.get(sms_id)
        except AggregateNotFoundError:
            return None
        return sms if isinstance(sms, AlertSms) else None
