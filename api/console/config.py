"""What the console needs to know that the API does not: how its session cookie is made."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleConfig:
    session_secret: str  # signs the session cookie (itsdangerous)
    session_seconds: int  # a sign-in lasts this long
    secure_cookie: bool  # the cookie is sent over HTTPS only

    @classmethod
    def of(
        cls,
        operator_token: str,
        secret: str | None,
        minutes: int,
        secure: bool | None,
        development: bool,
    ) -> ConsoleConfig:
        """Unset ``secret``: one derived from the operator token (every process of a
        deployment agrees, and a new token ends all sessions). Unset ``secure``: Secure
        except in ``development``."""
        key = secret or _derived_secret(operator_token)
        return cls(key, minutes * 60, (not development) if secure is None else secure)


def _derived_secret(operator_token: str) -> str:
    label = b"smsplat console session v1"
    return hmac.new(operator_token.encode(), label, hashlib.sha256).hexdigest()
