"""The test SMSC (``tests/smsc/smsc.js`` on node-smpp, a third-party SMPP stack), started on
free loopback ports for a test, with its control API: what it received, its counters, and
behaviours to switch on (throttling, refused binds, receipts before responses, …)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent / "smsc"


class Smsc:
    def __init__(self, proc: subprocess.Popen[str], smpp_port: int, control_port: int) -> None:
        self.proc = proc
        self.port = smpp_port
        self.control = f"http://127.0.0.1:{control_port}"

    def url(self, system_id: str = "smsplat", password: str = "secret", **query: object) -> str:
        options = "&".join(f"{k}={v}" for k, v in {"source_addr": "1069", **query}.items())
        return f"smpp://{system_id}:{password}@127.0.0.1:{self.port}?{options}"

    def messages(self) -> list[dict[str, Any]]:
        """Every message it took, its parts reassembled by their UDH reference."""
        return list(httpx.get(f"{self.control}/messages", timeout=30).json())

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.control}/stats", timeout=30).json())

    def configure(self, **options: object) -> None:
        httpx.post(f"{self.control}/config", json=options, timeout=30).raise_for_status()

    def reply(self, source_addr: str, destination_addr: str, text: str) -> int:
        body = {"source_addr": source_addr, "destination_addr": destination_addr, "text": text}
        return int(httpx.post(f"{self.control}/mo", json=body, timeout=30).json()["sent"])

    def drop(self) -> None:
        httpx.post(f"{self.control}/drop", timeout=30).raise_for_status()


def install() -> None:
    """``npm ci`` when the test command has not (a test run on its own)."""
    if not (HERE / "node_modules" / "smpp").exists():
        npm = shutil.which("npm")
        assert npm, "npm (Node.js 20) is needed for the SMPP tests"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       check=True, timeout=300)  # fmt: skip


@contextmanager
def running_smsc() -> Iterator[Smsc]:
    install()
    node = shutil.which("node")
    assert node, "node (Node.js 20) is needed for the SMPP tests"
    proc = subprocess.Popen([node, str(HERE / "smsc.js")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        ports = json.loads(proc.stdout.readline())  # blocks until it listens (or exits)
        yield Smsc(proc, int(ports["smpp"]), int(ports["control"]))
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # it exits when its stdin ends
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
