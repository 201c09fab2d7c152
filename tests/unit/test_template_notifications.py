"""Message notifications are switched on directly, with no template review: T9 (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from smsplat.domain.accounts import Account, hash_secret
from smsplat.domain.scenarios import Notification

BEIJING = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 7, 22, 0, tzinfo=BEIJING)  # a Saturday night: no review hours matter
ACTOR = "account"
NAMES = ["guestbook", "member_registration"]


def new_account() -> Account:
    account = Account.create(uuid4(), "Acme", "13800138000", hash_secret("s"), "operator", AT)
    account.collect_events()
    return account


def switched(events: Sequence[Any]) -> list[tuple[str, bool]]:
    return [(e.name, e.enabled) for e in events if isinstance(e, Account.NotificationSwitched)]


def replay(events: Sequence[Any]) -> Account:
    agg: Any = None
    for event in events:
        agg = event.mutate(agg)
    assert isinstance(agg, Account)
    return agg


def test_T9_the_two_notifications_are_guestbook_and_member_registration() -> None:
    assert sorted(n.value for n in Notification) == NAMES


def test_T9_a_new_account_lists_both_notifications_switched_off() -> None:
    assert new_account().notification_states() == {
        "guestbook": False,
        "member_registration": False,
    }


@pytest.mark.parametrize("name", NAMES)
def test_T9_a_notification_is_switched_on_and_off_directly(name: str) -> None:
    account = new_account()
    other = next(n for n in NAMES if n != name)
    assert account.switch_notification(Notification(name), True, ACTOR, AT) is True
    assert switched(account.collect_events()) == [(name, True)]
    assert account.notification_states() == {name: True, other: False}

    assert account.switch_notification(Notification(name), False, ACTOR, AT) is True
    assert switched(account.collect_events()) == [(name, False)]
    assert account.notification_states() == {name: False, other: False}


@pytest.mark.parametrize("name", NAMES)
def test_T9_switching_to_the_same_state_records_nothing(name: str) -> None:
    account = new_account()
    assert account.switch_notification(Notification(name), False, ACTOR, AT) is False
    assert account.collect_events() == []
    account.switch_notification(Notification(name), True, ACTOR, AT)
    account.collect_events()
    assert account.switch_notification(Notification(name), True, ACTOR, AT) is False
    assert account.collect_events() == []
    assert account.notification_states()[name] is True


def test_T9_both_notifications_on_and_the_states_survive_a_replay() -> None:
    account = Account.create(uuid4(), "Acme", "13800138000", hash_secret("s"), "operator", AT)
    account.switch_notification(Notification.GUESTBOOK, True, ACTOR, AT)
    account.switch_notification(Notification.MEMBER_REGISTRATION, True, ACTOR, AT)
    account.switch_notification(Notification.GUESTBOOK, False, ACTOR, AT)
    account.switch_notification(Notification.GUESTBOOK, True, ACTOR, AT)
    events = account.collect_events()
    assert switched(events) == [
        ("guestbook", True),
        ("member_registration", True),
        ("guestbook", False),
        ("guestbook", True),
    ]
    assert account.notification_states() == {"guestbook": True, "member_registration": True}
    assert replay(events).notification_states() == account.notification_states()


def test_T9_the_switch_event_records_who_switched_it() -> None:
    account = new_account()
    account.switch_notification(Notification.MEMBER_REGISTRATION, True, "api-key:acme", AT)
    (event,) = account.collect_events()
    assert isinstance(event, Account.NotificationSwitched)
    assert event.actor == "api-key:acme"
    assert event.timestamp == AT
