"""Smoke: the service answers health on both stores."""

from tests.support import Api


def test_health_on_postgres(api: Api) -> None:
    r = api.client.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["store"] == "postgresql"


def test_health_on_sqlite(sqlite_api: Api) -> None:
    r = sqlite_api.client.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["store"] == "sqlite"
