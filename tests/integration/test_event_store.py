"""The event store chosen by SMS_DATABASE_URL: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from smsplat.adapters.clock import SimulatedClock
from smsplat.adapters.postgres_event_store import LockedInsertRecorder
from smsplat.commands.command_types import SendMassSend
from smsplat.commands.recipient_sources import Numbers
from smsplat.domain.errors import NotFound
from smsplat.domain.ledger import Reference
from smsplat.domain.quota import quota_pool_id
from smsplat.infra.bootstrap import build
from smsplat.infra.event_store import UnsupportedDatabaseUrl, event_store_env

from tests.conftest import START, make_container, settings_for
from tests.integration.history import build_and_close, funded_account
from tests.integration.test_sending_flow import MASS, approved_template


@pytest.mark.pool_only_ledger  # a charge straight to the pool
def test_events_survive_a_restart(store_url: str) -> None:
    """Q12: what was stored is there, unchanged, after the process starts again."""
    clock = SimulatedClock(START)
    first = make_container(store_url, clock)
    new = first.accounts.create_account("Acme", "13800138000", "operator")
    first.accounts.activate_product(new.account_id, "mall", "operator")
    first.quota.purchase(new.account_id, 5000, "p1", "operator")
    first.quota.charge(new.account_id, Reference("message", "m1"), 2, "mall", "system")
    first.read_models.catch_up()
    before = first.ledger.balance(str(new.account_id))
    first.close()

    again = make_container(store_url, SimulatedClock(START))
    try:
        assert again.quota.balance(new.account_id) == before
        assert again.ledger.balance(str(new.account_id)) == before
        assert again.accounts.account(new.account_id).products == ["mall"]
        assert again.accounts.authenticate(new.api_key) == new.account_id
        assert again.read_models.catch_up() == 0  # nothing applied twice after a restart
    finally:
        again.close()


def test_each_application_has_its_own_event_table(store_url: str) -> None:
    """Accounts and quota are separate bounded contexts with separate logs on both stores."""
    c = make_container(store_url, SimulatedClock(START))
    try:
        new = c.accounts.create_account("Acme", "13800138000", "operator")
        c.accounts.activate_product(new.account_id, "site", "operator")
        c.quota.purchase(new.account_id, 1000, "p1", "operator")
        quota_topics = {
            n.topic for n in c.quota.recorder.select_notifications(start=None, limit=100)
        }
        account_topics = {
            n.topic for n in c.accounts.recorder.select_notifications(start=None, limit=100)
        }
        assert all("QuotaPool" in t for t in quota_topics)
        # the accounts context: accounts, and the registry of their extension codes
        assert all("Account" in t or "ExtensionRegistry" in t for t in account_topics)
        assert any("ExtensionRegistry" in t for t in account_topics)
    finally:
        c.close()


@pytest.mark.slow
def test_processes_starting_together_create_the_tables_once(pg_url: str) -> None:
    """Two processes building on an empty PostgreSQL database at once both start cleanly."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=build_and_close, args=(pg_url,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0


def test_database_urls_map_onto_the_library_settings() -> None:
    pg = event_store_env("postgresql://alice:s%40cret@db.example:6543/sms", pool_size=7)
    # the library's PostgreSQL factory, with connect and statement deadlines added
    assert pg["PERSISTENCE_MODULE"].endswith("postgres_event_store:DeadlinedPostgresFactory")
    assert (pg["POSTGRES_CONNECT_TIMEOUT"], pg["SMSPLAT_STATEMENT_TIMEOUT_MS"]) == ("5", "30000")
    assert (pg["POSTGRES_HOST"], pg["POSTGRES_PORT"], pg["POSTGRES_DBNAME"]) == (
        "db.example",
        "6543",
        "sms",
    )
    assert (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_POOL_SIZE"]) == (
        "alice",
        "s@cret",
        "7",
    )
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in pg
    with pytest.raises(UnsupportedDatabaseUrl):
        event_store_env("mysql://x/y")
    with pytest.raises(UnsupportedDatabaseUrl):
        event_store_env("sqlite:///:memory:")


def test_unknown_account_has_no_pool(store_url: str) -> None:
    c = make_container(store_url, SimulatedClock(START))
    try:
        with pytest.raises(NotFound):
            c.quota.balance(UUID(int=1))
    finally:
        c.close()


def test_the_simulated_clock_resumes_where_it_was_after_a_restart(sqlite_url: str) -> None:
    """The simulated clock never moves back, not even across a restart of the service."""

    first = build(settings_for(sqlite_url))
    assert isinstance(first.clock, SimulatedClock)
    moved = first.clock.advance(timedelta(days=40).total_seconds())
    first.close()
    again = build(settings_for(sqlite_url))
    try:
        assert again.clock.now() == moved
    finally:
        again.close()


def test_a_reader_tailing_the_log_while_many_save_skips_no_event(pg_url: str) -> None:
    """Each save is one statement that takes the events table's lock inside the database
    (adapters/postgres_event_store.py), so notification ids still commit in order: a reader
    that always asks for what comes after the last id it saw, while eight threads save,
    sees every event stored. Without the lock a lower id commits after a higher one has been
    read, and the reader passes over it for good."""
    c = make_container(pg_url, SimulatedClock(START))
    assert isinstance(c.templates.recorder, LockedInsertRecorder)  # every application's
    recorder = LockedInsertRecorder(c.templates.recorder.datastore, events_table_name="probes")
    recorder.create_table()
    saving = 8
    done = threading.Event()
    seen: list[int] = []

    def save(worker: int) -> None:
        for n in range(150):
            event = StoredEvent(uuid4(), 1, "probe.Saved", f"{worker}.{n}".encode())
            recorder.insert_events([event])

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            found = recorder.select_notifications(start=last + 1, limit=1000)
            seen.extend(n.id for n in found)
            last = found[-1].id if found else last
            if finished and not found:
                return

    try:
        reader = threading.Thread(target=tail)
        reader.start()
        writers = [threading.Thread(target=save, args=(w,)) for w in range(saving)]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        done.set()
        reader.join()  # it stops once it has read past the last save
        stored = [n.id for n in recorder.select_notifications(start=None, limit=10**6)]
        assert len(stored) == saving * 150
        assert seen == stored
    finally:
        c.close()


def test_many_sends_read_in_one_query_equal_each_read_alone(store_url: str) -> None:
    """``QuotaApp.sends`` reads the events of many sends at once (receipts settle 200 sends
    together): each is the send ``QuotaApp.send`` reads, and ids of no send, or of another
    kind of aggregate, are left out."""
    c = make_container(store_url, SimulatedClock(START))
    try:
        account = funded_account(c)
        template = approved_template(c, account, MASS)
        ids = []
        for n in range(3):
            numbers = Numbers([f"1381234{n}{i:03d}" for i in range(5)])
            accepted = c.bus.handle(SendMassSend(account, template, numbers, None, None, "a"))
            ids.append(accepted.send.id)
        c.due_work.run()  # handed over: more events than the first
        pool = quota_pool_id(account)
        found = c.quota.sends([*ids, uuid4(), pool])
        assert sorted(found) == sorted(ids)
        for send_id in ids:
            alone, together = c.quota.send(send_id), found[send_id]
            assert (together.version, together.statuses) == (alone.version, alone.statuses)
            assert together.version > 1
    finally:
        c.close()
