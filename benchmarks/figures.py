"""Throughput and latency figures from a list of request latencies."""

from __future__ import annotations

import statistics


def latency_figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    """Requests per second, and p50/p99 latency in milliseconds."""
    ordered = sorted(latencies)
    return {
        "per_second": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }
