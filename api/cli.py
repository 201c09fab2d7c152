"""The ``smsplat`` command line, an entry point beside HTTP and Kafka: serve, run the
projections, the worker or the Kafka bus, rebuild the read models, verify the ledger."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

import click

from ..infra.background import BackgroundLoop
from ..infra.bootstrap import build
from ..infra.settings import Settings

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 account``, ``2 accounts``; ``1 entry``, ``2 entries`` (``nouns`` when not +s)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {nouns or noun + 's'}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="smsplat", prog_name="smsplat")
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    help="How much to log (any case).",
)
def main(log_level: str) -> None:
    """smsplat: the event-sourced backend of a business SMS platform."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request with its URL at INFO: webhook URLs are the customers' own
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--api-only",
    is_flag=True,
    help="Serve the API without the projections and the send worker "
    "(run `smsplat projections run` and `smsplat worker` elsewhere).",
)
def serve(host: str, port: int, api_only: bool) -> None:
    """Run the HTTP API and, unless --api-only, the projections and the send worker."""
    from ..infra.http_server import serve as serve_http
    from .app import create_app

    settings = Settings()
    container = build(settings)
    if not settings.operator_token:
        click.echo(f"Operator token (SMS_OPERATOR_TOKEN unset): {container.operator_token}")
    click.echo(f"Event store: {settings.database_url}; simulation={settings.simulation}")
    serve_http(create_app(container, run_projections=not api_only), host, port, settings)


@main.group()
def projections() -> None:
    """Read models: run or rebuild them."""


@projections.command("run")
def projections_run() -> None:
    """Follow the event logs and keep the read models current, until stopped."""
    container = build()
    names = ", ".join(f.app.name for f in container.read_models.followers)
    click.echo(f"following {names}")
    _run_until_signal(container.loops.projections)
    container.close()


@projections.command("rebuild")
def projections_rebuild() -> None:
    """Drop every read model and rebuild it from the events."""
    container = build()
    count = container.read_models.rebuild()
    container.close()
    click.echo(f"rebuilt the read models from {plural(count, 'event')}")


@main.command()
def worker() -> None:
    """Hand accepted sends to the carrier and settle receipts and expiries, until stopped.

    Run beside 'serve --api-only'; more than one is safe: each batch is claimed by one
    worker before it is handed over, and recorded once."""
    container = build()
    click.echo("send worker running")
    _run_until_signal(container.loops.sending)
    container.close()


@main.command()
def kafka() -> None:
    """Consume sms.commands and publish sms.events (needs SMS_KAFKA_BOOTSTRAP).

    Run beside 'serve --api-only'; consumers of one group share the partitions, and more
    than one publisher is safe (events are at least once, deduplicated on event_id)."""
    from .kafka_commands import attach_kafka_commands

    container = build()
    if not container.settings.kafka_bootstrap:
        container.close()
        raise click.UsageError("SMS_KAFKA_BOOTSTRAP is not set.")
    attach_kafka_commands(container)
    click.echo(f"kafka bus running against {container.settings.kafka_bootstrap}")
    _run_until_signal(container.loops.kafka)
    container.close()


@main.group()
def ledger() -> None:
    """Quota ledger maintenance."""


@ledger.command("verify")
def ledger_verify() -> None:
    """Replay every quota event; check the figures, every message against its entries, and
    the read models; exit 1 on a problem."""
    from ..projections.ledger_audit import audit_ledger

    container = build()
    container.read_models.catch_up()
    report = audit_ledger(container.quota, container.ledger, container.send_views)
    container.close()
    click.echo(
        f"{plural(report.accounts, 'account')}, {plural(report.entries, 'entry', 'entries')}, "
        f"{plural(report.sends, 'send')}, {plural(report.messages, 'message')} checked"
    )
    for problem in report.problems:
        click.echo(f"PROBLEM {problem}", err=True)
    sys.exit(0 if report.ok else 1)


def _run_until_signal(loops: list[BackgroundLoop]) -> None:
    """Run the loops in background threads until SIGTERM or SIGINT."""
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for loop in loops:
        loop.start()
    stopping.wait()
    for loop in loops:
        loop.stop()


if __name__ == "__main__":
    main()
