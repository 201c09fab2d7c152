"""Extension codes: one per account, in order, never shared, never changed."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from smsplat.domain.extensions import ExtensionRegistry

T0 = datetime(2026, 3, 2, 1, tzinfo=UTC)


def test_codes_are_assigned_in_order_once_per_account() -> None:
    registry = ExtensionRegistry.open(T0)
    first, second = uuid4(), uuid4()
    assert registry.assign(first, T0) == "0001"
    assert registry.assign(second, T0) == "0002"
    assert registry.assign(first, T0) == "0001"  # asked again: the same, nothing recorded
    assert len(registry.pending_events) == 3  # opened, two assignments
    assert registry.account_for("0002") == second and registry.account_for("0003") is None


def test_past_four_digits_codes_grow() -> None:
    registry = ExtensionRegistry.open(T0)
    codes = [registry.assign(uuid4(), T0) for _ in range(10_000)]
    assert codes[-1] == "10000" and len(set(codes)) == 10_000
