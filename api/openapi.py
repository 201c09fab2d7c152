"""The OpenAPI document as clients meet it, and the pages that show it (/docs, /redoc).

FastAPI describes each route's success answer; what every route can also answer is ours to
say, so it is added here, to every operation by what the operation is:

- the bearer scheme on every authenticated route (``api/auth.py`` declares it), so /docs has an
  Authorize button;
- ``Idempotency-Key`` on every state-changing call (``api/idempotency.py``);
- the problem+json answers each can give, with their schema: 401/403 where a token is needed,
  404 where the path names something, 400/413/415 where there is a body, 409 where state
  changes, 422 where anything is validated, 503 while the database is away. FastAPI's own
  ``HTTPValidationError`` is never what we answer, so it is replaced by the problem schema.

Swagger UI and ReDoc load their scripts from this service (the ``fastapi-offline`` package
keeps current copies), so the pages work with no internet access.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from .idempotency import MAX_KEY_LENGTH
from .problems import PROBLEM_JSON, RETRY_AFTER_SECONDS

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
CHANGING = ("post", "put", "patch", "delete")

WHY = {
    400: "The body is not valid JSON (`invalid_json`, with the character where it broke).",
    401: "No token, or not a valid one (`unauthorized`).",
    403: "The token may not do this (`forbidden`).",
    404: "Nothing of that id this token may see (`not_found`): another account's resources "
    "are not found, never forbidden, so their existence does not leak.",
    409: "The state does not allow it (a rule refused it, with its own code), or a request "
    "with this Idempotency-Key is still running (`idempotency_key_in_use`, with Retry-After).",
    413: "The body is over 1 MiB, or an upload over its limit (`payload_too_large`).",
    415: "The body was not sent as JSON (`unsupported_media_type`).",
    422: "Invalid fields, each in `errors` with its field and a stable code; or the "
    "Idempotency-Key was used with another request (`idempotency_key_reused`).",
    503: "The database is away; nothing was changed, or what was is complete. Retry after "
    "Retry-After seconds with the same Idempotency-Key.",
}


class FieldError(BaseModel):
    """One problem with one field of the request."""

    model_config = ConfigDict(extra="allow")
    field: str = Field(description="Where: a body field (dotted), a parameter, or `body`.")
    code: str = Field(description="Stable, machine-readable.")
    message: str
    message_zh: str | None = None


class Problem(BaseModel):
    """An error (RFC 9457 problem+json) with the contract's stable ``code``."""

    model_config = ConfigDict(extra="allow")  # some carry more, e.g. the balance that fell short
    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable, machine-readable; the README lists them.")
    errors: list[FieldError] = Field(description="Each field at fault; empty when none is.")


def install_docs(app: FastAPI) -> None:
    """/docs, /redoc and their assets, served by this service; the document itself at
    /openapi.json, completed by ``complete``."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(schema)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]  # FastAPI's documented override


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the problem answers, the problem schema and Idempotency-Key added to
    every operation that can give or take them."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for model in (FieldError, Problem):
        schemas[model.__name__] = _model_schema(model)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _complete_operation(path, method, operation)
    return schema


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    changing = method in CHANGING
    if changing:
        operation.setdefault("parameters", []).append(_idempotency_key())
    parameters = operation.get("parameters", [])
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}
    if parameters:
        statuses.add(422)
    if changing:
        statuses.add(409)
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        _declare(responses, status)


def _declare(responses: dict[str, Any], status: int) -> None:
    """The problem answer for ``status``, over FastAPI's own (a 422 of HTTPValidationError)
    while keeping a route's own description of when it happens."""
    own = responses.get(str(status), {})
    description = own.get("description") or WHY[status]
    if description == "Validation Error":
        description = WHY[status]
    answer: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": _header("Always `Bearer`.")}
    if status == 503:
        answer["headers"] = {
            "Retry-After": _header(f"Seconds to wait ({RETRY_AFTER_SECONDS}).", "integer")
        }
    responses[str(status)] = answer


def _idempotency_key() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes a retry safe: the same key with the same request answers what "
        "the first did (with `Idempotent-Replayed: true`); with another request it is 422.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    }


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema
