"""Serving the API: uvicorn (httptools and uvloop) with deadlines for slow and idle clients,
and a connection cap.

uvicorn closes a keep-alive connection some seconds after a response, but a connection that
never sends a complete request head is held forever: a trial left 200 idle and 51 dribbling
("slowloris") connections open for good. ``GuardedHttpProtocol`` gives every request head a
deadline from the moment the connection opens (or the previous response ends); trickling
bytes does not extend it. Beyond ``max_connections`` uvicorn answers 503. Slow request
bodies and TLS are the reverse proxy's to police (``infra/deploy/``).

httptools (a C parser) and uvloop rather than h11 and asyncio's own loop: the event loop's
share of a request is the largest single part of a verification code's CPU time (issue 17).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import Settings


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout = 10.0  # set from the settings by ``serve``

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._cancel_head_deadline()  # a whole request head arrived
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._serving():
            self._arm_head_deadline()  # the next request's head has its own deadline

    def _serving(self) -> bool:
        """Whether a request is being answered, or a pipelined one waits its turn."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing() and not self._serving():
            self.transport.close()


def serve(app: Any, host: str, port: int, settings: Settings) -> None:
    """uvicorn on ``app``, logging at the root logger's level (``smsplat --log-level``): its
    access lines are INFO, one per request, so ``WARNING`` leaves them to the reverse proxy
    (they were written whatever the level, 4% of the event loop's time under load)."""
    GuardedHttpProtocol.header_timeout = settings.http_header_timeout_seconds
    level = logging.getLogger().getEffectiveLevel()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=level,
        access_log=level <= logging.INFO,
        http=GuardedHttpProtocol,
        loop="uvloop",
        timeout_keep_alive=round(settings.http_keep_alive_seconds),
        limit_concurrency=settings.http_max_connections,
        backlog=2048,
    )
