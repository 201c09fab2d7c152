"""What ``/v1/health`` says: each dependency's state, found out at once.

The database is probed on a fresh connection with a short deadline (a pool could hide an
outage behind a connection it still holds, or wait far longer); the background loops (send
worker, settlement, scheduler, projections, the Kafka consumer and publisher) say whether
they are failing and since when, which is how a broker outage shows; the carriers say
whether they are bound (the simulated one always is). The service is ready when its
database answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..adapters.sql import probe
from .background import BackgroundLoop, BackgroundLoops
from .settings import Settings

PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class HealthReport:
    ready: bool
    checks: dict[str, dict[str, Any]]
    store: str  # postgresql | sqlite
    simulation: bool
    projections: dict[str, dict[str, int]] | None  # None while the database is down


class HealthCheck:
    def __init__(
        self,
        settings: Settings,
        loops: BackgroundLoops,
        carrier: Callable[[], dict[str, Any]],
        positions: Callable[[], dict[str, tuple[int, int]]],
    ) -> None:
        self.settings = settings
        self.loops = loops
        self.carrier = carrier  # the carriers' state: the simulated one, or each real one
        self.positions = positions  # each read model's position beside its log's head

    def report(self) -> HealthReport:
        checks: dict[str, dict[str, Any]] = {"database": self._database()}
        loops = self.loops.all()
        kafka = [loop for loop in loops if loop.name.startswith("kafka")]
        if kafka:
            checks["kafka"] = _loops_state(kafka)
        checks["background"] = _loops_state([lp for lp in loops if lp not in kafka])
        checks["carrier"] = self.carrier()
        ready = checks["database"]["status"] == "up"
        store = "postgresql" if self.settings.is_postgres else "sqlite"
        projections = self._projections() if ready else None
        return HealthReport(ready, checks, store, self.settings.simulation, projections)

    def _projections(self) -> dict[str, dict[str, int]] | None:
        try:
            return {
                name: {"position": position, "head": head}
                for name, (position, head) in self.positions().items()
            }
        except Exception:  # the database went away between the probe and this read
            return None

    def _database(self) -> dict[str, Any]:
        try:
            took = probe(self.settings.database_url, PROBE_SECONDS)
        except Exception as error:
            return {"status": "down", "error": f"{type(error).__name__}: {error}"[:300]}
        return {"status": "up", "latency_ms": round(took * 1000, 1)}


def _loops_state(loops: list[BackgroundLoop]) -> dict[str, Any]:
    failing = {
        loop.name: {"since": loop.failing_since.isoformat(), "error": loop.last_error}
        for loop in loops
        if loop.failing_since is not None
    }
    return {"status": "failing" if failing else "up", "failing": failing}
