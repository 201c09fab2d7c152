"""Who is calling: the operator (any account, reviews) or one account by its API key."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..commands.accounts import AccountsApp
from .problems import ApiProblem
from .services import ApiServices, services


@dataclass(frozen=True)
class Principal:
    kind: str  # "operator" | "account" | "carrier"
    account_id: UUID | None = None

    @property
    def actor(self) -> str:
        """How the ledger records who did something (Q12)."""
        return f"account:{self.account_id}" if self.kind == "account" else self.kind

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"


# Declares the scheme in OpenAPI (the Authorize button of /docs); the refusal is ours.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="The operator token (SMS_OPERATOR_TOKEN), an account's API key, or the "
    "carrier token (SMS_CARRIER_TOKEN).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def _bearer(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise ApiProblem(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    return credentials.credentials.strip()


def principal_of_token(token: str, c: ApiServices) -> Principal | None:
    """Whose ``token`` this is (the operator's, the carrier's, an account's API key), or
    None; the one check both the bearer header and the console's sign-in use."""
    if _same(token, c.tokens.operator):
        return Principal("operator")
    if c.tokens.carrier and _same(token, c.tokens.carrier):
        return Principal("carrier")
    account_id = c.accounts.authenticate(token)
    return Principal("account", account_id) if account_id is not None else None


def _same(given: str, known: str) -> bool:
    """Constant time, and as bytes: ``compare_digest`` refuses non-ASCII ``str``."""
    return hmac.compare_digest(given.encode(), known.encode())


def principal(credentials: Credentials, c: Annotated[ApiServices, Depends(services)]) -> Principal:
    found = principal_of_token(_bearer(credentials), c)
    if found is None:
        raise ApiProblem(401, "unauthorized", "The token is not valid.")
    return found


Caller = Annotated[Principal, Depends(principal)]


def require_operator(caller: Principal) -> None:
    if not caller.is_operator:
        raise ApiProblem(403, "forbidden", "Only the platform operator may do this.")


def require_account_access(caller: Principal, account_id: UUID, accounts: AccountsApp) -> None:
    """The operator may act on any existing account; an account only on itself. Another
    account is not found (404), as its templates, sends and messages are: the same answer
    whether it exists or not, so an API key learns nothing of other accounts."""
    if caller.kind == "account":
        if caller.account_id != account_id:
            raise ApiProblem(404, "not_found", "No account with this id.")
        return
    if not caller.is_operator:
        raise ApiProblem(403, "forbidden", "This token may not act on accounts.")
    if not accounts.exists(account_id):
        raise ApiProblem(404, "not_found", f"No account {account_id}.")
