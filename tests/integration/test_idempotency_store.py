"""The idempotency records behind ``Idempotency-Key``, on both stores."""

from __future__ import annotations

from datetime import timedelta

from smsplat.adapters.clock import SimulatedClock
from smsplat.adapters.idempotency import ClaimOutcome
from smsplat.infra.bootstrap import Container
from smsplat.infra.housekeeping import Housekeeping


def test_a_completed_key_is_replayed_until_its_retention_passes(any_container: Container) -> None:
    store, clock = any_container.idempotency, any_container.clock
    assert isinstance(clock, SimulatedClock)
    assert store.claim("caller:POST:/x", "k1", "fp", clock.now()).outcome is ClaimOutcome.NEW
    store.complete("caller:POST:/x", "k1", 201, b'{"ok": true}', "application/json")
    replay = store.claim("caller:POST:/x", "k1", "fp", clock.now())
    assert (replay.outcome, replay.status_code, replay.body) == (
        ClaimOutcome.REPLAY,
        201,
        b'{"ok": true}',
    )
    assert store.claim("caller:POST:/x", "k1", "other", clock.now()).outcome is (
        ClaimOutcome.MISMATCH
    )
    housekeeping = Housekeeping(store, clock)
    clock.advance(timedelta(hours=23).total_seconds())
    assert housekeeping.run_once() == 0
    clock.advance(timedelta(hours=2).total_seconds())
    assert housekeeping.run_once() == 1  # kept 24 hours, then forgotten
    assert store.claim("caller:POST:/x", "k1", "fp", clock.now()).outcome is ClaimOutcome.NEW


def test_a_claim_in_progress_blocks_until_its_lease_passes(any_container: Container) -> None:
    store, clock = any_container.idempotency, any_container.clock
    assert isinstance(clock, SimulatedClock)
    store.claim("c", "k", "fp", clock.now())
    assert store.claim("c", "k", "fp", clock.now()).outcome is ClaimOutcome.IN_PROGRESS
    clock.advance(61)  # the lease: a claim left by a crashed process is taken over
    assert store.claim("c", "k", "fp", clock.now()).outcome is ClaimOutcome.NEW


def test_an_abandoned_claim_lets_the_retry_run(any_container: Container) -> None:
    """A 5xx response is not kept: the same key may run again at once."""
    store, clock = any_container.idempotency, any_container.clock
    store.claim("c", "k", "fp", clock.now())
    store.abandon("c", "k")
    assert store.claim("c", "k", "fp", clock.now()).outcome is ClaimOutcome.NEW
