"""Who is calling: the operator (any account, reviews) or one account by its API key."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

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


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "unauthorized", "Send 'Authorization: Bearer <token>'.")
    return token.strip()


def principal(request: Request, c: Annotated[ApiServices, Depends(services)]) -> Principal:
    token = _bearer(request)
    if hmac.compare_digest(token, c.tokens.operator):
        return Principal("operator")
    if c.tokens.carrier and hmac.compare_digest(token, c.tokens.carrier):
        return Principal("carrier")
    account_id = c.accounts.authenticate(token)
    if account_id is None:
        raise ApiProblem(401, "unauthorized", "The token is not valid.")
    return Principal("account", account_id)


Caller = Annotated[Principal, Depends(principal)]


def require_operator(caller: Principal) -> None:
    if not caller.is_operator:
        raise ApiProblem(403, "forbidden", "Only the platform operator may do this.")


def require_account_access(caller: Principal, account_id: UUID, accounts: AccountsApp) -> None:
    """The operator may act on any existing account; an account only on itself."""
    if caller.kind == "account":
        if caller.account_id != account_id:
            raise ApiProblem(403, "forbidden", "An API key may act only on its own account.")
        return
    if not caller.is_operator:
        raise ApiProblem(403, "forbidden", "This token may not act on accounts.")
    if not accounts.exists(account_id):
        raise ApiProblem(404, "not_found", f"No account {account_id}.")
