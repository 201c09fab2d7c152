"""The real ASGI app served by uvicorn on a free loopback port, in a background thread.

For tests that need requests truly at the same moment (the thread pool of a real server),
which one TestClient cannot give.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from smsplat.api.app import create_app
from smsplat.infra.bootstrap import Container


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def live_server(container: Container, run_projections: bool = True) -> Iterator[str]:
    """Serve ``container`` until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(container, run_projections=run_projections),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start within 60 s"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
