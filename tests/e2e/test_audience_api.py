"""Synced audiences (S4), the opt-out line (Q6) and marketing opt-outs from carrier replies,
through the HTTP API on the simulated clock (Monday 2026-03-02 09:00 Beijing time).

Marketing sends wait for the provider's review (S8): requested between 9:00 and 20:00 they go
out 30 minutes later, so ``go_out`` moves the clock 30 minutes and then the few seconds the
simulated carrier takes to deliver.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.helpers import assert_problem, auth, balance, figures, ledger, parse_at
from tests.e2e.sending_helpers import (
    CarrierSpy,
    advance,
    all_messages,
    business_template,
    dashboard,
    funded_account,
    get_message,
    get_send,
    list_sends,
    mass_template,
    post_message,
    post_send,
    send_ok,
    spy_on_carrier,
)
from tests.e2e.template_helpers import CLEAN_CONTENT
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN, Api

BEIJING = ZoneInfo("Asia/Shanghai")
OPT_OUT_LINE = "\n拒收请回复R"
SIGNED = "【花店】"

# Ordinary numbers (the simulated carrier delivers them): 13812340010 ... 13812340059.
P = [f"1381234{n:04d}" for n in range(10, 60)]

# 61 characters: with 【花店】 the text is 65 (1 unit); with the opt-out line 72 (2 units, Q6).
EDGE_CONTENT = (
    "春季新品已到店,会员凭短信到店享九折优惠,详询门店。"
    "本店地址在人民路一号,营业时间为每天上午九点至晚上九点,欢迎各位光临。"
)


# -- helpers ---------------------------------------------------------------------------------


def sync(
    api: Api,
    account: str,
    token: str,
    condition: object,
    phone: object,
    product: object = "site",
    name: object = None,
) -> httpx.Response:
    body: dict[str, Any] = {"condition": condition, "phone": phone, "product": product}
    if name is not None:
        body["name"] = name
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account}/customers", json=body, headers=auth(token)
    )
    return r


def synced(
    api: Api, account: str, token: str, condition: str, phone: str, product: str = "site"
) -> dict[str, Any]:
    """A customer sync that must create a customer (201)."""
    r = sync(api, account, token, condition, phone, product)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def customers(api: Api, account: str, token: str = OPERATOR_TOKEN, **params: Any) -> dict[str, Any]:
    api.settle()
    r = api.client.get(f"/v1/accounts/{account}/customers", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def reply(
    phone: str, text: str, at: datetime | str | None = None, account: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"phone": phone, "text": text}
    if at is not None:
        out["at"] = at if isinstance(at, str) else at.astimezone(BEIJING).isoformat()
    if account is not None:
        out["account_id"] = account
    return out


def post_replies(api: Api, replies: list[Any], token: str | None = CARRIER_TOKEN) -> httpx.Response:
    headers = auth(token) if token is not None else {}
    r: httpx.Response = api.client.post(
        "/v1/carrier/replies", json={"replies": replies}, headers=headers
    )
    return r


def replies_ok(api: Api, replies: list[Any]) -> dict[str, Any]:
    r = post_replies(api, replies)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def opt_outs(api: Api, account: str, token: str = OPERATOR_TOKEN) -> list[dict[str, Any]]:
    api.settle()  # reads are eventually consistent
    r = api.client.get(f"/v1/accounts/{account}/opt-outs", headers=auth(token))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def opted_out_phones(api: Api, account: str) -> list[str]:
    return [o["phone"] for o in opt_outs(api, account)]


def delete_opt_out(api: Api, account: str, phone: str, token: str) -> httpx.Response:
    r: httpx.Response = api.client.delete(
        f"/v1/accounts/{account}/opt-outs/{phone}", headers=auth(token)
    )
    return r


def now(api: Api) -> datetime:
    instant: datetime = api.container.clock.now()
    return instant.astimezone(BEIJING)


def go_out(api: Api) -> None:
    """Past the provider's review (S8) and the carrier's receipts."""
    advance(api, 1800)
    advance(api, 10)


def units(api: Api, account: str) -> tuple[int, int]:
    """(available, locked), the read models current."""
    api.settle()
    available, locked = figures(balance(api, account))[:2]
    return available, locked


def quota_moves(api: Api, account: str) -> list[tuple[str, int]]:
    """The account's ledger as (kind, units), oldest first."""
    api.settle()
    return [(e["kind"], e["units"]) for e in ledger(api, account)]


def phones_of(api: Api, send_id: str, **params: Any) -> list[str]:
    return [m["phone"] for m in all_messages(api, send_id, **params)]


def handed(carrier: CarrierSpy) -> dict[str, str]:
    """Message id -> phone of everything handed to the carrier (each message once)."""
    return {m.message_id: m.phone for m in carrier.handed}


