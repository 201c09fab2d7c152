"""What the console keeps in its signed session cookie: who signed in and when, the CSRF
token, the language, and a one-time notice. Never a token or key: the principal only.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from uuid import UUID

from fastapi import Request

from ..auth import Principal

WHO = "who"
SIGNED_IN_AT = "signed_in_at"
CSRF = "csrf"
LANGUAGE = "lang"
NOTICE = "notice"


def signed_in(request: Request, lifetime_seconds: int) -> Principal | None:
    """The principal of this session, or None: never signed in, signed out, or expired
    (the cookie's signature also expires; this bounds a session re-signed since)."""
    who = request.session.get(WHO)
    at = request.session.get(SIGNED_IN_AT)
    if not isinstance(who, dict) or not isinstance(at, int | float):
        return None
    if time.time() - at > lifetime_seconds:
        return None
    return _principal(who)


def sign_in(request: Request, principal: Principal) -> None:
    """A fresh session for ``principal``: the old one's CSRF token goes with it."""
    language = request.session.get(LANGUAGE)
    request.session.clear()
    if language is not None:
        request.session[LANGUAGE] = language
    who: dict[str, str] = {"kind": principal.kind}
    if principal.account_id is not None:
        who["account_id"] = str(principal.account_id)
    request.session[WHO] = who
    request.session[SIGNED_IN_AT] = int(time.time())


def sign_out(request: Request) -> None:
    """Forget the principal and the CSRF token; the language stays."""
    language = request.session.get(LANGUAGE)
    request.session.clear()
    if language is not None:
        request.session[LANGUAGE] = language


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    token = request.session.get(CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF] = token
    return token


def csrf_matches(request: Request, given: object) -> bool:
    known = request.session.get(CSRF)
    return (
        isinstance(known, str)
        and isinstance(given, str)
        and secrets.compare_digest(known.encode(), given.encode())
    )


def set_language(request: Request, language: str) -> None:
    request.session[LANGUAGE] = language


def put_notice(request: Request, notice: dict[str, Any]) -> None:
    request.session[NOTICE] = notice


def take_notice(request: Request) -> dict[str, Any] | None:
    notice = request.session.pop(NOTICE, None)
    return notice if isinstance(notice, dict) else None


def _principal(who: dict[str, Any]) -> Principal | None:
    kind = who.get("kind")
    if kind == "operator":
        return Principal("operator")
    if kind == "account":
        try:
            return Principal("account", UUID(str(who.get("account_id"))))
        except ValueError:
            return None
    return None
