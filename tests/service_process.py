"""A real ``smsplat serve`` process on a free loopback port, for tests that kill or starve it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.live_server import free_port
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN


class ServiceProcess:
    def __init__(self, database_url: str, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SMS_DATABASE_URL": database_url,
            "SMS_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "SMS_CARRIER_TOKEN": CARRIER_TOKEN,
            "SMS_SIMULATION": "1",
            **settings,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        command = [sys.executable, "-m", "smsplat.api.cli", "--log-level", "WARNING",
                   "serve", "--port", str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while True:
            assert self.proc.poll() is None, "the service exited at start"
            try:
                if httpx.get(f"{self.base}/v1/health/live", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the service did not start within 120 s"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(60)
