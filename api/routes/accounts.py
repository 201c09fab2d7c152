"""Accounts and their products (Q3)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request

from ...commands.command_types import ActivateProduct, CreateAccount
from ..auth import Caller, require_account_access, require_operator
from ..idempotency import keyed_id
from ..schemas import AccountOut, NewAccountIn, NewAccountOut, ProductIn, ProductsOut, beijing
from ..services import Accounts, Bus
from ..wire import new_account_out, products_out

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.post("", status_code=201, response_model=NewAccountOut)
def create_account(
    body: NewAccountIn, request: Request, caller: Caller, bus: Bus, accounts: Accounts
) -> NewAccountOut:
    """Create an account (operator). The API key is returned once and stored hashed."""
    require_operator(caller)
    new = bus.handle(
        CreateAccount(body.name, body.verification_phone, caller.actor,
                      keyed_id(request, "account"))
    )  # fmt: skip
    return new_account_out(new, accounts.account(new.account_id))


@router.get("/{account_id}", response_model=AccountOut)
def get_account(account_id: UUID, caller: Caller, accounts: Accounts) -> AccountOut:
    require_account_access(caller, account_id, accounts)
    account = accounts.account(account_id)
    return AccountOut(
        account_id=str(account_id),
        name=account.name,
        verification_phone=account.verification_phone,
        extension=accounts.known_extension(account_id),
        products=list(account.products),
        created_at=beijing(account.created_on),
    )


@router.post("/{account_id}/products", response_model=ProductsOut)
def activate_product(
    account_id: UUID, body: ProductIn, caller: Caller, bus: Bus, accounts: Accounts
) -> ProductsOut:
    """Activate a product on the account (idempotent: an active product stays active)."""
    require_account_access(caller, account_id, accounts)
    products = bus.handle(ActivateProduct(account_id, body.product, caller.actor))
    return products_out(account_id, products)
