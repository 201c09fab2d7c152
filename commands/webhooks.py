"""The webhooks application: an account's endpoints, their secrets and their state (contract:
Webhooks). What each endpoint is told, and when, is the outbox's and the dispatcher's
(``commands/webhook_outbox.py``, ``commands/webhook_dispatch.py``).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from ..domain.errors import FieldProblem, InvalidInput
from ..domain.webhooks import (
    WebhookEndpoint,
    WebhookNotFound,
    WebhookRegistry,
    check_endpoint,
    registry_id,
)
from .context_application import ContextApplication
from .optimistic import MAX_ATTEMPTS, KeptChanging, saved, update
from .ports import ChangeListener, Clock, WebhookSecrets


@dataclass(frozen=True)
class NewSecret:
    """A secret, shown once: to the caller that created or rotated the endpoint."""

    endpoint: WebhookEndpoint
    secret: str  # whsec_<base64>


def new_secret() -> str:
    """24 random bytes, as Standard Webhooks writes a secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhooksApp(ContextApplication):
    """Bounded context "webhooks": its own event table."""

    name = "webhooks"

    def __init__(
        self,
        env: dict[str, Any] | None,
        clock: Clock,
        secrets_store: WebhookSecrets,
        allow_http: bool = False,
        on_change: ChangeListener | None = None,
        url_guard: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(env, clock, on_change)
        self.secrets = secrets_store
        self.allow_http = allow_http  # SMS_WEBHOOK_ALLOW_PRIVATE: development and tests
        # why a URL may not be called (it resolves to a private address), or None
        self.url_guard = url_guard

    def create(
        self,
        account_id: UUID,
        url: object,
        events: object,
        description: object = None,
        batch: bool = False,
        webhook_id: UUID | None = None,
    ) -> NewSecret:
        """A new endpoint and its first secret. A keyed retry (same ``webhook_id``) gets the
        endpoint back with the secret it was created with."""
        webhook_id = webhook_id or uuid4()
        if self.url_guard is not None and isinstance(url, str):
            check_endpoint(url, events, description, self.allow_http)  # the shape first
            if why := self.url_guard(url):
                raise InvalidInput(why, [FieldProblem(
                    "url", "private_address", why, "回调地址必须解析到公网地址。",
                )])  # fmt: skip
        if self._exists(webhook_id):
            return NewSecret(self.endpoint(webhook_id, account_id), self._secret(webhook_id, 1))
        secret = new_secret()
        for _ in range(MAX_ATTEMPTS):
            now = self.clock.now()
            endpoint = WebhookEndpoint.create(
                webhook_id, account_id, url, events, description, batch, self.allow_http, now
            )
            secret = self.secrets.keep(webhook_id, 1, secret)  # first: never unsigned
            registry = self._registry(account_id)
            registry.add(webhook_id, now)
            if saved(self, endpoint, registry):
                return NewSecret(endpoint, secret)
            if self._exists(webhook_id):  # a concurrent retry of this create was saved
                return NewSecret(self.endpoint(webhook_id, account_id), self._secret(webhook_id, 1))
        raise KeptChanging(f"the webhooks of account {account_id} kept changing")

    def endpoints(self, account_id: UUID) -> list[WebhookEndpoint]:
        """The account's endpoints (disabled ones too), oldest first."""
        return [self._get(w) for w in self._registry(account_id).endpoints]

    def endpoint(self, webhook_id: UUID, owner: UUID | None) -> WebhookEndpoint:
        """One endpoint, for its account (``owner``) or the operator (None); another
        account's is not found (no leak)."""
        endpoint = self._get(webhook_id) if self._exists(webhook_id) else None
        if endpoint is None or endpoint.deleted:
            raise WebhookNotFound(f"No webhook {webhook_id}.")
        if owner is not None and endpoint.account_id != str(owner):
            raise WebhookNotFound(f"No webhook {webhook_id}.")
        return endpoint

    def rotate(self, webhook_id: UUID, owner: UUID | None) -> NewSecret:
        """A new current secret; the one before still signs for 24 hours."""
        given = new_secret()
        kept: list[str] = []

        def decide(endpoint: WebhookEndpoint) -> bool:
            # the new version's bytes first: once the event is saved, they sign
            kept[:] = [self.secrets.keep(webhook_id, endpoint.secret_version + 1, given)]
            endpoint.rotate(self.clock.now())
            return True

        rotated = update(self, lambda: self.endpoint(webhook_id, owner), decide)
        return NewSecret(rotated, kept[0])

    def delete(self, webhook_id: UUID, owner: UUID | None) -> WebhookEndpoint:
        for _ in range(MAX_ATTEMPTS):
            endpoint = self.endpoint(webhook_id, owner)
            registry = self._registry(UUID(endpoint.account_id))
            now = self.clock.now()
            endpoint.delete(now)
            registry.remove(webhook_id, now)
            if saved(self, endpoint, registry):
                return endpoint
        raise KeptChanging(f"webhook {webhook_id} kept changing")

    def disable(self, webhook_id: UUID, reason: str) -> None:
        """The dispatcher's: the receiver answered 410, or failed for 5 days."""

        def decide(endpoint: WebhookEndpoint) -> bool:
            endpoint.disable(reason, self.clock.now())
            return bool(endpoint.pending_events)

        update(self, lambda: self._get(webhook_id), decide)

    def signing_secrets(self, endpoint: WebhookEndpoint) -> list[str]:
        """The secrets that sign a delivery to ``endpoint`` now (two during a rotation)."""
        return self.secrets.signing(endpoint.id, endpoint.secret_versions(self.clock.now()))

    def _secret(self, webhook_id: UUID, version: int) -> str:
        kept = self.secrets.signing(webhook_id, [version])
        if not kept:
            raise WebhookNotFound(f"No secret for webhook {webhook_id}.")
        return kept[0]

    def _registry(self, account_id: UUID) -> WebhookRegistry:
        try:
            registry: object = self.repository.get(registry_id(account_id))
        except AggregateNotFoundError:
            return WebhookRegistry.open(account_id, self.clock.now())
        assert isinstance(registry, WebhookRegistry)
        return registry

    def _exists(self, webhook_id: UUID) -> bool:
        return webhook_id in self.repository

    def _get(self, webhook_id: UUID) -> WebhookEndpoint:
        endpoint: object = self.repository.get(webhook_id)
        assert isinstance(endpoint, WebhookEndpoint)
        return endpoint
