"""Accounts and their products (Q3)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from ...adapters.idempotency import derived_id
from ..auth import Caller, Services, require_account_access, require_operator
from ..schemas import AccountOut, NewAccountIn, NewAccountOut, ProductIn, ProductsOut, beijing

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


def keyed_id(request: Request, purpose: str) -> UUID | None:
    """The id a keyed request creates, the same on every retry (None without a key)."""
    keyed: tuple[str, str] | None = getattr(request.state, "idempotency", None)
    return derived_id(keyed[0], keyed[1], purpose) if keyed else None


def request_id(request: Request, purpose: str) -> str | None:
    """The id a keyed request's events carry, so that a retry whose first answer was lost
    finds its effect (``domain/handled_requests.py``); None without a key."""
    derived = keyed_id(request, purpose)
    return str(derived) if derived else None


@router.post("", status_code=201, response_model=NewAccountOut)
def create_account(
    body: NewAccountIn, request: Request, caller: Caller, c: Services
) -> NewAccountOut:
    """Create an account (operator). The API key is returned once and stored hashed."""
    require_operator(caller)
    new = c.accounts.create_account(
        body.name, body.verification_phone, caller.actor, keyed_id(request, "account")
    )
    account = c.accounts.account(new.account_id)
    return NewAccountOut(
        account_id=str(new.account_id),
        api_key=new.api_key,
        name=account.name,
        verification_phone=account.verification_phone,
    )


@router.get("/{account_id}", response_model=AccountOut)
def get_account(account_id: UUID, caller: Caller, c: Services) -> AccountOut:
    require_account_access(caller, account_id, c)
    account = c.accounts.account(account_id)
    return AccountOut(
        account_id=str(account_id),
        name=account.name,
        verification_phone=account.verification_phone,
        products=list(account.products),
        created_at=beijing(account.created_on),
    )


@router.post("/{account_id}/products", response_model=ProductsOut)
def activate_product(account_id: UUID, body: ProductIn, caller: Caller, c: Services) -> ProductsOut:
    """Activate a product on the account (idempotent: an active product stays active)."""
    require_account_access(caller, account_id, c)
    products = c.accounts.activate_product(account_id, body.product, caller.actor)
    return ProductsOut(account_id=str(account_id), products=products)
