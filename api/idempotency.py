"""``Idempotency-Key`` on every state-changing call (contract: Idempotency).

Keys are scoped to the caller (a hash of its token) and the route, so two callers never see
each other's responses. The fingerprint covers method, path, query and body: the same key
with another request is refused with ``idempotency_key_reused``.

The command's effect and its stored response are one outcome for the client: a response is
never turned into an error because its record could not be saved (the record is saved a
moment later, ``IdempotencyStore.complete_later``), and a key whose record was lost (a crash)
is usable again once its lease ends, the retry finding the command's committed effect through
the ids derived from the key.
"""

from __future__ import annotations

import hashlib
import logging
import math
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..commands.idempotency import ClaimOutcome, IdempotencyRecords, derived_id
from .problems import problem_response

log = logging.getLogger(__name__)

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY_LENGTH = 255


def scope_of(request: Request) -> str:
    caller = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()[:32]
    return f"{caller}:{request.method}:{request.url.path}"


class IdempotencyMiddleware:
    """Requests without an ``Idempotency-Key`` (and reads) pass straight through, as plain
    ASGI; a keyed state-changing request goes through ``KeyedRequests``."""

    def __init__(self, app: ASGIApp, store: IdempotencyRecords) -> None:
        self.app = app
        self.keyed = KeyedRequests(app, store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keyed = (
            scope["type"] == "http"
            and scope["method"] in MUTATING
            and any(name == b"idempotency-key" for name, _ in scope["headers"])
        )
        await (self.keyed if keyed else self.app)(scope, receive, send)


class KeyedRequests(BaseHTTPMiddleware):
    """A keyed request: claimed, run once, its response stored and replayed."""

    def __init__(self, app: ASGIApp, store: IdempotencyRecords) -> None:
        super().__init__(app)
        self.store = store

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method not in MUTATING or key is None:
            return await call_next(request)
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            why = f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable characters."
            errors = [{"field": "Idempotency-Key", "code": "validation_error", "message": why}]
            return problem_response(422, "validation_error", why, errors=errors)
        body = _canonical(request.headers.get("content-type", ""), await request.body())
        # the path and query, not the host: a retry may reach another process or address
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        fingerprint = hashlib.sha256(
            b"\0".join([request.method.encode(), target.encode(), body])
        ).hexdigest()
        scope = scope_of(request)
        claim = await run_in_threadpool(self.store.claim, scope, key, fingerprint)
        if claim.outcome is ClaimOutcome.REPLAY:
            return Response(
                claim.body,
                claim.status_code,
                media_type=claim.content_type,
                headers={"Idempotent-Replayed": "true"},
            )
        if claim.outcome is ClaimOutcome.MISMATCH:
            return problem_response(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request.",
            )
        if claim.outcome is ClaimOutcome.IN_PROGRESS:
            wait = max(1, math.ceil(claim.retry_after))
            response = problem_response(
                409,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is running, or its outcome is not known "
                f"yet; retry with the same key in {wait} s.",
            )
            response.headers["Retry-After"] = str(wait)
            return response
        request.state.idempotency = (scope, key)
        try:
            response = await call_next(request)
        except BaseException:
            await run_in_threadpool(self._abandon, scope, key)
            raise
        if response.status_code >= 500:
            await run_in_threadpool(self._abandon, scope, key)
            return response
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        media_type = response.headers.get("content-type", "application/json")
        await run_in_threadpool(
            self._complete, scope, key, response.status_code, content, media_type
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(content, response.status_code, headers=headers)

    def _complete(
        self, scope: str, key: str, status_code: int, content: bytes, media_type: str
    ) -> None:
        """Save the response; if that fails the command has still happened, so the client
        still gets its answer, and the record is saved later."""
        try:
            self.store.complete(scope, key, status_code, content, media_type)
        except Exception:
            log.warning("idempotency record of %s not saved yet; kept to save later", key)
            self.store.complete_later(scope, key, status_code, content, media_type)

    def _abandon(self, scope: str, key: str) -> None:
        """Forget the claim of a request that failed on our side; if even that fails (the
        database is away), its lease lets a retry run once it ends."""
        try:
            self.store.abandon(scope, key)
        except Exception:
            log.warning("idempotency claim of %s left to its lease", key)


def _canonical(content_type: str, body: bytes) -> bytes:
    """The body as far as "the same request" goes. A multipart form's boundary is chosen
    afresh by the client on every send (curl, browsers, httpx), so a retry of the same file
    and fields would otherwise never match: it is replaced by a fixed one."""
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "multipart/form-data":
        return body
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return body.replace(value.strip('"').encode(), b"smsplat-boundary")
    return body


def keyed_id(request: Request, purpose: str) -> UUID | None:
    """The id a keyed request creates, the same on every retry (None without a key)."""
    keyed: tuple[str, str] | None = getattr(request.state, "idempotency", None)
    return derived_id(keyed[0], keyed[1], purpose) if keyed else None


def request_id(request: Request, purpose: str) -> str | None:
    """The id a keyed request's events carry, so that a retry whose first answer was lost
    finds its effect (``domain/handled_requests.py``); None without a key."""
    derived = keyed_id(request, purpose)
    return str(derived) if derived else None
