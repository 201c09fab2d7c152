"""The console's session: it holds who signed in, and a sign-in ends after its lifetime."""

from __future__ import annotations

import time
from typing import Any, cast
from uuid import uuid4

from fastapi import Request
from smsplat.api.auth import Principal
from smsplat.api.console import session


class FakeRequest:
    """What the session helpers read of a request: its session mapping."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.session: dict[str, Any] = data or {}


def request(data: dict[str, Any] | None = None) -> Request:
    return cast(Request, FakeRequest(data))


def test_sign_in_keeps_the_principal_and_the_language_and_drops_the_old_csrf() -> None:
    r = request({"lang": "en", "csrf": "old"})
    account = Principal("account", uuid4())
    session.sign_in(r, account)
    assert session.signed_in(r, 60) == account
    assert r.session["lang"] == "en" and "csrf" not in r.session


def test_a_sign_in_expires_after_its_lifetime() -> None:
    r = request()
    session.sign_in(r, Principal("operator"))
    r.session[session.SIGNED_IN_AT] = time.time() - 61
    assert session.signed_in(r, 60) is None
    assert session.signed_in(r, 120) == Principal("operator")


def test_sign_out_forgets_the_principal_and_the_csrf_token() -> None:
    r = request({"lang": "zh-CN"})
    session.sign_in(r, Principal("operator"))
    token = session.csrf_token(r)
    assert session.csrf_matches(r, token) and not session.csrf_matches(r, "x")
    session.sign_out(r)
    assert session.signed_in(r, 60) is None and not session.csrf_matches(r, token)
    assert r.session == {"lang": "zh-CN"}


def test_a_tampered_principal_is_nobody() -> None:
    at = time.time()
    for who in ({"kind": "carrier"}, {"kind": "account", "account_id": "x"}, "operator"):
        assert session.signed_in(request({"who": who, "signed_in_at": at}), 60) is None
