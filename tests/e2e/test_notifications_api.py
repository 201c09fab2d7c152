"""Message notifications through the HTTP API on PostgreSQL: switched on directly, with no
template and no review (T9)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.helpers import assert_problem, auth
from tests.e2e.template_helpers import list_templates, review_queue
from tests.support import OPERATOR_TOKEN, Api

OFF = {"guestbook": False, "member_registration": False}


def switch(api: Api, account_id: str, token: str, name: str, body: Any) -> httpx.Response:
    r: httpx.Response = api.client.put(
        f"/v1/accounts/{account_id}/notifications/{name}", json=body, headers=auth(token)
    )
    return r


def states(api: Api, account_id: str, token: str = OPERATOR_TOKEN) -> dict[str, bool]:
    r = api.client.get(f"/v1/accounts/{account_id}/notifications", headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account_id"] == account_id
    notifications: dict[str, bool] = body["notifications"]
    return notifications


def test_T9_notifications_are_switched_on_directly_without_review(api: Api) -> None:
    """T9: guestbook and member registration are switched on at once: no template, no review."""
    account_id, key = api.new_account()
    assert states(api, account_id, key) == OFF

    r = switch(api, account_id, key, "guestbook", {"enabled": True})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "account_id": account_id,
        "notifications": {"guestbook": True, "member_registration": False},
    }
    assert states(api, account_id, key) == {"guestbook": True, "member_registration": False}

    r = switch(api, account_id, key, "member_registration", {"enabled": True})
    assert r.status_code == 200, r.text
    assert r.json()["notifications"] == {"guestbook": True, "member_registration": True}
    assert states(api, account_id, key) == {"guestbook": True, "member_registration": True}
    assert states(api, account_id) == {"guestbook": True, "member_registration": True}

    # No template was created and nothing waits for a reviewer.
    api.settle()
    assert list_templates(api, account_id, key) == []
    assert review_queue(api) == []


def test_T9_switching_off_and_switching_twice(api: Api) -> None:
    """T9: a notification can be switched off again; the same switch twice is harmless."""
    account_id, key = api.new_account()
    for _ in range(2):
        r = switch(api, account_id, key, "guestbook", {"enabled": True})
        assert r.status_code == 200, r.text
        assert r.json()["notifications"] == {"guestbook": True, "member_registration": False}
    r = switch(api, account_id, key, "guestbook", {"enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["notifications"] == OFF
    assert states(api, account_id, key) == OFF


def test_T9_unknown_notification_is_404(api: Api) -> None:
    """T9: only guestbook and member_registration exist; anything else is 404."""
    account_id, key = api.new_account()
    for name in ("newsletter", "Guestbook", "member-registration"):
        assert_problem(switch(api, account_id, key, name, {"enabled": True}), 404, "not_found")
    assert states(api, account_id, key) == OFF


def test_T9_enabled_must_be_a_boolean(api: Api) -> None:
    """T9: ``enabled`` is true or false; "yes", 1, null, a missing or an extra field is 422."""
    account_id, key = api.new_account()
    bodies: list[Any] = [
        {"enabled": "yes"},
        {"enabled": "true"},
        {"enabled": 1},
        {"enabled": None},
        {},
        {"enabled": True, "channel": "sms"},
        [True],
    ]
    for body in bodies:
        r = switch(api, account_id, key, "guestbook", body)
        assert_problem(r, 422, "validation_error")
    assert states(api, account_id, key) == OFF


def test_T9_another_accounts_notifications_are_not_found(api: Api) -> None:
    """T9: an account key acts only on its own account: another's notifications are not
    found (404, as if it did not exist)."""
    owner_id, owner_key = api.new_account(phone="13800138001")
    other_id, other_key = api.new_account(name="Other", phone="13800138002")
    assert switch(api, owner_id, owner_key, "guestbook", {"enabled": True}).status_code == 200

    r = switch(api, owner_id, other_key, "member_registration", {"enabled": True})
    assert_problem(r, 404, "not_found")
    r = switch(api, owner_id, other_key, "guestbook", {"enabled": False})
    assert_problem(r, 404, "not_found")
    r = api.client.get(f"/v1/accounts/{owner_id}/notifications", headers=auth(other_key))
    assert_problem(r, 404, "not_found")
    r = api.client.get(f"/v1/accounts/{owner_id}/notifications")
    assert_problem(r, 401, "unauthorized")

    assert states(api, owner_id, owner_key) == {"guestbook": True, "member_registration": False}
    assert states(api, other_id, other_key) == OFF
