"""Mainland-China mobile numbers (S1), parsed with the maintained ``phonenumbers`` library."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from .errors import InvalidPhone, NotMainlandMobile

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_ELSEWHERE = {"HK": "Hong Kong", "MO": "Macau", "TW": "Taiwan"}


def parse_mainland_mobile(text: str) -> str:
    """Normalise ``text`` to the 11-digit national number, or refuse it with its reason.

    An optional ``+86``/``86`` prefix is accepted; Hong Kong, Macau, Taiwan and
    international numbers are refused as ``not_mainland_mobile``; anything that is not a
    phone number at all is ``invalid_phone``.
    """
    raw = text.strip().replace(" ", "").replace("-", "")
    if not raw or not all(c.isdigit() or c == "+" for c in raw):
        raise InvalidPhone(f"{text!r} is not a phone number.")
    if raw.startswith("86") and len(raw) == 13:
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{text!r} is not a phone number.") from exc
    if number.country_code == 86 and not phonenumbers.is_valid_number(number):
        number = _international_without_plus(raw) or number
    region = phonenumbers.region_code_for_number(number)
    if number.country_code != 86:
        where = _ELSEWHERE.get(region or "", f"region {region or 'unknown'}")
        raise NotMainlandMobile(
            f"{text!r} is a number in {where}; only mainland-China mobiles are served."
        )
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"{text!r} is not a valid mainland-China number.")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise NotMainlandMobile(f"{text!r} is not a mobile number.")
    return str(number.national_number)


def _international_without_plus(raw: str) -> phonenumbers.PhoneNumber | None:
    """``85261234567`` is a Hong Kong number written without its ``+``: name it as such."""
    if raw.startswith("+"):
        return None
    try:
        number = phonenumbers.parse("+" + raw, None)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 and phonenumbers.is_valid_number(number):
        return number
    return None
