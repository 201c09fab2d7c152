"""Accounts: Q3 (a package needs another active product), API keys, new-account validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from smsplat.domain.accounts import (
    Account,
    hash_secret,
    new_api_key,
    split_api_key,
    validate_new_account,
)
from smsplat.domain.errors import InvalidInput, NoActiveProduct
from smsplat.domain.products import Product

BEIJING = timezone(timedelta(hours=8))
AT = datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING)


def make_account(secret: str = "s3cret") -> Account:
    return Account.create(uuid4(), "Acme", "13800138000", hash_secret(secret), "operator", AT)


# -- Q3 -------------------------------------------------------------------------------------


def test_Q3_account_without_products_cannot_buy_a_package() -> None:
    account = make_account()
    with pytest.raises(NoActiveProduct) as refused:
        account.require_active_product()
    assert refused.value.code == "no_active_product"


def test_Q3_account_with_an_active_product_may_buy_a_package() -> None:
    account = make_account()
    assert account.activate(Product.SITE, "operator", AT) is True
    account.require_active_product()  # no error
    assert account.products == ["site"]


@pytest.mark.parametrize("product", list(Product))
def test_Q3_every_product_counts_as_active(product: Product) -> None:
    account = make_account()
    account.activate(product, "operator", AT)
    account.require_active_product()
    assert account.products == [product.value]


def test_Q3_activating_twice_records_one_event() -> None:
    account = make_account()
    assert account.activate(Product.MALL, "operator", AT) is True
    assert account.activate(Product.MALL, "someone", AT + timedelta(minutes=1)) is False
    events = account.collect_events()
    activated = [e for e in events if isinstance(e, Account.ProductActivated)]
    assert len(activated) == 1
    assert activated[0].product == "mall"
    assert activated[0].actor == "operator"
    assert account.products == ["mall"]


def test_Q3_activation_survives_replay_of_the_events() -> None:
    account = make_account()
    account.activate(Product.EDU, "operator", AT)
    account.activate(Product.FLYER, "operator", AT)
    replayed: Account | None = None
    for event in account.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Account)
    assert replayed.products == ["edu", "flyer"]
    replayed.require_active_product()


def test_Q3_replayed_account_without_products_still_refuses() -> None:
    account = make_account()
    replayed: Account | None = None
    for event in account.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Account)
    with pytest.raises(NoActiveProduct):
        replayed.require_active_product()


# -- API keys -------------------------------------------------------------------------------


def test_new_api_key_embeds_the_account_and_hashes_the_secret() -> None:
    account_id = uuid4()
    key, stored_hash = new_api_key(account_id)
    assert key.startswith(f"smsk_{account_id.hex}_")
    parts = split_api_key(key)
    assert parts is not None
    parsed_id, secret = parts
    assert parsed_id == account_id
    assert stored_hash == hash_secret(secret)
    assert secret not in stored_hash
    assert len(secret) >= 32


def test_new_api_keys_are_all_different() -> None:
    account_id = uuid4()
    keys = {new_api_key(account_id)[0] for _ in range(50)}
    assert len(keys) == 50


def test_split_api_key_keeps_underscores_in_the_secret() -> None:
    account_id = uuid4()
    assert split_api_key(f"smsk_{account_id.hex}_a_b-c") == (account_id, "a_b-c")


def test_issued_key_matches_its_account_and_no_other_secret() -> None:
    account_id = uuid4()
    key, stored_hash = new_api_key(account_id)
    account = Account.create(account_id, "Acme", "13800138000", stored_hash, "operator", AT)
    parts = split_api_key(key)
    assert parts is not None
    assert account.key_matches(parts[1]) is True
    assert account.key_matches(parts[1] + "x") is False
    assert account.key_matches("") is False
    other_key, _ = new_api_key(account_id)
    other = split_api_key(other_key)
    assert other is not None
    assert account.key_matches(other[1]) is False


@pytest.mark.parametrize(
    "key",
    [
        "",
        "smsk",
        "smsk_",
        "smsk__secret",
        f"smsk_{UUID(int=1).hex}",
        f"smsk_{UUID(int=1).hex}_",
        "smsk_nothex_secret",
        "smsk_0123_secret",
        f"sms_{UUID(int=1).hex}_secret",
        f"SMSK_{UUID(int=1).hex}_secret",
        f"Bearer smsk_{UUID(int=1).hex}_secret",
        "garbage",
    ],
)
def test_malformed_api_keys_split_to_none(key: str) -> None:
    assert split_api_key(key) is None


# -- new-account validation -----------------------------------------------------------------


def test_valid_new_account_is_cleaned() -> None:
    assert validate_new_account("  Acme  ", "+86 138 0013 8000") == ("Acme", "13800138000")


def test_empty_name_and_bad_phone_are_both_listed() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_account("", "not a phone")
    problems = {(p.field, p.code) for p in refused.value.problems}
    assert problems == {("name", "validation_error"), ("verification_phone", "invalid_phone")}
    assert refused.value.code == "validation_error"


def test_blank_name_and_missing_phone_are_both_listed() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_account("   ", None)
    fields = sorted(p.field for p in refused.value.problems)
    assert fields == ["name", "verification_phone"]


def test_non_string_name_is_a_problem() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_account(42, "13800138000")
    assert [p.field for p in refused.value.problems] == ["name"]


def test_overlong_name_is_a_problem_and_longest_allowed_passes() -> None:
    assert validate_new_account("a" * 100, "13800138000")[0] == "a" * 100
    with pytest.raises(InvalidInput) as refused:
        validate_new_account("a" * 101, "13800138000")
    assert [(p.field, p.code) for p in refused.value.problems] == [("name", "validation_error")]


@pytest.mark.parametrize(
    "phone",
    ["+852 6123 4567", "+853 6612 3456", "+886 912 345 678", "+1 202 555 0143", "010-12345678"],
)
def test_S1_verification_phone_outside_mainland_mobile_is_not_mainland_mobile(phone: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_account("Acme", phone)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("verification_phone", "not_mainland_mobile")
    ]


@pytest.mark.parametrize("phone", ["abcdefghijk", "1380013800x", "", "138001380001"])
def test_S1_verification_phone_with_letters_or_wrong_length_is_invalid_phone(phone: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_new_account("Acme", phone)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("verification_phone", "invalid_phone")
    ]


@pytest.mark.parametrize(
    "shape",
    ["{%s}", "%s-", "12345678-1234-1234-1234-123456789abc", "%sff", "zz%s", "z" * 32],
)
def test_split_api_key_accepts_only_the_32_hex_digit_account_id(shape: str) -> None:
    account_hex = uuid4().hex
    written = shape % account_hex if "%s" in shape else shape
    assert split_api_key(f"smsk_{written}_secret") is None
