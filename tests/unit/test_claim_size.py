"""How many batches the send worker claims at once over SMPP (``adapters/carrier_router.py``)."""

from __future__ import annotations

import pytest
from smsplat.adapters.carrier_router import CLAIM_BATCHES, batches_per_claim


@pytest.mark.parametrize(
    ("caps", "batches"),
    [
        ([None], CLAIM_BATCHES),  # no cap: as many as keep the window full
        ([None, 10.0], CLAIM_BATCHES),  # one uncapped carrier is enough
        ([100.0], CLAIM_BATCHES),  # 2,000 messages within 20 s
        ([10.0], 2),  # 200 messages take 20 s at 10/s
        ([3.0, 2.0], 1),  # never less than one batch
        ([1.0], 1),
    ],
)
def test_a_claim_is_handed_over_well_within_its_lease(
    caps: list[float | None], batches: int
) -> None:
    assert batches_per_claim(caps) == batches