def delivered(api: Api, send_id: str, success: int) -> dict[str, Any]:
    """The send once ``success`` of its messages are delivered. ``/v1/sim/clock`` can answer
    while a background timer is still recording receipts it has claimed, so wait a moment."""
    deadline = time.monotonic() + 10
    while True:
        shown: dict[str, Any] = get_send(api, send_id)
        if shown["counts"]["success"] >= success or time.monotonic() > deadline:
            return shown
        time.sleep(0.02)


def marketing_to(
    api: Api, account: str, key: str, template: str, numbers: list[str]
) -> dict[str, Any]:
    sent: dict[str, Any] = send_ok(
        api, account, key, {"template_id": template, "recipients": numbers}
    )
    return sent


# -- S4: synced customers --------------------------------------------------------------------


def test_S4_a_customer_syncs_once_per_product_phone_and_condition(api: Api) -> None:
    account, key = funded_account(api)
    r = sync(api, account, key, "site_member", P[0], "site", "王女士")
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["condition"], first["phone"], first["product"], first["name"]) == (
        "site_member",
        P[0],
        "site",
        "王女士",
    )
    assert first["account_id"] == account and first["created"] is True
    assert parse_at(first["synced_at"]) == now(api)

    # the same product + phone + condition, however the number is written: the same customer
    for phone in (P[0], f"+86 {P[0][:3]} {P[0][3:7]} {P[0][7:]}", f"86{P[0]}"):
        again = sync(api, account, key, "site_member", phone, "site")
        assert again.status_code == 200, again.text
        assert again.json()["customer_id"] == first["customer_id"]
        assert again.json()["created"] is False
        assert again.json()["name"] == "王女士"  # a sync without a name keeps the name known
    # another condition or another product is another customer
    game = synced(api, account, key, "game_player", P[0], "site")
    mall = synced(api, account, key, "site_member", P[0], "mall")
    booking = synced(api, account, OPERATOR_TOKEN, "miniapp_booking", P[1], "miniapp")
    ids = {first["customer_id"], game["customer_id"], mall["customer_id"]}
    assert len(ids | {booking["customer_id"]}) == 4

    listed = customers(api, account)
    assert sorted(c["customer_id"] for c in listed["items"]) == sorted(
        [*ids, booking["customer_id"]]
    )
    assert listed["counts"] == {"game_player": 1, "site_member": 2, "miniapp_booking": 1}
    members = customers(api, account, key, condition="site_member")
    assert sorted((c["phone"], c["product"]) for c in members["items"]) == [
        (P[0], "mall"),
        (P[0], "site"),
    ]
    assert {c["condition"] for c in members["items"]} == {"site_member"}
    assert members["counts"] == listed["counts"]  # the counts are for every condition
    assert [c["phone"] for c in customers(api, account, condition="miniapp_booking")["items"]] == [
        P[1]
    ]
    r = api.client.get(
        f"/v1/accounts/{account}/customers", params={"condition": "vip"}, headers=auth(key)
    )
    assert_problem(r, 422, "validation_error")


def test_S4_a_repeated_sync_with_another_name_renames_the_customer(api: Api) -> None:
    account, key = funded_account(api)
    created = sync(api, account, key, "site_member", P[0], name="王女士").json()
    renamed = sync(api, account, key, "site_member", P[0], name="王小姐")
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["customer_id"] == created["customer_id"]
    assert renamed.json()["name"] == "王小姐"
    items = customers(api, account)["items"]
    assert [(c["customer_id"], c["name"]) for c in items] == [(created["customer_id"], "王小姐")]


def test_S4_a_bad_customer_is_refused_with_its_code_and_nothing_is_stored(api: Api) -> None:
    account, key = funded_account(api)
    good = synced(api, account, key, "site_member", P[0])
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"condition": "vip", "phone": P[1]}, "validation_error", "condition"),
        ({"condition": None, "phone": P[1]}, "validation_error", "condition"),
        ({"condition": "site_member", "phone": "12345"}, "invalid_phone", "phone"),
        ({"condition": "site_member", "phone": "+852 9123 4567"}, "not_mainland_mobile", "phone"),
        (
            {"condition": "site_member", "phone": P[1], "product": "shop"},
            "validation_error",
            "product",
        ),
        (
            {"condition": "site_member", "phone": P[1], "product": None},
            "validation_error",
            "product",
        ),
        (
            {"condition": "site_member", "phone": P[1], "name": "王" * 51},
            "validation_error",
            "name",
        ),
    ]
    for fields, code, field in cases:
        given: dict[str, Any] = {"product": "site", **fields}
        r = sync(
            api,
            account,
            key,
            given["condition"],
            given["phone"],
            given["product"],
            given.get("name"),
        )
        body = assert_problem(r, 422, code)
        assert field in [e["field"] for e in body["errors"]], (fields, body)
    # several problems at once: every one listed
    r = sync(api, account, key, "vip", "12345", "shop")
    body = assert_problem(r, 422, "validation_error")
    assert sorted(e["field"] for e in body["errors"]) == ["condition", "phone", "product"]
    assert [c["customer_id"] for c in customers(api, account)["items"]] == [good["customer_id"]]
    assert customers(api, account)["counts"]["site_member"] == 1
    # 50 characters is still a name
    assert sync(api, account, key, "game_player", P[1], name="王" * 50).status_code == 201


def test_S4_only_the_account_and_the_operator_sync_and_read_its_customers(api: Api) -> None:
    account, key = funded_account(api)
    other, other_key = funded_account(api, phone="13800138001")
    synced(api, account, key, "site_member", P[0])
    assert_problem(sync(api, account, other_key, "site_member", P[1]), 404, "not_found")
    r = api.client.get(f"/v1/accounts/{account}/customers", headers=auth(other_key))
    assert_problem(r, 404, "not_found")
    assert_problem(sync(api, account, CARRIER_TOKEN, "site_member", P[1]), 403, "forbidden")
    r = api.client.post(
        f"/v1/accounts/{account}/customers",
        json={"condition": "site_member", "phone": P[1], "product": "site"},
    )
    assert_problem(r, 401, "unauthorized")
    assert [c["phone"] for c in customers(api, account)["items"]] == [P[0]]
    assert customers(api, other)["items"] == []
    assert customers(api, other)["counts"] == {
        "game_player": 0,
        "site_member": 0,
        "miniapp_booking": 0,
    }


# -- S4: sends to an audience ----------------------------------------------------------------


def test_S4_an_audience_send_goes_once_to_each_number_meeting_any_condition(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = spy_on_carrier(api, monkeypatch)
    account, key = funded_account(api)
    other, other_key = funded_account(api, phone="13800138001")
    template = mass_template(api, account, key, kind="marketing")
    synced(api, account, key, "site_member", P[0])
    synced(api, account, key, "site_member", P[1], "site")
    synced(api, account, key, "site_member", P[1], "mall")  # the same number from two products
    synced(api, account, key, "game_player", P[1])  # ... and in both conditions
    synced(api, account, key, "game_player", P[2])
    synced(api, account, key, "miniapp_booking", P[3], "miniapp")  # not asked for
    synced(api, other, other_key, "site_member", P[4])  # another account's customer
    synced(api, other, other_key, "game_player", P[0])
    audience = {"conditions": ["site_member", "game_player"]}

    plan = post_send(
        api, account, key, {"template_id": template, "audience": audience, "dry_run": True}
    )
    assert plan.status_code == 200, plan.text
    assert (plan.json()["accepted"], plan.json()["units"], plan.json()["rejected"]) == (3, 3, [])
    assert plan.json()["duplicates"] == 0
    assert list_sends(api, account) == []
    assert quota_moves(api, account) == [("purchase", 1000)]

    sent = send_ok(api, account, key, {"template_id": template, "audience": audience})
    assert (sent["status"], sent["accepted"], sent["units"]) == ("awaiting_provider_review", 3, 3)
    # synced after the send was accepted: not in it (the audience is frozen at acceptance)
    synced(api, account, key, "site_member", P[5])
    synced(api, account, key, "game_player", P[6])
    go_out(api)
    shown = delivered(api, sent["send_id"], 3)
    assert (shown["total"], shown["counts"]["success"], shown["units_charged"]) == (3, 3, 3)
    assert sorted(phones_of(api, sent["send_id"])) == [P[0], P[1], P[2]]
    assert sorted(handed(carrier).values()) == [P[0], P[1], P[2]]
    assert units(api, account) == (997, 0)

    # the other account's audience is its own customers only
    mine = mass_template(api, other, other_key, kind="notice")
    theirs = send_ok(
        api, other, other_key, {"template_id": mine, "audience": {"conditions": ["site_member"]}}
    )
    assert theirs["accepted"] == 1
    advance(api, 10)
    assert phones_of(api, theirs["send_id"]) == [P[4]]


def test_S4_a_customer_synced_just_before_the_send_is_in_it(api: Api) -> None:
    account, key = funded_account(api)
    template = mass_template(api, account, key)  # a notice: goes out at once
    for phone in P[:5]:
        synced(api, account, key, "miniapp_booking", phone, "miniapp")
    # no wait for the read models: the send reads the audience as of the request
    sent = send_ok(
        api,
        account,
        key,
        {"template_id": template, "audience": {"conditions": ["miniapp_booking"]}},
    )
    assert sent["accepted"] == 5
    advance(api, 10)
    assert sorted(phones_of(api, sent["send_id"])) == P[:5]


def test_S4_audience_sends_that_cannot_be_made_are_refused_and_store_nothing(api: Api) -> None:
    account, key = funded_account(api)
    other, other_key = funded_account(api, phone="13800138001")
    template = mass_template(api, account, key, kind="marketing")
    synced(api, account, key, "site_member", P[0])
    synced(api, other, other_key, "miniapp_booking", P[1], "miniapp")
    bodies: list[dict[str, Any]] = [
        {"audience": {"conditions": ["miniapp_booking"]}},  # nobody (of this account) meets it
        {"audience": {"conditions": ["game_player"]}},
        {"audience": {"conditions": ["site_member"]}, "recipients": [P[2]]},
        {"audience": {"conditions": ["site_member"]}, "recipients_text": P[2]},
        {"audience": {"conditions": ["vip"]}},
        {"audience": {"conditions": ["site_member", "vip"]}},
        {"audience": {"conditions": []}},
        {"audience": {}},
        {"audience": ["site_member"]},
    ]
    for body in bodies:
        for dry_run in (True, False):
            r = post_send(api, account, key, {"template_id": template, "dry_run": dry_run, **body})
            assert r.status_code == 422, (body, r.text)
            assert r.json()["code"] == "validation_error", (body, r.text)
    assert list_sends(api, account) == []
    assert quota_moves(api, account) == [("purchase", 1000)]
    assert units(api, account) == (1000, 0)


# -- Q6: the opt-out line --------------------------------------------------------------------


def test_Q6_the_opt_out_line_ends_every_marketing_message_and_counts_in_its_units(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(SIGNED + EDGE_CONTENT) == 65
    assert len(SIGNED + EDGE_CONTENT + OPT_OUT_LINE) == 72
    carrier = spy_on_carrier(api, monkeypatch)
    account, key = funded_account(api)
    marketing = mass_template(api, account, key, EDGE_CONTENT, kind="marketing")
    notice = mass_template(api, account, key, EDGE_CONTENT, kind="notice")
    with_line = SIGNED + EDGE_CONTENT + OPT_OUT_LINE
    without = SIGNED + EDGE_CONTENT

    plan = post_send(
        api, account, key, {"template_id": marketing, "recipients": P[:3], "dry_run": True}
    ).json()
    assert (plan["text"], plan["units_per_message"], plan["units"]) == (with_line, 2, 6)
    plan = post_send(
        api, account, key, {"template_id": notice, "recipients": P[:3], "dry_run": True}
    ).json()
    assert (plan["text"], plan["units_per_message"], plan["units"]) == (without, 1, 3)

    sent = marketing_to(api, account, key, marketing, P[:3])
    assert sent["units"] == 6
    assert get_send(api, sent["send_id"])["text"] == with_line
    plain = marketing_to(api, account, key, notice, P[3:6])
    assert plain["units"] == 3
    assert get_send(api, plain["send_id"])["text"] == without
    go_out(api)
    assert get_send(api, sent["send_id"])["units_charged"] == 6
    assert [m["units"] for m in all_messages(api, sent["send_id"])] == [2, 2, 2]
    assert [m["units"] for m in all_messages(api, plain["send_id"])] == [1, 1, 1]
    texts = {m.phone: m.text for m in carrier.handed}  # one text per number
    assert texts == {**dict.fromkeys(P[:3], with_line), **dict.fromkeys(P[3:6], without)}
    assert units(api, account) == (1000 - 9, 0)

    # a short marketing text: the line still ends it, and it fits one unit
    short = mass_template(api, account, key, kind="marketing")
    plan = post_send(
        api, account, key, {"template_id": short, "recipients": P[:1], "dry_run": True}
    ).json()
    assert plan["text"] == SIGNED + CLEAN_CONTENT + OPT_OUT_LINE
    assert plan["units_per_message"] == 1


def test_Q6_the_opt_out_line_may_take_a_full_marketing_text_past_130_characters(api: Api) -> None:
    """The 130-character cap is on what the account's template and variables make; the
    platform's own line comes on top and such a message still costs 2 units (Q6: longer than
    65, 2). An approved template at the T3 limit must stay sendable."""
    account, key = funded_account(api)
    content = (CLEAN_CONTENT * 5)[:120]  # 【花店】 + 120 = 124 characters; with the line 132
    template = mass_template(api, account, key, content, kind="marketing")
    r = post_send(
        api, account, key, {"template_id": template, "recipients": P[:1], "dry_run": True}
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["text"]) == 124 + len("\n" + "拒收请回复R")
    assert r.json()["units_per_message"] == 2


# -- opt-out: carrier replies ----------------------------------------------------------------


def test_opt_out_keywords_opt_out_and_other_replies_are_ignored(api: Api) -> None:
    account, _ = funded_account(api)
    other, _ = funded_account(api, phone="13800138001")
    keywords = ["R", " td ", "t", "退订", "Ｒ", "ｔｄ", "r\u3000"]
    at = now(api)
    outcome = replies_ok(
        api,
        [reply(P[i], text, at, account) for i, text in enumerate(keywords)]
        + [
            reply(P[20], "RT", at, account),
            reply(P[21], "好的", at, account),
            reply(P[22], "r td", at, account),
            reply(P[23], "", at, account),
        ],
    )
    results = outcome.pop("results")
    assert outcome == {"opted_out": 7, "already": 0, "ignored": 4, "unmatched": 0, "rejected": []}
    assert [(r["index"], r["outcome"], r["reason"], r["accounts"]) for r in results] == [
        (i, "opted_out", None, [account]) for i in range(7)
    ] + [(i, "ignored", "not_an_opt_out", [account]) for i in range(7, 11)]
    listed = opt_outs(api, account)
    assert sorted(o["phone"] for o in listed) == sorted(P[: len(keywords)])
    assert {o["source"] for o in listed} == {"reply"}
    assert {o["phone"]: o["text"] for o in listed}[P[3]] == "退订"
    assert opt_outs(api, other) == []  # with account_id: only that account

    again = replies_ok(api, [reply(P[0], "TD", at, account), reply(f"+86{P[1]}", "R", at, account)])
    assert (again["opted_out"], again["already"]) == (0, 2)
    assert [r["outcome"] for r in again["results"]] == ["already_opted_out"] * 2
    assert len(opt_outs(api, account)) == len(keywords)


def test_opt_out_without_account_id_reaches_each_account_that_sent_marketing_in_30_days(
    api: Api,
) -> None:
    first, first_key = funded_account(api)
    second, second_key = funded_account(api, phone="13800138001")
    notices, notices_key = funded_account(api, phone="13800138002")
    quiet, _ = funded_account(api, phone="13800138003")
    for account, key in ((first, first_key), (second, second_key)):
        marketing_to(api, account, key, mass_template(api, account, key, kind="marketing"), P[:2])
    marketing_to(
        api, first, first_key, mass_template(api, first, first_key, kind="marketing"), [P[2]]
    )
    send_ok(
        api,
        notices,
        notices_key,
        {"template_id": mass_template(api, notices, notices_key), "recipients": P[:3]},
    )
    go_out(api)
    sent_at = now(api)

    outcome = replies_ok(api, [reply(P[0], "TD", sent_at + timedelta(hours=1))])
    assert (outcome["opted_out"], outcome["unmatched"]) == (2, 0)
    assert opted_out_phones(api, first) == [P[0]]
    assert opted_out_phones(api, second) == [P[0]]
    assert opt_outs(api, notices) == []  # sent it a notice only
    assert opt_outs(api, quiet) == []

    late = replies_ok(api, [reply(P[1], "R", sent_at + timedelta(days=31))])
    assert (late["opted_out"], late["unmatched"]) == (0, 1)
    stranger = replies_ok(api, [reply(P[40], "R", sent_at)])  # nobody marketed to it
    assert (stranger["opted_out"], stranger["unmatched"]) == (0, 1)
    in_time = replies_ok(api, [reply(P[1], "R", sent_at + timedelta(days=29))])
    assert (in_time["opted_out"], in_time["unmatched"]) == (2, 0)
    only_first = replies_ok(api, [reply(P[2], "退订", sent_at + timedelta(days=1))])
    assert only_first["opted_out"] == 1
    assert sorted(opted_out_phones(api, first)) == P[:3]
    assert sorted(opted_out_phones(api, second)) == P[:2]
    assert opt_outs(api, notices) == [] and opt_outs(api, quiet) == []


def test_opt_out_a_reply_does_not_answer_marketing_sent_after_it(api: Api) -> None:
    early, early_key = funded_account(api)
    later, later_key = funded_account(api, phone="13800138001")
    marketing_to(
        api, early, early_key, mass_template(api, early, early_key, kind="marketing"), [P[0]]
    )
    go_out(api)
    replied_at = now(api)  # P[0] replies to the first account's marketing ...
    advance(api, 3600)
    marketing_to(
        api, later, later_key, mass_template(api, later, later_key, kind="marketing"), [P[0]]
    )
    go_out(api)  # ... the second account's reaches it an hour later; the reply is posted now
    outcome = replies_ok(api, [reply(P[0], "TD", replied_at)])
    assert outcome["opted_out"] == 1
    assert opted_out_phones(api, early) == [P[0]]
    assert opt_outs(api, later) == []


def test_opt_out_a_message_skipped_for_an_opt_out_is_not_marketing_sent_to_the_number(
    api: Api,
) -> None:
    skipping, skipping_key = funded_account(api)
    sender, sender_key = funded_account(api, phone="13800138001")
    template = mass_template(api, skipping, skipping_key, kind="marketing")
    sent = marketing_to(api, skipping, skipping_key, template, [P[0], P[1]])
    replies_ok(api, [reply(P[0], "R", now(api), skipping)])  # while the send awaits review
    marketing_to(
        api, sender, sender_key, mass_template(api, sender, sender_key, kind="marketing"), [P[0]]
    )
    go_out(api)
    assert get_message(api, f"{sent['send_id']}.0")["reason"] == "opted_out"  # never sent
    assert delete_opt_out(api, skipping, P[0], skipping_key).status_code == 204  # back on
    outcome = replies_ok(api, [reply(P[0], "TD", now(api))])  # answers the other's marketing
    assert opted_out_phones(api, sender) == [P[0]]
    assert opt_outs(api, skipping) == []
    assert outcome["opted_out"] == 1


def test_opt_out_replies_come_only_from_the_carrier(api: Api) -> None:
    account, key = funded_account(api)
    replies = [reply(P[0], "R", now(api), account)]
    assert_problem(post_replies(api, replies, key), 403, "forbidden")
    assert_problem(post_replies(api, replies, None), 401, "unauthorized")
    assert_problem(post_replies(api, replies, "not-a-token"), 401, "unauthorized")
    assert opt_outs(api, account) == []
    assert replies_ok(api, replies)["opted_out"] == 1
    assert opted_out_phones(api, account) == [P[0]]


def test_opt_out_a_malformed_reply_is_rejected_and_the_others_applied(api: Api) -> None:
    account, _ = funded_account(api)
    at = now(api)
    outcome = replies_ok(
        api,
        [
            reply(P[0], "R", at, account),
            reply("12345", "R", at, account),
            reply(P[1], "TD", at, account),
            reply("+852 9123 4567", "TD", at, account),
            reply(P[2], "R", "yesterday", account),
            reply(P[3], "R", at, "not-an-account"),
            reply(P[4], "T", at, account),
            {**reply(P[5], "R", at, account), "colour": "red"},  # no such field
            "TD",  # not a reply at all
            reply(P[6], "R", at, str(uuid4())),  # an account that does not exist
        ],
    )
    assert (outcome["opted_out"], outcome["ignored"], outcome["unmatched"]) == (3, 0, 0)
    assert [r["index"] for r in outcome["rejected"]] == [1, 3, 4, 5, 7, 8, 9]
    assert [r["outcome"] for r in outcome["results"]] == [
        "opted_out", "rejected", "opted_out", "rejected", "rejected", "rejected", "opted_out",
        "rejected", "rejected", "rejected",
    ]  # fmt: skip
    assert outcome["results"][9]["reason"] == "not_found"
    assert [r["code"] for r in outcome["rejected"][:2]] == ["invalid_phone", "not_mainland_mobile"]
    assert sorted(opted_out_phones(api, account)) == [P[0], P[1], P[4]]


# -- opt-out: later marketing ----------------------------------------------------------------


def test_opt_out_later_marketing_skips_the_number_and_charges_only_the_others(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = spy_on_carrier(api, monkeypatch)
    account, key = funded_account(api)
    other, other_key = funded_account(api, phone="13800138001")
    marketing = mass_template(api, account, key, kind="marketing")
    notice = mass_template(api, account, key, kind="notice")
    register = business_template(api, account, key)
    replies_ok(api, [reply(P[0], "R", now(api), account)])
    numbers = [P[1], P[0], P[2]]

    plan = post_send(
        api, account, key, {"template_id": marketing, "recipients": numbers, "dry_run": True}
    ).json()
    assert (plan["accepted"], plan["units"]) == (2, 2)
    assert [(x["input"], x["code"], x["position"]) for x in plan["rejected"]] == [
        (P[0], "opted_out", 2)
    ]
    sent = marketing_to(api, account, key, marketing, numbers)
    assert (sent["accepted"], sent["units"]) == (2, 2)
    assert [(x["input"], x["code"]) for x in sent["rejected"]] == [(P[0], "opted_out")]
    go_out(api)
    shown = delivered(api, sent["send_id"], 2)
    assert (shown["total"], shown["units_charged"], shown["counts"]["success"]) == (2, 2, 2)
    assert phones_of(api, sent["send_id"]) == [P[1], P[2]]
    assert quota_moves(api, account) == [("purchase", 1000), ("lock", 2), ("charge", 2)]
    assert units(api, account) == (998, 0)
    assert P[0] not in set(handed(carrier).values())

    # an audience too: the opted-out customer is left out
    for phone in (P[0], P[3]):
        synced(api, account, key, "site_member", phone)
    to_members = send_ok(
        api, account, key, {"template_id": marketing, "audience": {"conditions": ["site_member"]}}
    )
    assert (to_members["accepted"], [x["code"] for x in to_members["rejected"]]) == (
        1,
        ["opted_out"],
    )
    # every number opted out: nothing to send
    r = post_send(api, account, key, {"template_id": marketing, "recipients": [P[0]]})
    assert_problem(r, 422, "validation_error")
    go_out(api)
    assert phones_of(api, to_members["send_id"]) == [P[3]]
    assert P[0] not in set(handed(carrier).values())

    # business messages and notices still reach it; so does another account's marketing
    message = post_message(
        api, account, key, {"template_id": register, "phone": P[0], "variables": {"code": "123456"}}
    )
    assert message.status_code == 202, message.text
    told = send_ok(api, account, key, {"template_id": notice, "recipients": [P[0]]})
    assert (told["accepted"], told["rejected"]) == (1, [])
    theirs = marketing_to(
        api, other, other_key, mass_template(api, other, other_key, kind="marketing"), [P[0]]
    )
    assert (theirs["accepted"], theirs["rejected"]) == (1, [])
    go_out(api)
    for send_id in (message.json()["send_id"], told["send_id"], theirs["send_id"]):
        assert delivered(api, send_id, 1)["counts"]["success"] == 1
    assert get_message(api, message.json()["message_id"])["status"] == "success"
    reached = [i for i, phone in handed(carrier).items() if phone == P[0]]
    assert sorted(reached) == sorted(
        [message.json()["message_id"], f"{told['send_id']}.0", f"{theirs['send_id']}.0"]
    )


def test_opt_out_while_a_scheduled_marketing_send_waits_skips_it_at_no_cost(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = spy_on_carrier(api, monkeypatch)
    account, key = funded_account(api)
    template = mass_template(api, account, key, EDGE_CONTENT, kind="marketing")  # 2 units each
    when = (now(api) + timedelta(hours=2)).isoformat()
    sent = send_ok(
        api, account, key, {"template_id": template, "recipients": P[:3], "scheduled_at": when}
    )
    assert (sent["status"], sent["units"]) == ("awaiting_provider_review", 6)
    assert parse_at(sent["goes_out_at"]) == parse_at(when)
    assert units(api, account) == (994, 6)

    advance(api, 3600)
    assert replies_ok(api, [reply(P[1], "退订", now(api), account)])["opted_out"] == 1
    assert get_send(api, sent["send_id"])["units_locked"] == 6  # still waiting, still locked
    advance(api, 3600)
    shown = get_send(api, sent["send_id"])
    assert shown["status"] in ("submitting", "submitted", "completed")
    assert (shown["units_locked"], shown["units_charged"], shown["units_refunded"]) == (0, 4, 0)
    assert shown["counts"]["failed"] == 1
    skipped = get_message(api, f"{sent['send_id']}.1")
    assert (skipped["phone"], skipped["status"], skipped["reason"]) == (P[1], "failed", "opted_out")
    assert skipped["units"] == 0 and skipped["carrier_message_id"] is None
    assert api.container.carrier.text_of(f"{sent['send_id']}.1") is None
    assert P[1] not in set(handed(carrier).values())
    assert units(api, account) == (996, 0)
    assert quota_moves(api, account) == [
        ("purchase", 1000),
        ("lock", 6),
        ("charge", 4),
        ("release", 2),
    ]
    advance(api, 10)
    shown = delivered(api, sent["send_id"], 2)
    assert (shown["counts"]["success"], shown["counts"]["failed"]) == (2, 1)
    assert shown["units_charged"] - shown["units_refunded"] == 4
    assert units(api, account) == (996, 0)
    figures_now = dashboard(api, account)
    assert figures_now["by_status"]["failed"] == 1


def test_opt_out_during_the_provider_review_skips_the_number_when_the_send_goes_out(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = spy_on_carrier(api, monkeypatch)
    account, key = funded_account(api)
    template = mass_template(api, account, key, kind="marketing")
    sent = marketing_to(api, account, key, template, P[:2])
    lonely = marketing_to(api, account, key, template, [P[2]])
    assert units(api, account) == (997, 3)
    advance(api, 600)
    outcome = replies_ok(
        api, [reply(P[0], "T", now(api), account), reply(P[2], "T", now(api), account)]
    )
    assert outcome["opted_out"] == 2
    go_out(api)
    shown = delivered(api, sent["send_id"], 1)
    assert (shown["units_charged"], shown["counts"]["success"], shown["counts"]["failed"]) == (
        1,
        1,
        1,
    )
    assert get_message(api, f"{sent['send_id']}.0")["reason"] == "opted_out"
    # its only number opted out: nothing goes, the whole lock comes back
    alone = get_send(api, lonely["send_id"])
    assert (alone["units_charged"], alone["units_locked"], alone["counts"]["failed"]) == (0, 0, 1)
    assert set(handed(carrier).values()) == {P[1]}
    assert units(api, account) == (999, 0)
    assert sorted(quota_moves(api, account)) == sorted(
        [
            ("purchase", 1000),
            ("lock", 2),
            ("lock", 1),
            ("charge", 1),
            ("release", 1),
            ("release", 1),
        ]
    )


# -- opt-out: the list -----------------------------------------------------------------------


def test_opt_out_the_list_newest_first_and_a_removed_number_gets_marketing_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = spy_on_carrier(api, monkeypatch)
    account, key = funded_account(api)
    _, other_key = funded_account(api, phone="13800138001")
    replies_ok(api, [reply(P[0], "R", now(api), account)])
    first_at = now(api)
    advance(api, 60)
    replies_ok(api, [reply(P[1], " td ", now(api), account)])
    listed = opt_outs(api, account, key)
    assert [(o["phone"], o["source"], o["text"]) for o in listed] == [
        (P[1], "reply", "td"),
        (P[0], "reply", "R"),
    ]
    assert parse_at(listed[1]["at"]) == first_at
    assert parse_at(listed[0]["at"]) == first_at + timedelta(seconds=60)

    r = api.client.get(f"/v1/accounts/{account}/opt-outs", headers=auth(other_key))
    assert_problem(r, 404, "not_found")
    assert_problem(delete_opt_out(api, account, P[0], other_key), 404, "not_found")
    assert len(opt_outs(api, account)) == 2

    r = delete_opt_out(api, account, P[0], key)
    assert r.status_code == 204, r.text
    assert opted_out_phones(api, account) == [P[1]]
    assert_problem(delete_opt_out(api, account, P[0], key), 404, "not_found")
    assert_problem(delete_opt_out(api, account, P[2], key), 404, "not_found")  # never on it
    r = delete_opt_out(api, account, "12345", key)
    assert r.status_code == 422, r.text

    template = mass_template(api, account, key, kind="marketing")
    sent = marketing_to(api, account, key, template, P[:2])
    assert (sent["accepted"], [x["input"] for x in sent["rejected"]]) == (1, [P[1]])
    go_out(api)
    assert phones_of(api, sent["send_id"]) == [P[0]]
    assert list(handed(carrier).values()) == [P[0]]

    # the operator may take a number off too; a new reply puts it back on
    r = delete_opt_out(api, account, f"+86{P[1]}", OPERATOR_TOKEN)
    assert r.status_code == 204, r.text
    assert opt_outs(api, account) == []
    again = replies_ok(api, [reply(P[1], "R", now(api), account)])
    assert (again["opted_out"], again["already"]) == (1, 0)
    assert opted_out_phones(api, account) == [P[1]]


# -- rebuilding the read models --------------------------------------------------------------


def _read_everything(api: Api, accounts: list[str]) -> dict[str, Any]:
    api.settle()
    seen: dict[str, Any] = {}
    for account in accounts:
        seen[f"{account}/customers"] = customers(api, account, limit=500)
        for condition in ("game_player", "site_member", "miniapp_booking"):
            seen[f"{account}/customers/{condition}"] = customers(api, account, condition=condition)
        seen[f"{account}/opt-outs"] = opt_outs(api, account)
        sends = list_sends(api, account, limit=500)
        seen[f"{account}/sends"] = sends
        for send in sends:
            seen[f"send/{send['send_id']}"] = get_send(api, send["send_id"])
            seen[f"send/{send['send_id']}/messages"] = all_messages(api, send["send_id"])
        seen[f"{account}/balance"] = balance(api, account)
        seen[f"{account}/ledger"] = ledger(api, account)
        seen[f"{account}/dashboard"] = dashboard(api, account)
    return seen


def test_S4_opt_out_rebuilt_read_models_answer_the_same(api: Api) -> None:
    account, key = funded_account(api)
    other, other_key = funded_account(api, phone="13800138001")
    marketing = mass_template(api, account, key, EDGE_CONTENT, kind="marketing")
    for n, condition in enumerate(("site_member", "game_player", "miniapp_booking") * 3):
        synced(api, account, key, condition, P[n], "miniapp" if n % 2 else "site")
        advance(api, 1)
    sync(api, account, key, "site_member", P[0], "site", "王女士")  # renamed
    synced(api, other, other_key, "site_member", P[0])
    replies_ok(api, [reply(P[3], "R", now(api), account), reply(P[4], "TD", now(api), account)])
    marketing_to(api, account, key, marketing, P[3:8])  # P[3], P[4] skipped at acceptance
    scheduled = send_ok(
        api,
        account,
        key,
        {
            "template_id": marketing,
            "audience": {"conditions": ["site_member", "game_player"]},
            "scheduled_at": (now(api) + timedelta(hours=1)).isoformat(),
        },
    )
    advance(api, 600)
    replies_ok(api, [reply(P[5], "退订", now(api), account), reply(P[6], "T", now(api), account)])
    assert delete_opt_out(api, account, P[4], key).status_code == 204
    go_out(api)
    advance(api, 3600)
    advance(api, 10)
    notice = mass_template(api, other, other_key)
    send_ok(api, other, other_key, {"template_id": notice, "recipients": P[3:6]})
    advance(api, 10)
    assert delivered(api, scheduled["send_id"], 3)["counts"]["failed"] == 1  # P[6] skipped
    for send in [*list_sends(api, account), *list_sends(api, other)]:
        assert delivered(api, send["send_id"], send["total"] - send["counts"]["failed"])

    before = _read_everything(api, [account, other])
    api.container.read_models.rebuild()
    after = _read_everything(api, [account, other])
    assert after.keys() == before.keys()
    for name, value in before.items():
        assert after[name] == value, name


def test_S4_an_unknown_account_has_no_customers_and_no_opt_outs(api: Api) -> None:
    r = sync(api, str(uuid4()), OPERATOR_TOKEN, "site_member", P[0])
    assert r.status_code == 404, r.text
    r = api.client.get(f"/v1/accounts/{uuid4()}/opt-outs", headers=auth())
    assert r.status_code == 404, r.text
