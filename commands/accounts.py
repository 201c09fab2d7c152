"""The accounts application: creating accounts, activating products, checking API keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from ..domain.accounts import Account, new_api_key, split_api_key, validate_new_account
from ..domain.errors import InvalidInput, NotFound
from ..domain.extensions import REGISTRY_ID, ExtensionRegistry
from ..domain.products import Product
from ..domain.scenarios import Notification
from .context_application import ContextApplication
from .optimistic import MAX_ATTEMPTS, KeptChanging, saved, update


@dataclass(frozen=True)
class NewAccount:
    account_id: UUID
    api_key: str  # shown once; only its hash is stored


class AccountExists(InvalidInput):
    code = "conflict"
    title = "Account already exists"


class AccountsApp(ContextApplication):
    """Bounded context "accounts": its own event table, rarely written."""

    name = "accounts"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._extensions: dict[UUID, str] = {}

    def create_account(
        self,
        name: object,
        verification_phone: object,
        actor: str,
        account_id: UUID | None = None,
    ) -> NewAccount:
        """Create an account. ``account_id`` derived from an idempotency key makes a retry
        find the account it created; since that request's answer (the only copy of the API
        key) was lost, the retry answers with a new key for it instead."""
        clean_name, phone = validate_new_account(name, verification_phone)
        keyed = account_id is not None
        account_id = account_id or uuid4()
        api_key, key_hash = new_api_key(account_id)
        for _ in range(MAX_ATTEMPTS):
            if account_id in self.repository:  # a keyed retry: the account is there
                if not keyed:
                    raise AccountExists(f"Account {account_id} already exists.")
                self._update(account_id, lambda a: self._reissue(a, key_hash, actor))
                return NewAccount(account_id, api_key)
            at = self.clock.now()
            account = Account.create(account_id, clean_name, phone, key_hash, actor, at)
            registry = self._registry()
            registry.assign(account_id, at)  # its extension code, in the same save
            if saved(self, account, registry):
                return NewAccount(account_id, api_key)
        raise KeptChanging("accounts kept being created concurrently")

    def _reissue(self, existing: Account, key_hash: str, actor: str) -> bool:
        existing.issue_key(key_hash, actor, self.clock.now())
        return True

    def extension_of(self, account_id: UUID) -> str:
        """The account's extension code. An account created before codes existed gets the
        next one now (its first send asks). A code never changes, so it is remembered."""
        known = self._extensions.get(account_id)
        if known is not None:
            return known
        for _ in range(MAX_ATTEMPTS):
            registry = self._registry()
            code = registry.assign(account_id, self.clock.now())
            if not registry.pending_events or saved(self, registry):
                if len(self._extensions) >= 100_000:
                    self._extensions.clear()
                self._extensions[account_id] = code
                return code
        raise KeptChanging("the extension registry kept changing concurrently")

    def known_extension(self, account_id: UUID) -> str | None:
        """The account's code if it has one (reads only: None for an account created before
        codes that has not sent since)."""
        return self._extensions.get(account_id) or self._registry().by_account.get(str(account_id))

    def account_for_extension(self, extension: str) -> UUID | None:
        return self._registry().account_for(extension)

    def _registry(self) -> ExtensionRegistry:
        try:
            found: object = self.repository.get(REGISTRY_ID)
        except AggregateNotFoundError:
            return ExtensionRegistry.open(self.clock.now())
        assert isinstance(found, ExtensionRegistry)
        return found

    def activate_product(self, account_id: UUID, product: object, actor: str) -> list[str]:
        """Activate a product (idempotent); returns the account's active products."""
        try:
            chosen = Product(product if isinstance(product, str) else "")
        except ValueError:
            choices = ", ".join(p.value for p in Product)
            raise InvalidInput(f"product must be one of: {choices}.", field="product") from None
        account = self._update(account_id, lambda a: a.activate(chosen, actor, self.clock.now()))
        return list(account.products)

    def switch_notification(
        self, account_id: UUID, name: str, enabled: object, actor: str
    ) -> dict[str, bool]:
        """T9: switch a message notification on or off; returns every notification's state."""
        try:
            notification = Notification(name)
        except ValueError:
            choices = ", ".join(n.value for n in Notification)
            raise NotFound(f"No notification {name!r}; there are: {choices}.") from None
        if not isinstance(enabled, bool):
            raise InvalidInput("enabled must be true or false.", field="enabled")
        account = self._update(
            account_id,
            lambda a: a.switch_notification(notification, enabled, actor, self.clock.now()),
        )
        return account.notification_states()

    def account(self, account_id: UUID) -> Account:
        """The account as stored now, to read (``current``: every request authenticates
        with it); commands change a copy of their own (``_update``)."""
        account = self.current(account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.")
        assert isinstance(account, Account)
        return account

    def _loaded(self, account_id: UUID) -> Account:
        try:
            account: object = self.repository.get(account_id)
        except AggregateNotFoundError:
            raise NotFound(f"No account {account_id}.") from None
        assert isinstance(account, Account)
        return account

    def exists(self, account_id: UUID) -> bool:
        return account_id in self.repository

    def authenticate(self, api_key: str) -> UUID | None:
        """The account an API key belongs to, or None when it is not a valid key."""
        parts = split_api_key(api_key)
        if parts is None:
            return None
        account_id, secret = parts
        try:
            account = self.account(account_id)
        except NotFound:
            return None
        return account_id if account.key_matches(secret) else None

    # -- the quota context's view of accounts (commands.quota.AccountDirectory) ---------

    def require_can_buy(self, account_id: UUID) -> None:
        self.account(account_id).require_active_product()

    def alert_phone(self, account_id: UUID) -> str:
        return self.account(account_id).verification_phone

    def _update(self, account_id: UUID, decide: Callable[[Account], bool]) -> Account:
        return update(self, lambda: self._loaded(account_id), decide)
