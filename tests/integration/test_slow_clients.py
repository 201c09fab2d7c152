"""Idle and slow ("slowloris") connections are closed; past the cap a client gets 503.

A trial left 200 idle and 51 dribbling connections open for good. Here a real ``smsplat
serve`` with a 1-second request-head deadline closes every one of 60 idle and 20 dribbling
connections, closes a keep-alive connection left idle after its response, and answers 503 to
a request beyond its connection cap, while a well-behaved client is served throughout.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import suppress

import httpx
import pytest

from tests.service_process import ServiceProcess
from tests.timing import wait_until

HEAD = b"GET /v1/health/live HTTP/1.1\r\nHost: localhost\r\n"


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (a read returns nothing)."""
    sock.setblocking(False)
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


@pytest.fixture
def service(sqlite_url: str) -> Iterator[ServiceProcess]:
    running = ServiceProcess(
        sqlite_url, SMS_HTTP_HEADER_TIMEOUT_SECONDS="1", SMS_HTTP_KEEP_ALIVE_SECONDS="1"
    ).start()
    yield running
    running.stop()


def test_idle_and_dribbling_connections_are_closed(service: ServiceProcess) -> None:
    idle = [socket.create_connection(("127.0.0.1", service.port)) for _ in range(60)]
    dribbling = [socket.create_connection(("127.0.0.1", service.port)) for _ in range(20)]
    for position in range(len(HEAD)):  # one byte a while: far slower than the deadline
        for sock in dribbling:
            with suppress(OSError):  # closed already
                sock.send(HEAD[position : position + 1])
        if all(_closed_by_server(s) for s in dribbling):
            break
        time.sleep(0.1)
        # a well-behaved client is served meanwhile
        assert httpx.get(f"{service.base}/v1/health/live", timeout=30).status_code == 200
    assert wait_until(lambda: all(_closed_by_server(s) for s in idle + dribbling), 60)
    for sock in idle + dribbling:
        sock.close()


def test_a_keep_alive_connection_left_idle_is_closed(service: ServiceProcess) -> None:
    sock = socket.create_connection(("127.0.0.1", service.port))
    sock.sendall(HEAD + b"\r\n")
    assert b"200 OK" in sock.recv(4096)
    assert wait_until(lambda: _closed_by_server(sock), 60)
    sock.close()


def test_past_the_connection_cap_a_client_gets_503(sqlite_url: str) -> None:
    capped = ServiceProcess(sqlite_url, SMS_HTTP_MAX_CONNECTIONS="4").start()
    try:
        # uvicorn counts the new connection too: with three held, the fourth is one too many
        held = [socket.create_connection(("127.0.0.1", capped.port)) for _ in range(3)]
        for sock in held:  # each served once and kept alive: the server holds all three
            sock.sendall(HEAD + b"\r\n")
            assert b"200 OK" in sock.recv(4096)
        r = httpx.get(f"{capped.base}/v1/health/live", timeout=30)
        assert r.status_code == 503
        for sock in held:
            sock.close()
        assert wait_until(
            lambda: httpx.get(f"{capped.base}/v1/health/live", timeout=30).status_code == 200
        )
    finally:
        capped.stop()
