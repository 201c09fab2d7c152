"""The idempotency records behind ``Idempotency-Key``, on both stores. Leases and retention run
on the wall clock (here a fake one the test moves), whatever the service's clock does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from smsplat.adapters.idempotency import IdempotencyStore
from smsplat.commands.idempotency import ClaimOutcome
from smsplat.infra.bootstrap import Container


class WallClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def store(any_container: Container, wall: WallClock) -> IdempotencyStore:
    return IdempotencyStore(any_container.db, lease_seconds=15, wall_clock=wall)


def test_a_completed_key_is_replayed_until_its_retention_passes(
    store: IdempotencyStore, wall: WallClock
) -> None:
    assert store.claim("caller:POST:/x", "k1", "fp").outcome is ClaimOutcome.NEW
    store.complete("caller:POST:/x", "k1", 201, b'{"ok": true}', "application/json")
    replay = store.claim("caller:POST:/x", "k1", "fp")
    assert (replay.outcome, replay.status_code, replay.body) == (
        ClaimOutcome.REPLAY,
        201,
        b'{"ok": true}',
    )
    assert store.claim("caller:POST:/x", "k1", "other").outcome is ClaimOutcome.MISMATCH
    wall.advance(timedelta(hours=23).total_seconds())
    assert store.purge() == 0
    wall.advance(timedelta(hours=2).total_seconds())
    assert store.purge() == 1  # kept 24 hours, then forgotten
    assert store.claim("caller:POST:/x", "k1", "fp").outcome is ClaimOutcome.NEW


def test_a_claim_in_progress_blocks_until_its_lease_passes(
    store: IdempotencyStore, wall: WallClock
) -> None:
    store.claim("c", "k", "fp")
    running = store.claim("c", "k", "fp")
    assert running.outcome is ClaimOutcome.IN_PROGRESS
    assert running.retry_after == pytest.approx(15)
    wall.advance(14)
    assert store.claim("c", "k", "fp").retry_after == pytest.approx(1)
    wall.advance(1)  # the lease: a claim left by a crashed process is taken over
    assert store.claim("c", "k", "fp").outcome is ClaimOutcome.NEW


def test_an_abandoned_claim_lets_the_retry_run(store: IdempotencyStore) -> None:
    """A 5xx response is not kept: the same key may run again at once."""
    store.claim("c", "k", "fp")
    store.abandon("c", "k")
    assert store.claim("c", "k", "fp").outcome is ClaimOutcome.NEW


def test_a_response_whose_record_failed_is_saved_later(store: IdempotencyStore) -> None:
    store.claim("c", "k", "fp")
    store.complete_later("c", "k", 201, b"{}", "application/json")
    assert store.claim("c", "k", "fp").outcome is ClaimOutcome.IN_PROGRESS
    assert store.save_unsaved() == 1
    assert store.claim("c", "k", "fp").outcome is ClaimOutcome.REPLAY
    assert store.save_unsaved() == 0
