"""The operator's metrics after a flow through HTTP: a purchase, a send whose messages are
delivered, fail on receipt, are refused by the carrier or never hear back, a scheduled send
and its cancellation; each figure of ``/metrics`` exactly, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from smsplat.adapters.clock import SimulatedClock
from smsplat.api.app import create_app

from tests.conftest import running_container
from tests.e2e.metrics_helpers import samples
from tests.e2e.sending_helpers import (
    FAILS,
    LONG_CONTENT,
    ORDINARY,
    REFUSED,
    SILENT,
    advance,
    funded_account,
    hand_over,
    mass_template,
    send_ok,
)
from tests.e2e.test_scheduling_api import at, cancel, schedule
from tests.support import Api

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def quiet_api(store_url: str, clock: SimulatedClock) -> Iterator[Api]:
    """The API without its background loops: nothing is handed over, received or projected
    but when the test moves the clock or waits for the read models, so every figure it reads
    is the one it made."""
    with (
        running_container(store_url, clock) as container,
        TestClient(create_app(container, run_projections=False)) as client,
    ):
        yield Api(client, container)


def figures(api: Api, *names: str) -> Samples:
    api.settle()
    return {k: v for k, v in samples(api).items() if k[0] in names}


def one(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (name, frozenset(labels.items()))


def messages(status: str, reason: str = "") -> tuple[str, frozenset[tuple[str, str]]]:
    return one("smsplat_messages", status=status, reason=reason, product="")


def units(kind: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return one("smsplat_quota_units_total", kind=kind, product="")


def latency(total: int, within_5s: int, seconds: float) -> Samples:
    """The receipt histogram of ``total`` receipts, ``within_5s`` of them in 5 s or less."""
    bucket = "smsplat_receipt_latency_seconds_bucket"
    figures = {one(bucket, le="1"): 0.0, one(bucket, le="5"): float(within_5s)}
    for le in ("10", "30", "60", "300", "900", "1800", "3600", "21600", "86400", "259200",
               "+Inf"):  # fmt: skip
        figures[one(bucket, le=le)] = float(total)
    figures[one("smsplat_receipt_latency_seconds_count")] = float(total)
    figures[one("smsplat_receipt_latency_seconds_sum")] = seconds
    return figures


def pipeline(backlog: int, backlog_age: float, receipt_age: float, scheduled: int = 0,
             scheduled_messages: int = 0) -> Samples:  # fmt: skip
    return {
        one("smsplat_send_backlog_messages"): float(backlog),
        one("smsplat_send_backlog_oldest_seconds"): backlog_age,
        one("smsplat_receipt_oldest_awaiting_seconds"): receipt_age,
        one("smsplat_sends_waiting", status="scheduled"): float(scheduled),
        one("smsplat_sends_waiting", status="awaiting_provider_review"): 0.0,
        one("smsplat_sends_waiting_messages", status="scheduled"): float(scheduled_messages),
        one("smsplat_sends_waiting_messages", status="awaiting_provider_review"): 0.0,
    }


def test_a_send_its_receipts_and_refunds_in_the_metrics(quiet_api: Api) -> None:
    api = quiet_api
    account_id, key = funded_account(api)  # 1000 units
    template_id = mass_template(api, account_id, key, LONG_CONTENT)  # 2 units a message
    numbers = [*ORDINARY, FAILS, SILENT, REFUSED]
    send_ok(api, account_id, key, {"template_id": template_id, "recipients": numbers})
    api.container.clock.advance(30)  # accepted, not handed over yet: 30 s in the backlog
    assert figures(api, *NAMES) == {
        messages("pending"): 7, messages("sending"): 0, messages("success"): 0,
        messages("failed"): 0, messages("unknown"): 0,
        units("purchase"): 1000, units("charge"): 14, units("refund"): 0, units("lock"): 0,
        units("release"): 0,
        **latency(0, 0, 0.0), **pipeline(backlog=7, backlog_age=30.0, receipt_age=0.0),
    }  # fmt: skip

    hand_over(api)  # 0003 refused at once (and refunded), the others with the carrier
    advance(api, 10)  # receipts: delivered after 3 s, failed (0001, refunded) after 5 s
    assert figures(api, *NAMES) == {
        messages("pending"): 0, messages("sending"): 1, messages("success"): 4,
        messages("failed", "delivery_failed"): 1, messages("failed", "carrier_refused"): 1,
        messages("unknown"): 0,
        units("purchase"): 1000, units("charge"): 14, units("refund"): 4, units("lock"): 0,
        units("release"): 0,
        **latency(5, 5, 4 * 3 + 5.0), **pipeline(backlog=0, backlog_age=0.0, receipt_age=10.0),
    }  # fmt: skip

    advance(api, 72 * 3600)  # Q8: 0002 unknown, never a receipt
    after = figures(api, *NAMES)
    assert after[messages("sending")] == 0
    assert after[one("smsplat_messages", status="unknown", reason="no_receipt_in_72h",
                     product="")] == 1  # fmt: skip
    assert after[one("smsplat_receipt_oldest_awaiting_seconds")] == 0
    assert after[one("smsplat_receipt_latency_seconds_count")] == 5


def test_a_scheduled_send_waits_in_the_metrics_until_cancelled(quiet_api: Api) -> None:
    api = quiet_api
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, LONG_CONTENT)
    sent = schedule(api, account_id, key, template_id, at(api, hours=2), ORDINARY[:3])
    waiting = figures(api, *NAMES)
    assert waiting[messages("pending")] == 3
    assert waiting[units("lock")] == 6
    assert {k: v for k, v in waiting.items() if k in pipeline(0, 0, 0)} == pipeline(
        backlog=0, backlog_age=0.0, receipt_age=0.0, scheduled=1, scheduled_messages=3
    )
    assert cancel(api, sent["send_id"], key).status_code == 200
    cancelled = figures(api, *NAMES)
    assert cancelled[messages("pending")] == 0
    assert cancelled[units("release")] == 6
    assert {k: v for k, v in cancelled.items() if k in pipeline(0, 0, 0)} == pipeline(
        backlog=0, backlog_age=0.0, receipt_age=0.0
    )


NAMES = (
    "smsplat_messages",
    "smsplat_quota_units_total",
    "smsplat_sends_waiting",
    "smsplat_sends_waiting_messages",
    "smsplat_send_backlog_messages",
    "smsplat_send_backlog_oldest_seconds",
    "smsplat_receipt_oldest_awaiting_seconds",
    "smsplat_receipt_latency_seconds_bucket",
    "smsplat_receipt_latency_seconds_count",
    "smsplat_receipt_latency_seconds_sum",
)


def test_the_counts_match_the_messages_when_made_afresh_and_after_a_rebuild(
    quiet_api: Api,
) -> None:
    api = quiet_api
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, LONG_CONTENT)
    numbers = [*ORDINARY, FAILS, SILENT, REFUSED]
    send_ok(api, account_id, key, {"template_id": template_id, "recipients": numbers})
    hand_over(api)
    advance(api, 10)
    kept = {k: v for k, v in figures(api, *COUNTED).items() if v}
    assert kept[messages("success")] == 4
    quota = api.container.read_models.of("quota")
    with api.container.db.transaction() as tx:  # a database from before the counts tables
        tx.execute("DROP TABLE message_counts")
        tx.execute("DROP TABLE quota_unit_totals")
    api.container.read_models.handler_of(quota).create_tables()
    assert {k: v for k, v in figures(api, *COUNTED).items() if v} == kept
    api.container.read_models.rebuild()
    assert {k: v for k, v in figures(api, *COUNTED).items() if v} == kept


COUNTED = ("smsplat_messages", "smsplat_quota_units_total")
