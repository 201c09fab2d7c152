"""``ContextApplication.current``: the lock-free read of an aggregate as stored now that every
send uses for its template and every request for its account (issue 17). It must see each
change saved before the read began, and stay one object while nothing changed."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest
from smsplat.domain.errors import DomainError, NotFound

from tests.service.world import World, world


@pytest.fixture
def w() -> World:
    return world()


def test_T7_a_template_deleted_after_a_send_read_it_is_refused_to_the_next(w: World) -> None:
    account = w.account()
    template = w.template(account)
    first = w.templates.usable(template, account)
    assert w.templates.usable(template, account) is first  # nothing changed: the same copy
    w.templates.delete(template, account, "a")
    with pytest.raises(DomainError):
        w.templates.usable(template, account)


def test_a_template_is_usable_only_by_its_account_and_only_when_it_exists(w: World) -> None:
    account, other = w.account(), w.account()
    template = w.template(account)
    with pytest.raises(NotFound):
        w.templates.usable(template, other)
    with pytest.raises(NotFound):
        w.templates.usable(uuid4(), account)


def test_an_account_read_sees_the_product_activated_just_before(w: World) -> None:
    account = w.account(product="site")
    assert w.accounts.account(account).products == ["site"]
    w.accounts.activate_product(account, "mall", "a")
    assert sorted(w.accounts.account(account).products) == ["mall", "site"]
    with pytest.raises(NotFound):
        w.accounts.account(uuid4())


def test_concurrent_readers_of_one_template_all_see_it(w: World) -> None:
    account = w.account()
    template = w.template(account)
    seen: list[object] = []

    def read() -> None:
        for _ in range(50):
            seen.append(w.templates.usable(template, account).id)

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert seen == [template] * 400
