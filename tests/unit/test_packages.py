"""Q1: the only packages that can be bought hold 1,000, 5,000 or 10,000 units."""

from __future__ import annotations

import pytest
from smsplat.domain.errors import InvalidPackage
from smsplat.domain.packages import PACKAGE_SIZES, package_units


@pytest.mark.parametrize("size", [1000, 5000, 10000])
def test_Q1_the_three_package_sizes_are_sold(size: int) -> None:
    assert package_units(size) == size


def test_Q1_exactly_three_sizes_exist() -> None:
    assert sorted(PACKAGE_SIZES) == [1000, 5000, 10000]


@pytest.mark.parametrize(
    "size",
    [0, -1, -1000, 1, 999, 1001, 2000, 4999, 100000, 1000.0, "1000", True, False, None, [1000]],
    ids=repr,
)
def test_Q1_any_other_size_is_refused_with_invalid_package(size: object) -> None:
    with pytest.raises(InvalidPackage) as refused:
        package_units(size)
    assert refused.value.code == "invalid_package"
    assert "1000" in refused.value.detail
