"""A private PostgreSQL cluster for the tests that stop and restart their database.

Outage tests must not stop the server every other test uses, so they run their own: initdb
into a temporary folder (as the ``postgres`` user when the tests run as root), on a free
loopback port, with durability off for speed. ``stop()`` and ``start()`` are the outage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.live_server import free_port


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return found[0].parent if found else None


class PrivateCluster:
    def __init__(self, bindir: Path, folder: Path, port: int) -> None:
        self.bindir = bindir
        self.folder = folder
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/test"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder, timeout=120)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-w", "-t", "60", "-o", options, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "-t", "60",
                  "stop")  # fmt: skip


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running private cluster with a ``test`` database; skips the test where PostgreSQL's
    server programs are not installed."""
    import pytest

    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's server programs (pg_ctl, initdb) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="smsplat-outage-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    cluster = PrivateCluster(bindir, folder, free_port())
    try:
        cluster._run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust",
                     "-E", "UTF8", "--no-sync")  # fmt: skip
        cluster.start()
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port),
                        "-U", "postgres", "test"], check=True, timeout=60)  # fmt: skip
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):  # already stopped
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
