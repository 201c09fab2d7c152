"""S1: recipients are mainland-China mobile numbers only, each refusal with its reason."""

from __future__ import annotations

import pytest
from smsplat.domain.errors import InvalidPhone, NotMainlandMobile
from smsplat.domain.phones import parse_mainland_mobile


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "+8613800138000",
        "8613800138000",
        "+86 138 0013 8000",
        "86 138 0013 8000",
        "  13800138000  ",
        "138 0013 8000",
        "138-0013-8000",
    ],
)
def test_S1_mainland_mobile_with_optional_86_prefix_and_spaces_is_normalised(text: str) -> None:
    """S1: +86/86 prefixes, spaces and dashes are accepted; the 11-digit number is kept."""
    assert parse_mainland_mobile(text) == "13800138000"


@pytest.mark.parametrize("text", ["19912345678", "15012345678", "17712345678"])
def test_S1_other_mainland_mobile_ranges_are_accepted(text: str) -> None:
    """S1: any valid mainland mobile range is a recipient."""
    assert parse_mainland_mobile(text) == text


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("+852 6123 4567", "Hong Kong"),
        ("+85261234567", "Hong Kong"),
        ("0085261234567", "Hong Kong"),
        ("85261234567", "Hong Kong"),  # written without its +
        ("886912345678", "Taiwan"),
        ("+853 6612 3456", "Macau"),
        ("+886 912 345 678", "Taiwan"),
    ],
)
def test_S1_hong_kong_macau_taiwan_are_refused_as_not_mainland(text: str, where: str) -> None:
    """S1: Hong Kong, Macau and Taiwan numbers are refused, naming where they are."""
    with pytest.raises(NotMainlandMobile) as refused:
        parse_mainland_mobile(text)
    assert refused.value.code == "not_mainland_mobile"
    assert where in refused.value.detail


@pytest.mark.parametrize("text", ["+1 202 555 0143", "+44 7911 123456", "+81 90 1234 5678"])
def test_S1_international_numbers_are_refused_as_not_mainland(text: str) -> None:
    """S1: international numbers are refused with not_mainland_mobile."""
    with pytest.raises(NotMainlandMobile) as refused:
        parse_mainland_mobile(text)
    assert refused.value.code == "not_mainland_mobile"


@pytest.mark.parametrize("text", ["010-12345678", "01012345678", "021 6123 4567"])
def test_S1_mainland_landline_is_refused_as_not_a_mobile(text: str) -> None:
    """S1: a mainland landline is a valid number but not a mobile: not_mainland_mobile."""
    with pytest.raises(NotMainlandMobile) as refused:
        parse_mainland_mobile(text)
    assert refused.value.code == "not_mainland_mobile"
    assert "mobile" in refused.value.detail


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "1380013800a",
        "138OO138OOO",
        "138001380001",  # 12 digits
        "1380013800",  # 10 digits
        "11012345678",  # no such mobile range
        "+86 1380013800",
        "tel:13800138000",
    ],
)
def test_S1_anything_that_is_not_a_phone_number_is_invalid_phone(text: str) -> None:
    """S1: letters, wrong lengths and non-numbers are invalid_phone (not a phone at all)."""
    with pytest.raises(InvalidPhone) as refused:
        parse_mainland_mobile(text)
    assert refused.value.code == "invalid_phone"
