"""Webhook endpoints on their own (no I/O): fields, secrets' rotation, the retry schedule,
disabling, the per-account registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from smsplat.domain.errors import InvalidInput
from smsplat.domain.webhooks import (
    EVENT_TYPES,
    MAX_ENDPOINTS,
    RETRY_AFTER,
    SECRET_OVERLAP,
    TooManyWebhooks,
    WebhookEndpoint,
    WebhookNotFound,
    WebhookRegistry,
    answer_means,
    failing_too_long,
    registry_id,
    retry_at,
)

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def endpoint(**fields: object) -> WebhookEndpoint:
    given: dict[str, object] = {
        "url": "https://shop.example.cn/hooks/sms", "events": ["message.status"],
        "description": None,
    } | fields  # fmt: skip
    return WebhookEndpoint.create(uuid4(), uuid4(), given["url"], given["events"],
                                  given["description"], False, False, T0)  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"url": "http://shop.example.cn/hook"}, ["invalid_url"]),  # https only
        ({"url": "ftp://shop.example.cn/"}, ["invalid_url"]),
        ({"url": "https:///nohost"}, ["invalid_url"]),
        ({"url": "https://user:pw@shop.example.cn/"}, ["invalid_url"]),
        ({"url": 42}, ["invalid_url"]),
        ({"events": []}, ["invalid_events"]),
        ({"events": ["message.status", "message.status"]}, ["invalid_events"]),
        ({"events": ["message.sent"]}, ["invalid_events"]),
        ({"events": "message.status"}, ["invalid_events"]),
        ({"description": "长" * 201}, ["invalid_description"]),
        ({"url": "", "events": [], "description": 3},
         ["invalid_url", "invalid_events", "invalid_description"]),
    ],
)  # fmt: skip
def test_an_endpoint_with_bad_fields_is_refused_with_every_problem(
    fields: dict[str, object], codes: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        endpoint(**fields)
    assert [p.code for p in refused.value.problems] == codes


def test_http_is_allowed_only_when_the_deployment_allows_it() -> None:
    made = WebhookEndpoint.create(uuid4(), uuid4(), "http://127.0.0.1:9000/hook",
                                  list(EVENT_TYPES), "dev", True, True, T0)  # fmt: skip
    assert made.url == "http://127.0.0.1:9000/hook" and made.batch
    assert all(made.subscribes(t) for t in EVENT_TYPES)


def test_a_rotated_secret_signs_beside_the_new_one_for_24_hours() -> None:
    made = endpoint()
    assert made.secret_versions(T0) == [1]
    assert made.rotate(T0) == 2
    assert made.secret_versions(T0 + SECRET_OVERLAP - timedelta(seconds=1)) == [2, 1]
    assert made.secret_versions(T0 + SECRET_OVERLAP) == [2]
    assert made.rotate(T0 + timedelta(hours=1)) == 3  # a second rotation ends the first's overlap
    assert made.secret_versions(T0 + timedelta(hours=2)) == [3, 2]


def test_a_disabled_or_deleted_endpoint_subscribes_to_nothing() -> None:
    gone, deleted = endpoint(), endpoint()
    gone.disable("gone", T0)
    gone.disable("failing", T0)  # already disabled: nothing more recorded
    assert not gone.subscribes("message.status") and gone.disabled_reason == "gone"
    assert len(gone.collect_events()) == 2
    deleted.delete(T0)
    assert not deleted.subscribes("message.status")
    with pytest.raises(WebhookNotFound):
        deleted.delete(T0)
    with pytest.raises(WebhookNotFound):
        deleted.rotate(T0)


def test_retries_follow_the_schedule_for_more_than_24_hours_then_stop() -> None:
    total = sum(RETRY_AFTER, timedelta())
    assert total > timedelta(hours=24)
    at = T0
    for attempts in range(1, len(RETRY_AFTER) + 1):
        due = retry_at(attempts, at, 1.0)
        assert due == at + RETRY_AFTER[attempts - 1]
        at = due
    assert at - T0 == total
    assert retry_at(len(RETRY_AFTER) + 1, at, 1.0) is None
    assert retry_at(1, T0, 1.1) == T0 + timedelta(seconds=5.5)
    assert retry_at(1, T0, 7.0) == T0 + timedelta(seconds=5.5)  # the stretch is bounded
    assert retry_at(1, T0, 0.0) == T0 + timedelta(seconds=4.5)


def test_an_account_has_at_most_so_many_endpoints() -> None:
    account = uuid4()
    registry = WebhookRegistry.open(account, T0)
    assert registry.id == registry_id(account)
    ids = [uuid4() for _ in range(MAX_ENDPOINTS)]
    for webhook_id in ids:
        registry.add(webhook_id, T0)
    with pytest.raises(TooManyWebhooks):
        registry.add(uuid4(), T0)
    registry.remove(ids[0], T0)
    registry.remove(ids[0], T0)  # removed already: nothing recorded
    registry.add(uuid4(), T0)
    assert len(registry.endpoints) == MAX_ENDPOINTS and ids[0] not in registry.endpoints


@pytest.mark.parametrize(
    ("code", "error", "means"),
    [(200, None, "delivered"), (204, None, "delivered"), (410, None, "gone"),
     (500, None, "retry"), (404, None, "retry"), (302, "redirect_not_followed", "retry"),
     (None, "timeout", "retry"), (200, "no_secret", "retry")],
)  # fmt: skip
def test_what_a_receivers_answer_means(code: int | None, error: str | None, means: str) -> None:
    assert answer_means(code, error) == means


def test_an_endpoint_failing_for_5_days_is_failing_too_long() -> None:
    assert not failing_too_long(T0, T0 + timedelta(days=5) - timedelta(seconds=1))
    assert failing_too_long(T0, T0 + timedelta(days=5))
