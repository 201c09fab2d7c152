"""Q9's alert SMS is handed over once: claimed first, taken over only after its lease (S5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from smsplat.domain.alert_sms import AlertSms, alert_message_id, alert_sms_id, alert_text
from smsplat.domain.errors import QuotaConflict

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LEASE = T0 + timedelta(minutes=1)


def claimed() -> AlertSms:
    return AlertSms.claim("a1", "acc", "13800138000", alert_text(29), ("c1", "w1", LEASE), T0)


def test_Q9_the_first_claim_holds_the_sms_until_its_lease_runs_out() -> None:
    sms = claimed()
    assert sms.id == alert_sms_id("a1") and sms.message_id == alert_message_id("a1")
    assert sms.text == alert_text(29) and "29" in sms.text
    assert sms.take_over("c1", "w1", LEASE, T0, T0)  # its own claim: still its own
    assert not sms.take_over("c2", "w2", LEASE, T0 + timedelta(seconds=59), T0)
    assert sms.take_over("c2", "w2", LEASE + timedelta(minutes=1), LEASE, T0)  # ran out
    assert sms.claim_id == "c2"


def test_Q9_once_handed_over_it_is_never_claimed_or_recorded_again() -> None:
    sms = claimed()
    sms.record_handover("carrier-1", None, T0)
    assert sms.handed_over
    assert not sms.take_over("c2", "w2", LEASE, LEASE + timedelta(hours=1), T0)
    with pytest.raises(QuotaConflict):
        sms.record_handover("carrier-2", None, T0)
