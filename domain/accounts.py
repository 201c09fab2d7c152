"""Accounts (账号): the customer, its API key, its verification phone and active products."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from .errors import DomainError, NoActiveProduct, Problems
from .phones import parse_mainland_mobile
from .products import Product
from .scenarios import Notification

API_KEY_PREFIX = "smsk"
MAX_NAME_LENGTH = 100


def hash_secret(secret: str) -> str:
    """API keys are 256-bit random secrets, so a plain SHA-256 is enough (no brute force)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(account_id: UUID) -> tuple[str, str]:
    """A new API key ``smsk_<account hex>_<secret>`` and the hash that is stored of it.

    The account id inside the key lets authentication load exactly one account.
    """
    secret = secrets.token_urlsafe(32)
    return f"{API_KEY_PREFIX}_{account_id.hex}_{secret}", hash_secret(secret)


def split_api_key(api_key: str) -> tuple[UUID, str] | None:
    """The account id and secret of a well-formed key, or None."""
    prefix, _, rest = api_key.partition("_")
    account_hex, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not secret or len(account_hex) != 32:
        return None
    try:
        int(account_hex, 16)
    except ValueError:
        return None
    return UUID(hex=account_hex), secret


def validate_new_account(name: object, verification_phone: object) -> tuple[str, str]:
    """Every problem with a new account's fields, or the clean (name, phone)."""
    problems = Problems()
    clean_name = name.strip() if isinstance(name, str) else ""
    if not clean_name:
        problems.add("name", "validation_error", "name is required.")
    elif len(clean_name) > MAX_NAME_LENGTH:
        problems.add("name", "validation_error", f"name is at most {MAX_NAME_LENGTH} characters.")
    phone = ""
    if not isinstance(verification_phone, str):
        problems.add("verification_phone", "validation_error", "verification_phone is required.")
    else:
        try:
            phone = parse_mainland_mobile(verification_phone)
        except DomainError as exc:
            problems.add("verification_phone", exc.code, exc.detail)
    problems.raise_if_any()
    return clean_name, phone


class Account(Aggregate):
    """A customer account. Its quota lives in its own aggregate, ``QuotaPool``."""

    class Created(Aggregate.Created):
        name: str
        verification_phone: str
        api_key_hash: str
        created_by: str

    class ProductActivated(Aggregate.Event):
        product: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Account)
            aggregate.products.append(self.product)

    class NotificationSwitched(Aggregate.Event):
        """T9: a message notification switched on or off, with no template review."""

        name: str
        enabled: bool
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Account)
            aggregate.notifications[self.name] = self.enabled

    class KeyIssued(Aggregate.Event):
        """A new API key replaced the account's; only its hash is kept. Issued when the
        keyed request that created the account is retried after its answer (with the first
        key) was lost: that key was never seen, so it is replaced."""

        api_key_hash: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Account)
            aggregate.api_key_hash = self.api_key_hash

    def __init__(
        self, name: str, verification_phone: str, api_key_hash: str, created_by: str
    ) -> None:
        self.name = name
        self.verification_phone = verification_phone
        self.api_key_hash = api_key_hash
        self.created_by = created_by
        self.products: list[str] = []
        self.notifications: dict[str, bool] = {}

    @classmethod
    def create(
        cls,
        account_id: UUID,
        name: str,
        verification_phone: str,
        api_key_hash: str,
        created_by: str,
        at: datetime,
    ) -> Account:
        return cls._create(
            cls.Created,
            id=account_id,
            name=name,
            verification_phone=verification_phone,
            api_key_hash=api_key_hash,
            created_by=created_by,
            timestamp=at,
        )

    def activate(self, product: Product, actor: str, at: datetime) -> bool:
        """Activate ``product``; activating an active product changes nothing (False)."""
        if product.value in self.products:
            return False
        self.trigger_event(self.ProductActivated, product=product.value, actor=actor, timestamp=at)
        return True

    def switch_notification(
        self, notification: Notification, enabled: bool, actor: str, at: datetime
    ) -> bool:
        """T9: switch a notification directly (no review); no change records nothing."""
        if self.notifications.get(notification.value, False) == enabled:
            return False
        self.trigger_event(
            self.NotificationSwitched,
            name=notification.value,
            enabled=enabled,
            actor=actor,
            timestamp=at,
        )
        return True

    def notification_states(self) -> dict[str, bool]:
        return {n.value: self.notifications.get(n.value, False) for n in Notification}

    def require_active_product(self) -> None:
        """Q3: a package can only be bought alongside another active product."""
        if not self.products:
            raise NoActiveProduct(
                "An SMS package can only be bought by an account with at least one active "
                "product (site, mall, lite, edu, interactive, flyer or miniapp) (Q3).",
                field="products",
                detail_zh="账户须至少开通一个其他产品（建站、商城、轻站、教育、互动、传单或小程序）"
                "后才能购买短信包。",
            )

    def issue_key(self, api_key_hash: str, actor: str, at: datetime) -> None:
        self.trigger_event(self.KeyIssued, api_key_hash=api_key_hash, actor=actor, timestamp=at)

    def key_matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.api_key_hash, hash_secret(secret))
