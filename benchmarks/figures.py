"""Throughput and latency figures from a list of request latencies."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable


def timed_in_threads(
    threads: int, calls: int, call: Callable[[int, int], object]
) -> dict[str, float]:
    """Run ``call(thread, n)`` for n < ``calls`` in each of ``threads`` threads at once,
    timing every call; the figures of ``latency_figures``."""
    latencies: list[list[float]] = [[] for _ in range(threads)]

    def run(t: int) -> None:
        for n in range(calls):
            started = time.perf_counter()
            call(t, n)
            latencies[t].append(time.perf_counter() - started)

    started = time.perf_counter()
    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return latency_figures([x for mine in latencies for x in mine], elapsed)


def latency_figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    """Requests per second, and p50/p99 latency in milliseconds."""
    ordered = sorted(latencies)
    return {
        "per_second": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }
