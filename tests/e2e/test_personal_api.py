"""What a shop sends: its own business texts, each recipient's own name, strict forms (T1, S3,
S4, S9, Q3, Q6), through HTTP on both stores.

From trying it as a new user: a business template without a scenario was refused, so a shop
could not send ``您的订单#order#已发货`` or its own verification text; ``#name#`` could not
differ per recipient (the Excel ``姓名`` column and a customer's name were never read); the
import's typo field ``dryrun=true`` made a real send; ``product: mall`` was accepted on an
account where mall is not active.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import assert_problem, auth, balance, figures, ledger
from tests.e2e.sending_helpers import (
    ORDINARY,
    advance,
    carrier_record,
    funded_account,
    get_message,
    hand_over,
    post_message,
    post_send,
    send_ok,
    unit_moves,
)
from tests.e2e.template_helpers import approved_template
from tests.e2e.test_audience_api import sync
from tests.e2e.test_import_api import post_import, workbook_bytes
from tests.support import Api

# 【花店】 and this without #name#: 43 characters; a name of 23 or more makes it two units (Q6)
NAMED = "尊敬的#name#,本店会员日全场九折,新品已到店,凭本短信到店另有小礼品相送,欢迎选购。"
REST = "本店会员日全场九折,新品已到店,凭本短信到店另有小礼品相送,欢迎选购。"


def own_business(content: str, kind: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "business", "signature": "花店", "content": content}
    return body | ({"kind": kind} if kind else {})


def notice_template(api: Api, account: str, key: str, content: str = NAMED) -> str:
    template_id: str = approved_template(
        api, account, key, {"type": "mass", "kind": "notice", "signature": "花店",
                            "content": content},
    )  # fmt: skip
    return template_id


def dry_run(api: Api, account: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    r = post_send(api, account, key, {**body, "dry_run": True})
    assert r.status_code == 200, r.text
    plan: dict[str, Any] = r.json()
    return plan


# -- T1: business templates with the account's own content --------------------------------------


def test_T1_an_own_content_business_template_is_reviewed_and_sent_as_a_business_message(
    any_api: Api,
) -> None:
    api = any_api
    account, key = funded_account(api)
    r = api.client.post(f"/v1/accounts/{account}/templates", headers=auth(key),
                        json=own_business("您的订单#order#已发货,请留意查收。"))  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["status"], created["kind"], created["scenario"]) == (
        "pending_review", "notice", None)  # fmt: skip
    assert created["review_due_at"]  # a person reviews it, like a mass template (T5)
    r = api.client.post(f"/v1/templates/{created['template_id']}/approve", headers=auth())
    assert r.status_code == 200, r.text
    r = post_message(api, account, key, {"template_id": created["template_id"],
                                         "phone": ORDINARY[0],
                                         "variables": {"order": "A1024"}})  # fmt: skip
    assert r.status_code == 202, r.text
    hand_over(api)
    record = carrier_record(api, r.json()["message_id"])
    assert record is not None and record[1] == "【花店】您的订单A1024已发货,请留意查收。"


def test_T1_T10_an_own_content_business_template_is_prescreened(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    r = api.client.post(f"/v1/accounts/{account}/templates", headers=auth(key),
                        json=own_business("低息贷款,加微信领取额度#code#"))  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "rejected"
    assert r.json()["reasons"][0]["code"] == "forbidden_content"


def test_T1_S9_Q7_an_own_verification_template_counts_against_the_hourly_limit(
    any_api: Api,
) -> None:
    """S9: its own verification codes are verification-type: the 11th in an hour to one
    number fails and is refunded; its own notices have no such limit."""
    api = any_api
    account, key = funded_account(api)
    verification = own_business("您的验证码为#code#,请勿告诉他人。", "verification")
    codes = approved_template(api, account, key, verification)
    notices = approved_template(api, account, key, own_business("您的订单#order#已发货。"))
    ids = []
    for n in range(11):
        r = post_message(api, account, key, {"template_id": codes, "phone": ORDINARY[0],
                                             "variables": {"code": f"{n:06d}"}})  # fmt: skip
        assert r.status_code == 202, r.text
        ids.append(r.json()["message_id"])
        r = post_message(api, account, key, {"template_id": notices, "phone": ORDINARY[1],
                                             "variables": {"order": f"A{n}"}})  # fmt: skip
        ids.append(r.json()["message_id"])
        advance(api, 60)
    advance(api, 10)
    statuses = [get_message(api, i) for i in ids]
    codes_out, notices_out = statuses[0::2], statuses[1::2]
    assert [s["status"] for s in codes_out[:10]] == ["success"] * 10
    eleventh = (codes_out[10]["status"], codes_out[10]["reason"])
    assert eleventh == ("failed", "recipient_rate_limited")
    assert [s["status"] for s in notices_out] == ["success"] * 11
    api.settle()
    assert figures(balance(api, account))[3:] == (22, 1)  # charged 22, the 11th code refunded


# -- Q6, S2: each recipient's own variables, each message priced ---------------------------------


def test_Q6_each_recipient_is_priced_on_its_own_message_and_the_charge_is_the_sum(
    any_api: Api,
) -> None:
    api = any_api
    account, key = funded_account(api)
    template = notice_template(api, account, key)
    long_name = "欧阳" + "慧" * 28  # 30 characters: 73 in all, two units
    recipients = [
        {"phone": ORDINARY[0], "variables": {"name": "王女士"}},
        {"phone": ORDINARY[1], "variables": {"name": long_name}},
        ORDINARY[2],  # the shared variables apply
        {"phone": ORDINARY[3]},
    ]
    body = {"template_id": template, "recipients": recipients, "variables": {"name": "会员"}}
    plan = dry_run(api, account, key, body)
    assert (plan["accepted"], plan["units"], plan["units_per_message"]) == (4, 5, 2)
    assert plan["messages_by_units"] == {"1": 3, "2": 1}
    assert plan["text"] == f"【花店】尊敬的#name#,{REST}"
    sent = send_ok(api, account, key, body)
    assert (sent["units"], sent["messages_by_units"]) == (5, {"1": 3, "2": 1})
    api.settle()
    charges = [e for e in ledger(api, account) if e["kind"] == "charge"]
    assert [c["units"] for c in charges] == [5]  # the exact sum, one entry
    hand_over(api)
    texts = [carrier_record(api, f"{sent['send_id']}.{i}") for i in range(4)]
    assert [t[1] if t else None for t in texts] == [
        f"【花店】尊敬的王女士,{REST}",
        f"【花店】尊敬的{long_name},{REST}",
        f"【花店】尊敬的会员,{REST}",
        f"【花店】尊敬的会员,{REST}",
    ]
    units = [get_message(api, f"{sent['send_id']}.{i}")["units"] for i in range(4)]
    assert units == [1, 2, 1, 1]


def test_Q6_a_recipient_whose_text_is_too_long_is_refused_with_its_position(
    any_api: Api,
) -> None:
    api = any_api
    account, key = funded_account(api)
    content = "尊敬的#name#," + "本店会员日全场九折欢迎到店选购" * 7 + "。"  # 114 and a name
    template = notice_template(api, account, key, content)
    recipients = [
        {"phone": ORDINARY[0], "variables": {"name": "王"}},
        {"phone": ORDINARY[1], "variables": {"name": "欧" * 30}},  # 144 characters in all
        {"phone": ORDINARY[2], "variables": {"name": "李"}},
        {"phone": ORDINARY[3]},  # no name, none shared: cannot be made
    ]
    before = unit_moves(api, account)
    plan = dry_run(api, account, key, {"template_id": template, "recipients": recipients})
    assert (plan["accepted"], plan["units"]) == (2, 4)
    assert [(x["input"], x["code"], x["position"]) for x in plan["rejected"]] == [
        (ORDINARY[1], "message_too_long", 2), (ORDINARY[3], "missing_variable", 4)]  # fmt: skip
    assert unit_moves(api, account) == before
    sent = send_ok(api, account, key, {"template_id": template, "recipients": recipients})
    assert (sent["accepted"], sent["units"]) == (2, 4)


def test_S2_a_malformed_recipient_object_is_refused_whole(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    template = notice_template(api, account, key)
    before = unit_moves(api, account)
    for bad in ({"phone": ORDINARY[0], "variables": "王"}, {"number": ORDINARY[0]}):
        r = post_send(api, account, key, {"template_id": template, "recipients": [bad],
                                          "variables": {"name": "x"}})  # fmt: skip
        problem = assert_problem(r, 422, "validation_error")
        assert problem["errors"][0]["field"].startswith("recipients.0")
    assert unit_moves(api, account) == before


# -- S3: the Excel template's 姓名 column ----------------------------------------------------------


def test_S3_an_xlsx_with_a_name_column_fills_each_recipients_name(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    template = notice_template(api, account, key)
    data = workbook_bytes([["手机号码", "姓名", "备注"], [ORDINARY[0], "王女士", "老客户"],
                           [ORDINARY[1], None, ""], [ORDINARY[2], "李先生", None]])  # fmt: skip
    fields = {"template_id": template, "variables": '{"name": "会员"}'}
    r = post_import(api, account, key, data, fields)
    assert r.status_code == 202, r.text
    send_id = r.json()["send_id"]
    hand_over(api)
    texts = [carrier_record(api, f"{send_id}.{i}") for i in range(3)]
    assert [t[1].split(",")[0] if t else None for t in texts] == [
        "【花店】尊敬的王女士", "【花店】尊敬的会员", "【花店】尊敬的李先生"]  # fmt: skip


def test_S3_a_typo_field_on_the_import_is_refused_and_sends_nothing(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    template = notice_template(api, account, key)
    before = unit_moves(api, account)
    data = workbook_bytes([["手机号码"], [ORDINARY[0]]])
    r = post_import(api, account, key, data, {"template_id": template, "dryrun": "true",
                                              "variables": '{"name": "x"}'})  # fmt: skip
    problem = assert_problem(r, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["dryrun"]
    assert unit_moves(api, account) == before


# -- S4: an audience send uses each customer's name ------------------------------------------------


def test_S4_an_audience_send_fills_the_name_from_each_customer(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)
    template = notice_template(api, account, key)
    for phone, name in ((ORDINARY[0], "王女士"), (ORDINARY[1], None), (ORDINARY[2], "李先生")):
        assert sync(api, account, key, "site_member", phone, name=name).status_code in (200, 201)
    sent = send_ok(api, account, key, {"template_id": template,
                                       "audience": {"conditions": ["site_member"]},
                                       "variables": {"name": "会员"}})  # fmt: skip
    hand_over(api)
    by_phone = {}
    for i in range(3):
        record = carrier_record(api, f"{sent['send_id']}.{i}")
        assert record is not None
        by_phone[get_message(api, f"{sent['send_id']}.{i}")["phone"]] = record[1]
    assert by_phone[ORDINARY[0]].startswith("【花店】尊敬的王女士,")
    assert by_phone[ORDINARY[1]].startswith("【花店】尊敬的会员,")
    assert by_phone[ORDINARY[2]].startswith("【花店】尊敬的李先生,")


# -- Q3, Q4: the product a send names must be active -------------------------------------------


def test_Q3_a_send_or_message_naming_an_inactive_product_is_refused(any_api: Api) -> None:
    api = any_api
    account, key = funded_account(api)  # only "site" is active
    template = notice_template(api, account, key)
    register = {"type": "business", "scenario": "register", "signature": "花店"}
    codes = approved_template(api, account, key, register)
    before = unit_moves(api, account)
    r = post_send(api, account, key, {"template_id": template, "recipients": ORDINARY[:1],
                                      "variables": {"name": "x"}, "product": "mall"})  # fmt: skip
    assert_problem(r, 409, "no_active_product")
    r = post_send(api, account, key, {"template_id": template, "recipients": ORDINARY[:1],
                                      "variables": {"name": "x"}, "product": "mall",
                                      "dry_run": True})  # fmt: skip
    assert_problem(r, 409, "no_active_product")
    from_mall = {"template_id": codes, "phone": ORDINARY[0], "variables": {"code": "1"},
                 "product": "mall"}  # fmt: skip
    r = post_message(api, account, key, from_mall)
    assert_problem(r, 409, "no_active_product")
    assert unit_moves(api, account) == before
    r = api.client.post(f"/v1/accounts/{account}/products", json={"product": "mall"},
                        headers=auth(key))  # fmt: skip
    assert r.status_code == 200
    r = post_message(api, account, key, from_mall)
    assert r.status_code == 202, r.text
