"""Reading ``/metrics`` in the end-to-end tests: every sample, parsed by prometheus_client."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.support import Api


def samples(api: Api) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample ``/metrics`` exports, by its name and labels."""
    r = api.client.get("/metrics")
    assert r.status_code == 200, r.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(api: Api, name: str, **labels: str) -> float | None:
    """The value of one sample, or None when ``/metrics`` has no such sample."""
    return samples(api).get((name, frozenset(labels.items())))
