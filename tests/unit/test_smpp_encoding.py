"""A message's text as SMPP carries it: GSM 7-bit or UCS2, split with an 8-bit UDH."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from smsplat.adapters.smpp_encoding import GSM_7BIT, UCS2, UDHI, decode, encode


def _text_of(coding: int, parts: tuple[bytes, ...]) -> str:
    bodies = [p[6:] for p in parts] if len(parts) > 1 else list(parts)
    if coding == UCS2:
        return b"".join(bodies).decode("utf-16-be")
    return "".join(decode(GSM_7BIT, b) for b in bodies)


@pytest.mark.parametrize(
    ("text", "coding", "sizes"),
    [
        ("a" * 160, GSM_7BIT, [160]),
        ("a" * 161, GSM_7BIT, [6 + 153, 6 + 8]),
        ("您" * 70, UCS2, [140]),
        ("您" * 71, UCS2, [6 + 134, 6 + 8]),
        ("【花店】" + "您好" * 40, UCS2, [6 + 134, 6 + 34]),
    ],
)
def test_one_part_or_udh_parts_of_153_or_67(text: str, coding: int, sizes: list[int]) -> None:
    encoded = encode(text, 7)
    assert encoded.data_coding == coding
    assert [len(p) for p in encoded.parts] == sizes
    assert encoded.esm_class == (UDHI if len(sizes) > 1 else 0)
    if len(sizes) > 1:
        assert all(p[:5] == bytes([5, 0, 3, 7, len(sizes)]) for p in encoded.parts)
        assert [p[5] for p in encoded.parts] == list(range(1, len(sizes) + 1))


def test_an_extension_character_takes_two_septets_and_is_never_split() -> None:
    encoded = encode("a" * 152 + "€" + "b" * 10, 1)  # € would straddle the 153rd septet
    first, second = (p[6:] for p in encoded.parts)
    assert first == b"a" * 152 and second[:2] == bytes([0x1B, 0x65])


def test_an_emoji_is_never_split_between_parts() -> None:
    encoded = encode("😀" * 40, 1)  # 80 UTF-16 units: two halves of a pair stay together
    assert all(len(p[6:]) % 4 == 0 for p in encoded.parts)
    assert _text_of(UCS2, encoded.parts) == "😀" * 40


@given(st.text(min_size=1, max_size=400))
def test_any_text_comes_back_whole_from_its_parts(text: str) -> None:
    encoded = encode(text, 3)
    assert _text_of(encoded.data_coding, encoded.parts) == text
