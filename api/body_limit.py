"""Refuse request bodies over a limit with 413 ``payload_too_large``.

The body is read here, up to the limit, before the application sees any of it, then handed on
whole. Raising from inside the application's ``receive`` instead would surface as a 400 (FastAPI
turns body-reading errors into one) or a 500 (wrapped in an exception group by middleware
task groups), so the limit is enforced where nothing else can reinterpret it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem_response

DEFAULT_LIMIT = 1 << 20  # 1 MiB of JSON is far more than any command needs
UPLOAD_LIMIT = 3 << 20  # an Excel import (S3): the 2 MiB file plus its multipart form
UPLOAD_PATH_SUFFIX = "/sends/import"
# the console's send forms: the same file, uploaded for the plan, then carried (base64) to confirm
CONSOLE_UPLOAD_SUFFIXES = ("/sends/plan", "/sends")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = UPLOAD_LIMIT if _takes_a_file(scope["path"]) else self.limit
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._refuse(scope, receive, send, limit)
                return
        await self.app(scope, _replaying(bytes(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413, "payload_too_large", f"The request body exceeds {limit} bytes."
        )
        await response(scope, receive, send)


def _takes_a_file(path: str) -> bool:
    console = path.startswith("/console/") and path.endswith(CONSOLE_UPLOAD_SUFFIXES)
    return console or path.endswith(UPLOAD_PATH_SUFFIX)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the buffered body once, then waits for the disconnect."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
