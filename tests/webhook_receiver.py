"""A webhook receiver on loopback for the tests: it verifies every delivery's signature with
the ``standardwebhooks`` package and keeps what it verified."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """A webhook receiver: answers ``status`` (settable), verifies with ``secrets`` and keeps
    every verified delivery (and counts the ones that failed verification)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.status = 200
        self.delay = delay  # seconds before each answer
        self.held = threading.Event()  # while cleared (hold()), answers wait for release()
        self.held.set()
        self.secrets: list[str] = []
        self.verified: list[tuple[str, dict[str, Any]]] = []  # (webhook-id, body)
        self.unverified = 0
        self.signatures: list[int] = []  # how many signatures each delivery carried
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection, as a real receiver would

            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # the sender went away mid-request (killed): nothing was sent
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.take(body, headers)
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.held.wait(timeout=60)
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hold(self) -> None:
        """Answer nothing until ``release()``: a receiver slower than any timeout."""
        self.held.clear()

    def release(self) -> None:
        self.held.set()

    def take(self, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            if self.status >= 300:
                return  # down: nothing is taken
            for secret in self.secrets:
                try:
                    Webhook(secret).verify(body, headers)
                except WebhookVerificationError:
                    continue
                self.verified.append((headers["webhook-id"], json.loads(body)))
                self.signatures.append(len(headers["webhook-signature"].split(" ")))
                return
            self.unverified += 1

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [b["data"] for _, b in self.verified if b["type"] == kind]
