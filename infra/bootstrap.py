"""Wiring: settings in, a running set of applications, read models and stores out.

The one place that knows which adapter serves which port. ``build()`` is used by the API,
the CLI and the tests alike.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import psycopg
from eventsourcing.application import Application

from ..adapters.carrier_sim import SimulatedCarrier
from ..adapters.clock import SimulatedClock, StoredSimulatedTime, SystemClock
from ..adapters.command_log import SqlCommandLog
from ..adapters.idempotency import IdempotencyStore
from ..adapters.recipient_window import RecipientWindow
from ..adapters.sql import SqlDatabase
from ..commands.accounts import AccountsApp
from ..commands.alert_handover import AlertHandover
from ..commands.audience import AudienceApp
from ..commands.clock_stepper import ClockStepper
from ..commands.group_commit import GroupCommitter
from ..commands.ports import Clock
from ..commands.quota import QuotaApp
from ..commands.receipts import ReceiptRecorder
from ..commands.scheduler import SendScheduler
from ..commands.send_lifecycle import SendLifecycle
from ..commands.send_worker import SendWorker
from ..commands.sending import SendingService
from ..commands.settlement import SettlementTimer
from ..commands.templates import TemplatesApp
from ..commands.upstream import UpstreamCommands
from ..projections.alerts import AlertQueries, AlertsReadModel
from ..projections.audience import AudienceQueries, CustomersReadModel, OptOutsReadModel
from ..projections.follower import LogFollower
from ..projections.quota_ledger import QuotaLedgerQueries, QuotaLedgerReadModel
from ..projections.read_model import ReadModel
from ..projections.sends import SendQueries, SendsReadModel
from ..projections.templates import TemplateListReadModel, TemplateQueries
from .background import BackgroundLoop
from .current_audience import CurrentAudience
from .event_store import event_store_env, read_store
from .health import HealthCheck
from .settings import Settings

log = logging.getLogger(__name__)

SCHEMA_LOCK_KEY = 727_274_001  # pg_advisory_lock key serialising table creation
WORKER_IDLE_SECONDS = 0.2  # how often an idle send worker looks for sends from other processes
SETTLEMENT_IDLE_SECONDS = 0.5  # how often receipts and expiries due are looked for
SCHEDULER_IDLE_SECONDS = 1.0  # how often waiting sends are checked for their time
KAFKA_IDLE_SECONDS = 0.2  # how often the event publisher looks for new events


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: SqlDatabase
    accounts: AccountsApp
    quota: QuotaApp
    templates: TemplatesApp
    audience: AudienceApp
    audience_views: AudienceQueries
    followers: list[LogFollower]
    ledger: QuotaLedgerQueries
    alerts: AlertQueries
    template_views: TemplateQueries
    idempotency: IdempotencyStore
    operator_token: str
    carrier_token: str | None
    sending: SendingService
    lifecycle: SendLifecycle
    receipts: ReceiptRecorder
    stepper: ClockStepper | None
    health: HealthCheck
    send_views: SendQueries
    carrier: SimulatedCarrier
    worker: SendWorker
    settlement: SettlementTimer
    scheduler: SendScheduler
    limits: RecipientWindow
    committer: GroupCommitter
    upstream: UpstreamCommands
    projection_loops: list[BackgroundLoop]
    sending_loops: list[BackgroundLoop]
    kafka_loops: list[BackgroundLoop]

    def start_projections(self) -> None:
        for loop in self.projection_loops:
            loop.start()

    def start_sending(self) -> None:
        """The send worker, the settlement timer and the scheduler, in background threads."""
        for loop in self.sending_loops:
            loop.start()

    def start_kafka(self) -> None:
        """The ``sms.commands`` consumer and the ``sms.events`` publisher, when Kafka is set."""
        for loop in self.kafka_loops:
            loop.start()

    def wait_for_projections(self, timeout: float = 10.0) -> bool:
        """Block until every read model has applied every stored event."""
        return all(f.wait_until_current(timeout) for f in self.followers)

    def run_due_work(self) -> None:
        """Everything due by the clock's now: scheduled sends and provider reviews,
        hand-overs, receipts, expiries, read models."""
        for _ in range(100):
            self.catch_up_projections()  # in this thread: safe beside the background followers
            advanced = self.scheduler.run_once()
            handed = self.worker.run_until_idle()
            self.catch_up_projections()
            settled = self.settlement.run_once()
            self.catch_up_projections()
            if not advanced and not handed and not settled:
                return

    def rebuild_projections(self) -> int:
        return sum(f.rebuild() for f in self.followers)

    def catch_up_projections(self) -> int:
        return sum(f.catch_up() for f in self.followers)

    def close(self) -> None:
        self.committer.stop()
        for loop in [*self.kafka_loops, *self.sending_loops, *self.projection_loops]:
            loop.stop()
        for app in (self.accounts, self.quota, self.templates, self.audience):
            app.close()
        self.db.close()


@contextmanager
def _schema_lock(settings: Settings) -> Iterator[None]:
    """Two processes creating tables at once can fail on PostgreSQL: take turns."""
    if not settings.is_postgres:
        yield
        return
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def build(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    timeouts = (settings.database_timeout_seconds, settings.statement_timeout_seconds)
    env = event_store_env(settings.database_url, settings.postgres_pool_size, *timeouts)
    db = read_store(settings.database_url, *timeouts)
    with _schema_lock(settings):
        clock = clock or _default_clock(settings, db)
        accounts = AccountsApp(env, clock)
        followers: list[LogFollower] = []
        # what a stored event should wake, per application (the loops exist only later)
        woken: dict[str, list[BackgroundLoop]] = {"quota": [], "templates": [], "audience": []}
        quota = QuotaApp(env, clock, accounts, on_change=lambda: _wake(woken["quota"]))
        templates = TemplatesApp(env, clock, on_change=lambda: _wake(woken["templates"]))
        audience = AudienceApp(env, clock, on_change=lambda: _wake(woken["audience"]))
        read_models: list[tuple[Application[UUID], list[ReadModel]]] = [
            (quota, [QuotaLedgerReadModel(), AlertsReadModel(), SendsReadModel()]),
            (templates, [TemplateListReadModel()]),
            (audience, [CustomersReadModel(), OptOutsReadModel()]),
        ]
        followers.extend(
            LogFollower(
                app,
                models,
                db,
                batch_size=settings.projection_batch_size,
                poll_interval=settings.projection_poll_seconds,
            )
            for app, models in read_models
        )
        for follower in followers:
            follower.create_tables()
        idempotency = IdempotencyStore(db, settings.idempotency_lease_seconds)
        idempotency.create_tables()
        carrier = SimulatedCarrier(db)  # the only carrier adapter so far (contract: simulation)
        limits = RecipientWindow(db)
        wall_clock = SystemClock()
        lease = timedelta(seconds=settings.handover_lease_seconds)
        lifecycle = SendLifecycle(quota, wall_clock, lease)
        alert_handover = AlertHandover(quota, wall_clock, lease, carrier)
        worker = SendWorker(quota, lifecycle, alert_handover, carrier, db, clock, limits)
        worker.create_tables()
        command_log = SqlCommandLog(db)
        command_log.create_tables()
    committer = GroupCommitter(quota)
    audience_views = AudienceQueries(db)
    current_audience = CurrentAudience(followers[-1], audience_views)
    sending = SendingService(
        accounts, templates, quota, lifecycle, limits, current_audience, committer
    )
    receipts = ReceiptRecorder(lifecycle, alert_handover)
    send_views = SendQueries(db)
    settlement = SettlementTimer(
        receipts, lifecycle, clock, carrier.due_receipts, send_views.due_for_expiry
    )
    scheduler = SendScheduler(
        quota, lifecycle, templates, current_audience, clock, send_views.due_sends
    )
    upstream = UpstreamCommands(accounts, quota, sending, audience, command_log)
    projection_loops = [
        BackgroundLoop(f"follower-{f.app.name}", f.process_batch, f.poll_interval)
        for f in followers
    ]
    sending_loops = [
        BackgroundLoop("send-worker", worker.run_once, WORKER_IDLE_SECONDS),
        BackgroundLoop("settlement", settlement.run_once, SETTLEMENT_IDLE_SECONDS),
        BackgroundLoop("scheduler", scheduler.run_once, SCHEDULER_IDLE_SECONDS),
    ]
    for follower, loop in zip(followers, projection_loops, strict=True):
        woken[follower.app.name].append(loop)
    woken["quota"].append(sending_loops[0])  # the send worker follows the quota log
    operator_token = settings.operator_token or secrets.token_urlsafe(24)
    if not settings.operator_token:
        log.warning("SMS_OPERATOR_TOKEN is unset; generated operator token: %s", operator_token)
    container = Container(
        settings=settings,
        clock=clock,
        db=db,
        accounts=accounts,
        quota=quota,
        templates=templates,
        audience=audience,
        audience_views=audience_views,
        followers=followers,
        ledger=QuotaLedgerQueries(db),
        alerts=AlertQueries(db),
        template_views=TemplateQueries(db),
        idempotency=idempotency,
        operator_token=operator_token,
        carrier_token=settings.carrier_token,
        sending=sending,
        lifecycle=lifecycle,
        receipts=receipts,
        stepper=None,
        health=HealthCheck(settings.database_url, [], "simulated"),
        send_views=send_views,
        carrier=carrier,
        worker=worker,
        settlement=settlement,
        scheduler=scheduler,
        limits=limits,
        committer=committer,
        upstream=upstream,
        projection_loops=projection_loops,
        sending_loops=sending_loops,
        kafka_loops=_kafka_loops(settings, upstream, [accounts, quota, templates, audience], db),
    )
    container.health.loops = [
        *container.projection_loops,
        *container.sending_loops,
        *container.kafka_loops,
    ]
    if isinstance(clock, SimulatedClock):
        timetables = [send_views.next_send_due_after, send_views.next_expiry_after,
                      carrier.next_due_after]  # fmt: skip
        container.stepper = ClockStepper(clock, container.run_due_work, timetables)
    return container


def _kafka_loops(
    settings: Settings,
    upstream: UpstreamCommands,
    apps: list[Application[UUID]],
    db: SqlDatabase,
) -> list[BackgroundLoop]:
    """The Kafka consumer and publisher, created when they start (connecting is theirs)."""
    if not settings.kafka_bootstrap:
        return []
    bootstrap = settings.kafka_bootstrap
    from ..adapters.kafka_bus import CommandConsumer, EventPublisher  # kafka only when set

    publisher = EventPublisher(bootstrap, apps, db)
    publisher.create_tables()
    consumer = CommandConsumer(bootstrap, upstream.handle)
    return [
        BackgroundLoop("kafka-commands", consumer.run_once, 0.0, on_stop=consumer.close),
        BackgroundLoop(
            "kafka-events", publisher.run_once, KAFKA_IDLE_SECONDS, on_stop=publisher.close
        ),
    ]


def _default_clock(settings: Settings, db: SqlDatabase) -> Clock:
    """The real clock; in simulation, the simulated one, resumed where it was left."""
    if not settings.simulation:
        return SystemClock()
    stored = StoredSimulatedTime(db)
    return SimulatedClock(stored.load(), on_move=stored.save)


def _wake(loops: list[BackgroundLoop]) -> None:
    for loop in loops:
        loop.wake()
