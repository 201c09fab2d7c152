"""Helpers shared by the tests (imported as ``tests.support``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from smsplat.infra.bootstrap import Container

OPERATOR_TOKEN = "test-operator-token"
CARRIER_TOKEN = "test-carrier-token"


class Api:
    """An HTTP client for the real app, with the operator token and small conveniences."""

    def __init__(self, client: TestClient, container: Container) -> None:
        self.client = client
        self.container = container

    @staticmethod
    def auth(token: str = OPERATOR_TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def settle(self) -> None:
        """Wait until the read models have applied every stored event (reads are eventual)."""
        assert self.container.read_models.wait_until_current(600)  # a busy CI machine

    def new_account(
        self, name: str = "Acme 花店", phone: str = "13800138000", product: str | None = "site"
    ) -> tuple[str, str]:
        """Create an account (and activate ``product``); returns (account_id, api_key)."""
        r = self.client.post(
            "/v1/accounts",
            json={"name": name, "verification_phone": phone},
            headers=self.auth(),
        )
        assert r.status_code == 201, r.text
        body = r.json()
        if product:
            r2 = self.client.post(
                f"/v1/accounts/{body['account_id']}/products",
                json={"product": product},
                headers=self.auth(body["api_key"]),
            )
            assert r2.status_code == 200, r2.text
        return body["account_id"], body["api_key"]

    def buy(self, account_id: str, key: str, size: int = 1000) -> dict[str, Any]:
        r = self.client.post(
            f"/v1/accounts/{account_id}/purchases",
            json={"package_size": size},
            headers=self.auth(key),
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body
