"""Audiences: S4 (customers synced from products) and opt-outs (beyond the original).

Each test drives ``Customer`` or ``OptOut`` directly and reads what it recorded with
``collect_events()``; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate
from smsplat.domain.audience import (
    MAX_CUSTOMER_NAME,
    MAX_CUSTOMERS_PER_SYNC,
    OPT_OUT_LINE,
    Condition,
    Customer,
    OptOut,
    customer_id,
    is_opt_out_reply,
    opt_out_id,
    parse_condition,
    validate_customer,
    validate_customers,
)
from smsplat.domain.errors import (
    DomainError,
    InvalidInput,
    InvalidPhone,
    NotFound,
    NotMainlandMobile,
)
from smsplat.domain.products import Product

BEIJING = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)
ACCOUNT = UUID("6f1c2d3e-0000-4000-8000-000000000001")
OTHER = UUID("6f1c2d3e-0000-4000-8000-000000000002")
PHONE = "13812345678"


def synced(
    condition: str = "site_member",
    phone: str = PHONE,
    product: str = "site",
    name: str | None = "张三",
    account: UUID = ACCOUNT,
) -> Customer:
    return Customer.sync(
        account, validate_customer(condition, phone, product, name), "operator", AT
    )


def replay(aggregate: Aggregate, events: Sequence[Any]) -> Aggregate:
    copy: Aggregate | None = None
    for event in events:
        copy = event.mutate(copy)
    assert copy is not None
    assert copy.id == aggregate.id
    return copy


def opted_out(phone: str = PHONE, text: str = "R") -> OptOut:
    return OptOut.start(ACCOUNT, phone, "reply", text, AT)


# -- S4: customers ----------------------------------------------------------------------------


@pytest.mark.parametrize("condition", list(Condition))
def test_S4_each_condition_syncs_a_customer(condition: Condition) -> None:
    customer = synced(condition=condition.value)
    events = customer.collect_events()
    assert [type(e) for e in events] == [Customer.Synced]
    assert customer.condition == condition.value
    assert customer.account_id == str(ACCOUNT)
    assert customer.product == "site"
    assert customer.phone == PHONE
    assert customer.name == "张三"
    assert customer.synced_at == AT


def test_S4_the_three_conditions_are_those_of_the_rule() -> None:
    assert {c.value for c in Condition} == {"game_player", "site_member", "miniapp_booking"}


@pytest.mark.parametrize("written", ["13812345678", "+86 138 1234 5678", "8613812345678"])
def test_S4_the_phone_is_normalised_and_the_id_is_the_same(written: str) -> None:
    customer = synced(phone=written)
    assert customer.phone == PHONE
    assert customer.id == customer_id(ACCOUNT, "site", PHONE, "site_member")


def test_S4_the_same_product_phone_and_condition_is_one_customer() -> None:
    first = customer_id(ACCOUNT, "site", PHONE, "site_member")
    assert first == customer_id(ACCOUNT, Product.SITE, PHONE, Condition.SITE_MEMBER)
    assert synced().id == synced(name=None).id == first


@pytest.mark.parametrize(
    "changed",
    [
        {"account": OTHER},
        {"product": "mall"},
        {"phone": "13912345678"},
        {"condition": "game_player"},
    ],
)
def test_S4_another_product_phone_condition_or_account_is_another_customer(
    changed: dict[str, object],
) -> None:
    base = {"account": ACCOUNT, "product": "site", "phone": PHONE, "condition": "site_member"}
    other = {**base, **changed}
    assert customer_id(
        other["account"],  # type: ignore[arg-type]
        str(other["product"]),
        str(other["phone"]),
        str(other["condition"]),
    ) != customer_id(ACCOUNT, "site", PHONE, "site_member")


def test_S4_a_resync_with_another_name_renames_the_customer() -> None:
    customer = synced(name="张三")
    customer.collect_events()
    later = AT + timedelta(days=1)
    assert customer.resync(validate_customer("site_member", PHONE, "site", "  李四 "), "op", later)
    events = customer.collect_events()
    assert [type(e) for e in events] == [Customer.Renamed]
    assert customer.name == "李四"
    assert customer.synced_at == AT  # first sync time kept


@pytest.mark.parametrize("name", [None, "", "   ", "张三", " 张三 "])
def test_S4_a_resync_without_a_new_name_records_nothing(name: str | None) -> None:
    customer = synced(name="张三")
    customer.collect_events()
    details = validate_customer("site_member", PHONE, "site", name)
    assert customer.resync(details, "operator", AT) is False
    assert customer.collect_events() == []
    assert customer.name == "张三"


def test_S4_a_resync_of_another_customer_is_a_programming_error() -> None:
    customer = synced()
    with pytest.raises(ValueError):
        customer.resync(validate_customer("game_player", PHONE, "site", "x"), "op", AT)


def test_S4_a_customer_replays_from_its_events() -> None:
    customer = synced(name="张三")
    customer.resync(validate_customer("site_member", PHONE, "site", "李四"), "op", AT)
    copy = replay(customer, customer.collect_events())
    assert isinstance(copy, Customer)
    assert (copy.name, copy.phone, copy.condition, copy.product, copy.version) == (
        "李四", PHONE, "site_member", "site", 2,
    )  # fmt: skip


def test_S4_the_name_is_optional_and_stripped() -> None:
    assert validate_customer("site_member", PHONE, "site", None).name is None
    assert validate_customer("site_member", PHONE, "site", "   ").name is None
    assert validate_customer("site_member", PHONE, "site", " 王五 ").name == "王五"
    longest = "名" * MAX_CUSTOMER_NAME
    assert validate_customer("site_member", PHONE, "site", f" {longest} ").name == longest


@pytest.mark.parametrize("name", ["名" * (MAX_CUSTOMER_NAME + 1), 42])
def test_S4_a_too_long_or_non_text_name_is_refused(name: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_customer("site_member", PHONE, "site", name)
    assert refused.value.code == "validation_error"
    assert [p.field for p in refused.value.problems] == ["name"]


@pytest.mark.parametrize("condition", ["vip", "", None, "SITE_MEMBER", 1])
def test_S4_an_unknown_condition_is_refused_with_the_choices(condition: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_customer(condition, PHONE, "site", None)
    assert refused.value.code == "validation_error"
    [problem] = refused.value.problems
    assert problem.field == "condition"
    for choice in ("game_player", "site_member", "miniapp_booking"):
        assert choice in problem.message
    with pytest.raises(InvalidInput) as again:
        parse_condition(condition)
    assert "miniapp_booking" in again.value.detail


@pytest.mark.parametrize("product", ["shop", "", None, "SITE"])
def test_S4_an_unknown_product_is_refused_with_the_choices(product: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_customer("site_member", PHONE, product, None)
    [problem] = refused.value.problems
    assert problem.field == "product"
    assert "miniapp" in problem.message


@pytest.mark.parametrize(
    ("phone", "error", "code"),
    [
        ("12345", InvalidPhone, "invalid_phone"),
        ("not a number", InvalidPhone, "invalid_phone"),
        (None, InvalidPhone, "invalid_phone"),
        (13812345678, InvalidPhone, "invalid_phone"),
        ("+852 9123 4567", NotMainlandMobile, "not_mainland_mobile"),
        ("010 6552 9988", NotMainlandMobile, "not_mainland_mobile"),  # a Beijing landline
    ],
)
def test_S4_a_bad_phone_is_refused_with_the_phone_error(
    phone: object, error: type[DomainError], code: str
) -> None:
    with pytest.raises(error) as refused:
        validate_customer("site_member", phone, "site", None)
    assert refused.value.code == code
    assert [p.field for p in refused.value.problems] == ["phone"]


def test_S4_several_problems_are_listed_together() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_customer("vip", "12345", "shop", "名" * 51)
    assert refused.value.code == "validation_error"
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("condition", "validation_error"),
        ("phone", "invalid_phone"),
        ("product", "validation_error"),
        ("name", "validation_error"),
    ]


# -- opt-out replies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "R", "r", "TD", "td", "Td", "tD", "T", "t", "退订",
        " R ", "\tTD\n", "  退订  ",
        "\u3000R\u3000", "\u3000退订",  # full-width spaces
        "Ｒ", "ｒ", "ＴＤ", "ｔｄ", "Ｔ", "　ＴＤ　",  # full-width letters
    ],
)  # fmt: skip
def test_opt_out_keywords_in_any_case_and_width_opt_out(text: str) -> None:
    assert is_opt_out_reply(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "RT", "r td", "R TD", "TDD", "TD.", "T D", "退订了", "不退订", "好的",
        "R\u200b", "回复R", "stop", "STOP", "Y", "RR", "退 订",
    ],
)  # fmt: skip
def test_opt_out_other_replies_are_not_opt_outs(text: str) -> None:
    assert is_opt_out_reply(text) is False


@pytest.mark.parametrize("value", [None, 1, b"R", ["R"]])
def test_opt_out_non_text_is_not_an_opt_out(value: object) -> None:
    assert is_opt_out_reply(value) is False


def test_opt_out_line_names_a_keyword_that_opts_out() -> None:
    assert OPT_OUT_LINE == "拒收请回复R"
    assert is_opt_out_reply(OPT_OUT_LINE.removeprefix("拒收请回复"))


# -- opt-out records --------------------------------------------------------------------------


def test_opt_out_ids_are_one_per_account_and_number() -> None:
    assert opt_out_id(ACCOUNT, PHONE) == opt_out_id(str(ACCOUNT), PHONE)
    assert opt_out_id(ACCOUNT, PHONE) != opt_out_id(OTHER, PHONE)
    assert opt_out_id(ACCOUNT, PHONE) != opt_out_id(ACCOUNT, "13912345678")
    assert OptOut.start(ACCOUNT, "+86 138-1234-5678", "reply", "R", AT).id == opt_out_id(
        ACCOUNT, PHONE
    )
    assert opt_out_id(ACCOUNT, PHONE) != customer_id(ACCOUNT, "site", PHONE, "site_member")


def test_opt_out_a_reply_records_an_active_opt_out() -> None:
    record = opted_out(text=" TD ")
    events = record.collect_events()
    assert [type(e) for e in events] == [OptOut.Created, OptOut.OptedOut]
    opted = events[1]
    assert isinstance(opted, OptOut.OptedOut)
    assert (opted.account_id, opted.phone, opted.source, opted.text) == (
        str(ACCOUNT), PHONE, "reply", "TD",
    )  # fmt: skip
    assert record.active is True
    assert (record.source, record.text, record.opted_out_at) == ("reply", "TD", AT)


def test_opt_out_a_registered_number_is_not_yet_opted_out() -> None:
    record = OptOut.register(ACCOUNT, PHONE, AT)
    assert record.active is False
    assert [type(e) for e in record.collect_events()] == [OptOut.Created]


def test_opt_out_again_while_active_records_nothing() -> None:
    record = opted_out()
    record.collect_events()
    assert record.opt_out("reply", "退订", AT + timedelta(hours=1)) is False
    assert record.opt_out("account", "", AT + timedelta(hours=2)) is False
    assert record.collect_events() == []
    assert (record.source, record.text, record.opted_out_at) == ("reply", "R", AT)


def test_opt_out_removed_then_a_new_reply_opts_out_again() -> None:
    record = opted_out()
    record.remove("account:x", AT + timedelta(days=1))
    assert record.active is False
    assert record.opted_out_at is None
    assert record.opt_out("reply", "T", AT + timedelta(days=2)) is True
    events = record.collect_events()
    assert [type(e) for e in events] == [
        OptOut.Created, OptOut.OptedOut, OptOut.OptOutRemoved, OptOut.OptedOut,
    ]  # fmt: skip
    removed = events[2]
    assert isinstance(removed, OptOut.OptOutRemoved)
    assert (removed.account_id, removed.phone, removed.actor) == (str(ACCOUNT), PHONE, "account:x")
    assert record.active is True
    assert record.opted_out_at == AT + timedelta(days=2)
    copy = replay(record, events)
    assert isinstance(copy, OptOut)
    assert (copy.active, copy.text, copy.version) == (True, "T", 4)


def test_opt_out_removing_when_not_opted_out_is_not_found() -> None:
    record = OptOut.register(ACCOUNT, PHONE, AT)
    with pytest.raises(NotFound):
        record.remove("operator", AT)
    active = opted_out()
    active.remove("operator", AT)
    with pytest.raises(NotFound) as refused:
        active.remove("operator", AT)
    assert refused.value.code == "not_found"


def test_opt_out_by_the_account_is_allowed() -> None:
    record = OptOut.start(ACCOUNT, PHONE, "account", "客户电话要求", AT)
    assert (record.active, record.source) == (True, "account")


@pytest.mark.parametrize("source", ["carrier", "", None, "REPLY"])
def test_opt_out_an_unknown_source_is_refused(source: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        OptOut.start(ACCOUNT, PHONE, source, "R", AT)
    assert "reply" in refused.value.detail and "account" in refused.value.detail


@pytest.mark.parametrize(
    ("phone", "error"),
    [("12345", InvalidPhone), (None, InvalidPhone), ("+852 9123 4567", NotMainlandMobile)],
)
def test_opt_out_a_bad_phone_is_refused_with_the_phone_error(
    phone: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        OptOut.start(ACCOUNT, phone, "reply", "R", AT)


def test_opt_out_text_is_bounded() -> None:
    with pytest.raises(InvalidInput):
        OptOut.start(ACCOUNT, PHONE, "account", "x" * 501, AT)
    with pytest.raises(InvalidInput):
        OptOut.start(ACCOUNT, PHONE, "account", 5, AT)
    assert OptOut.start(ACCOUNT, PHONE, "account", None, AT).text == ""


def test_opt_out_ids_do_not_depend_on_uuid_spelling() -> None:
    account = uuid4()
    assert opt_out_id(account, PHONE) == opt_out_id(UUID(str(account).upper()), PHONE)


# -- a batch of customers ---------------------------------------------------------------------


def _typed(phone: object, condition: object = "site_member") -> dict[str, object]:
    return {"condition": condition, "phone": phone, "product": "site", "name": None}


def test_S4_a_batch_is_checked_whole_and_keeps_its_order() -> None:
    checked = validate_customers([_typed("+86 138 1234 0010"), _typed("13812340011")])
    assert [d.phone for d in checked] == ["13812340010", "13812340011"]


def test_S4_a_batch_lists_every_problem_at_its_customer() -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_customers([_typed("13812340010"), _typed("12345"), _typed("13812340011", "vip")])
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("customers[1].phone", "invalid_phone"),
        ("customers[2].condition", "validation_error"),
    ]


@pytest.mark.parametrize("size", [0, MAX_CUSTOMERS_PER_SYNC + 1])
def test_S4_a_batch_holds_one_to_a_thousand_customers(size: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_customers([_typed(f"139{n:08d}") for n in range(size)])
    assert [p.field for p in refused.value.problems] == ["customers"]
