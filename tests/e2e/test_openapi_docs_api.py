"""The OpenAPI document and its pages, as /docs shows them (issue 15): a bearer scheme,
Idempotency-Key, every problem declared with the problem schema, assets served locally."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.helpers import auth
from tests.support import Api

CHANGING = {"post", "put", "patch", "delete"}


def _document(api: Api) -> dict[str, Any]:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200, r.text
    document: dict[str, Any] = r.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items()
            for method, op in ops.items()]  # fmt: skip


def test_a_bearer_scheme_on_every_authenticated_operation(sqlite_api: Api) -> None:
    document = _document(sqlite_api)
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer"), scheme
    open_paths = {"/v1/health", "/v1/health/live"}
    for path, method, op in _operations(document):
        if path not in open_paths:
            assert op.get("security") == [{"bearer": []}], (method, path)


def test_idempotency_key_on_every_state_changing_operation(sqlite_api: Api) -> None:
    for path, method, op in _operations(_document(sqlite_api)):
        headers = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
        assert (method in CHANGING) == ("Idempotency-Key" in headers), (method, path)


def test_every_problem_is_declared_with_the_problem_schema(sqlite_api: Api) -> None:
    document = _document(sqlite_api)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in str(document)
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, op in _operations(document):
        statuses = {int(s) for s in op["responses"] if s.isdigit() and int(s) >= 400}
        must = {503} | ({401, 403} if op.get("security") else set())
        must |= {404} if "{" in path else set()
        must |= {400, 413, 415, 422} if "requestBody" in op else set()
        must |= {409} if method in CHANGING else set()
        assert must <= statuses, (method, path, sorted(must - statuses))
        for status in statuses:
            content = op["responses"][str(status)]["content"]
            assert content == {"application/problem+json": {"schema": problem}}, (path, status)


def test_docs_pages_load_their_assets_from_the_service(sqlite_api: Api) -> None:
    for page in ("/docs", "/redoc"):
        r = sqlite_api.client.get(page)
        assert r.status_code == 200, r.text
        sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert sources, r.text
        for source in sources:
            assert source.startswith("/"), f"{page} loads {source} from elsewhere"
            if source.startswith("/docs-assets/"):
                assert sqlite_api.client.get(source).status_code == 200, source


def test_a_method_a_path_does_not_take_is_405_with_every_method_it_does(sqlite_api: Api) -> None:
    account_id, _ = sqlite_api.new_account()
    r = sqlite_api.client.put(f"/v1/accounts/{account_id}/messages", headers=auth())
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == "GET, POST"  # the records (GET) and a new message (POST)
