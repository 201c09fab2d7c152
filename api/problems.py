"""problem+json (RFC 9457) errors with the contract's stable ``code``."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.errors import DomainError, FieldProblem
from ..domain.recipient_files import UnsupportedFile

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5  # what a 503 asks a client to wait before retrying

STATUS_BY_CODE = {
    "validation_error": 422,
    "not_found": 404,
    "invalid_package": 422,
    "no_active_product": 409,
    "not_refundable": 409,
    "insufficient_quota": 409,
    "quota_conflict": 409,
    "conflict": 409,
    "invalid_phone": 422,
    "not_mainland_mobile": 422,
    "quota_busy": 503,
    "invalid_signature": 422,
    "invalid_content": 422,
    "two_signatures": 422,
    "template_not_approved": 409,
    "template_not_editable": 409,
    "template_not_pending": 409,
    "wrong_template_type": 422,
    "too_many_recipients": 422,
    "missing_variable": 422,
    "unknown_variable": 422,
    "invalid_variable": 422,
    "message_too_long": 422,
    "not_cancellable": 409,
    "too_many_webhooks": 409,
    "reschedule_too_late": 409,
    "not_scheduled": 409,
    "unsupported_file": 422,
    "missing_phone_column": 422,
}

WHOLE_BODY_TYPES = {"model_attributes_type", "dict_type", "model_type"}  # a body not an object
STATUS_BY_FILE_REASON = {"not_xlsx": 415, "too_large": 413}  # other refused files: 422

TITLE_BY_STATUS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal error",
    503: "Service unavailable",
}

CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiProblem(Exception):
    """An HTTP-level refusal (authentication, access, request shape)."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


def invalid_field(field: str, detail: str) -> ApiProblem:
    """422 for one request field (a query parameter, a form field) at fault."""
    errors = [{"field": field, "code": "validation_error", "message": detail}]
    return ApiProblem(422, "validation_error", detail, errors=errors)


def problem_response(
    status: int, code: str, detail: str, title: str | None = None, **extra: Any
) -> Response:
    body = {
        "type": f"https://smsplat.dev/problems/{code}",
        "title": title or TITLE_BY_STATUS.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [],  # every problem has the list: the fields at fault, when some are
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return Response(
        json.dumps(body, ensure_ascii=False), status, media_type=PROBLEM_JSON, headers=headers
    )


def problem_errors(problems: list[FieldProblem]) -> list[dict[str, str]]:
    """A refusal's field problems as the ``errors`` of problem+json."""
    return [
        {"field": p.field, "code": p.code, "message": p.message}
        | ({"message_zh": p.message_zh} if p.message_zh else {})
        for p in problems
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> Response:
        errors = problem_errors(exc.problems)
        extra: dict[str, Any] = {"errors": errors} if errors else {}
        status = STATUS_BY_CODE.get(exc.code, 409)
        if isinstance(exc, UnsupportedFile):  # an upload refused whole, for its reason
            status = STATUS_BY_FILE_REASON.get(exc.reason, status)
            extra["reason"] = exc.reason
        return problem_response(status, exc.code, exc.detail, exc.title, **extra)

    @app.exception_handler(ApiProblem)
    async def api_problem(_: Request, exc: ApiProblem) -> Response:
        return problem_response(exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        details = exc.errors()
        if broken := next((e for e in details if e.get("type") == "json_invalid"), None):
            return invalid_json(broken)
        if _not_json(request, details):
            return problem_response(
                415, "unsupported_media_type",
                "The body must be JSON, sent with Content-Type: application/json.",
                errors=[{"field": "body", "code": "unsupported_media_type",
                         "message": f"Content-Type {request.headers.get('content-type') or 'none'}"
                                    " is not application/json."}],
            )  # fmt: skip
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body") or "body",
                "code": "validation_error",
                "message": err["msg"],
            }
            for err in details
        ]
        return problem_response(
            422, "validation_error", "The request has invalid fields.", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = CODE_BY_STATUS.get(exc.status_code, "error")
        response = problem_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        routes = getattr(request.app.state, "route_templates", None)
        if (
            exc.status_code == 405
            and routes is not None
            and (methods := routes.methods(request.scope))
        ):
            response.headers["Allow"] = ", ".join(methods)
        return response


def invalid_json(error: Mapping[str, Any]) -> Response:
    """A body that is not JSON at all: where it broke (a character position) and why."""
    loc = error.get("loc", ())
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    why = str((error.get("ctx") or {}).get("error", "not JSON"))
    at = f" at character {position}" if position is not None else ""
    return problem_response(
        400, "invalid_json", f"The body is not valid JSON{at}: {why}.",
        errors=[{"field": "body", "code": "invalid_json", "message": f"{why}{at}.",
                 "position": position}],
    )  # fmt: skip


def _not_json(request: Request, errors: Sequence[Mapping[str, Any]]) -> bool:
    """The whole body was refused as not an object because it was not sent as JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("", "application/json") or kind.endswith("+json") or kind.startswith("multipart/"):
        return False  # parsed as JSON (FastAPI does without a type too), or a form
    return any(tuple(e.get("loc", ())) == ("body",) and e.get("type") in WHOLE_BODY_TYPES
               for e in errors)  # fmt: skip


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database is away (down, restarting, unreachable, too slow)
    rather than that our code is wrong."""
    if isinstance(error, psycopg.OperationalError | InterfaceError):
        return True
    if isinstance(error, OperationalError | sqlite3.OperationalError):
        text = str(error).lower()
        postgres = not isinstance(error, sqlite3.OperationalError) and "sqlite" not in text
        return postgres or any(w in text for w in ("locked", "unable to open", "disk i/o"))
    return False


def unexpected_problem(error: BaseException) -> Response:
    if is_outage(error):
        log.warning("database unavailable: %s", error)
        return problem_response(
            503, "service_unavailable",
            "The service cannot reach its database right now; nothing was changed, or what "
            "was is complete. Retry, with the same Idempotency-Key, after Retry-After seconds.",
        )  # fmt: skip
    log.error("unhandled error", exc_info=error)
    return problem_response(500, "internal_error", "An unexpected error occurred.")


class ProblemGuard:
    """The outermost middleware: whatever a request raises becomes problem+json (503 while
    the database is away, otherwise 500) instead of an exception that would drop the client's
    keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started:
                raise  # half a response went out: nothing better can be said
            await unexpected_problem(error)(scope, receive, send)
