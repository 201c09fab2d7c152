"""The Grafana dashboard of ``infra/deploy``: it parses, picks its Prometheus through a
variable, queries only metrics the service exports, and the compose stack provisions it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.metrics_helpers import samples
from tests.support import Api

DEPLOY = Path(__file__).resolve().parents[2] / "infra" / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "smsplat.json"
# what the dashboard is for (issue 15): each has a panel
OPERATOR_METRICS = {
    "smsplat_messages", "smsplat_quota_units_total", "smsplat_sends_waiting",
    "smsplat_send_backlog_messages", "smsplat_send_backlog_oldest_seconds",
    "smsplat_receipt_oldest_awaiting_seconds", "smsplat_receipt_latency_seconds_bucket",
    "smsplat_projection_lag_events", "smsplat_http_requests_total",
    "smsplat_http_request_seconds_bucket",
}  # fmt: skip
METRIC = re.compile(r"\bsmsplat_[a-z0-9_]+")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]


def test_the_dashboard_takes_its_prometheus_as_a_variable() -> None:
    board = dashboard()
    [variable] = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert (variable["name"], variable["query"]) == ("datasource", "prometheus")
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel
        assert all(t["datasource"] == panel["datasource"] for t in panel["targets"]), panel
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


def test_every_metric_the_dashboard_queries_is_exported(api: Api) -> None:
    assert api.client.get("/v1/health").status_code == 200  # an HTTP request observed
    exported = {name for name, _ in samples(api)}
    queried = {name for expr in exprs() for name in METRIC.findall(expr)}
    assert queried >= OPERATOR_METRICS, sorted(OPERATOR_METRICS - queried)
    assert queried <= exported, sorted(queried - exported)


def test_the_compose_stack_provisions_prometheus_and_the_dashboard() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    [job] = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["api:8000"]
    assert (
        "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (services["prometheus"]["volumes"])
    )
    providers = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "smsplat.yml").read_text()
    )
    path = providers["providers"][0]["options"]["path"]
    mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    assert mounts["./grafana/dashboards"] == path
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    sources = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"
    for local in (m for m in mounts if m.startswith("./")):
        assert (DEPLOY / local).exists(), local
