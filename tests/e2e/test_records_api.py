"""An account's per-message records and statistics through the HTTP API (S10, Q7, Q8): keyset
pages that lose and double nothing, filters, the CSV and xlsx files, refusals, and statistics
that agree with the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from smsplat.projections import message_daily
from smsplat.projections.message_statistics import MessageStatistics
from smsplat.projections.send_queries import STATUSES, SendQueries

from tests.e2e.helpers import BEIJING, assert_problem, auth
from tests.e2e.sending_helpers import (
    FAILS,
    LONG_CONTENT,
    ORDINARY,
    REFUSED,
    SILENT,
    advance,
    business_template,
    dashboard,
    funded_account,
    hand_over,
    mass_template,
    post_message,
    send_ok,
)
from tests.support import OPERATOR_TOKEN, Api

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = [
    "message_id", "send_id", "template_id", "phone", "status", "reason", "units", "product",
    "carrier_message_id", "created_at", "submitted_at", "final_at",
]  # fmt: skip
TIMES = ("created_at", "submitted_at", "final_at")


def records(
    api: Api, account_id: str, token: str = OPERATOR_TOKEN, accept: str | None = None, **params: Any
) -> httpx.Response:
    headers = {**auth(token), **({"Accept": accept} if accept else {})}
    r: httpx.Response = api.client.get(
        f"/v1/accounts/{account_id}/messages", params=params, headers=headers
    )
    return r


def walk(api: Api, account_id: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every record through the JSON pages; (records, pages)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for pages in range(1, 1000):
        query = dict(params) if cursor is None else {**params, "cursor": cursor}
        r = records(api, account_id, **query)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
    raise AssertionError("the pages never end")


def statistics(api: Api, account_id: str, **params: Any) -> dict[str, Any]:
    r = api.client.get(f"/v1/accounts/{account_id}/statistics", params=params, headers=auth())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def two_days_of_sends(api: Api) -> tuple[str, str, str, str, str]:
    """A 7-recipient mass send (product site) on 2026-03-02 and a 3-recipient one (no
    product) on 2026-03-03, both with their receipts in and the first's silent number
    unknown (Q8); (account_id, key, first send, second send, template)."""
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, LONG_CONTENT)  # 2 units a message
    numbers = [*ORDINARY, FAILS, SILENT, REFUSED]
    first = send_ok(
        api, account_id, key, {"template_id": template_id, "product": "site", "recipients": numbers}
    )
    hand_over(api)
    advance(api, 15 * 3600)  # 2026-03-03 00:00 Beijing
    second = send_ok(api, account_id, key,
                     {"template_id": template_id, "recipients": ORDINARY[:3]})  # fmt: skip
    hand_over(api)
    advance(api, 72 * 3600)  # every receipt in; the silent one unknown
    api.settle()
    return account_id, key, first["send_id"], second["send_id"], template_id


def test_S10_records_page_through_every_message_once_and_filter(any_api: Api) -> None:
    """Pages of 2 walk all 10 messages once each, in acceptance then recipient order; the
    filters (time, status, send, phone normalised) narrow them; the account's key reads its
    own records."""
    api = any_api
    account_id, key, first, second, template_id = two_days_of_sends(api)
    items, pages = walk(api, account_id, limit=2)
    assert pages == 5
    ids = [m["message_id"] for m in items]
    assert ids == [f"{first}.{i}" for i in range(7)] + [f"{second}.{i}" for i in range(3)]
    assert all(m["template_id"] == template_id for m in items)
    by_phone = {m["phone"]: m for m in items[:7]}
    assert (by_phone[FAILS]["status"], by_phone[FAILS]["reason"]) == ("failed", "delivery_failed")
    refused, silent = by_phone[REFUSED], by_phone[SILENT]
    assert (refused["status"], refused["reason"]) == ("failed", "carrier_refused")
    assert (silent["status"], silent["reason"]) == ("unknown", "no_receipt_in_72h")
    assert all(m["units"] == 2 for m in items)
    assert [m["product"] for m in items] == ["site"] * 7 + [None] * 3
    created = [datetime.fromisoformat(m["created_at"]) for m in items]
    assert all(c.utcoffset() == BEIJING.utcoffset(c) for c in created)  # Beijing time
    assert created == sorted(created)

    own, _ = walk(api, account_id, limit=3)
    assert own == items
    by_key = records(api, account_id, key, limit=1000)
    assert by_key.status_code == 200 and by_key.json()["items"] == items

    def filtered(**params: Any) -> list[str]:
        found, _ = walk(api, account_id, limit=2, **params)
        return [m["message_id"] for m in found]

    assert filtered(status="failed") == [by_phone[FAILS]["message_id"],
                                         by_phone[REFUSED]["message_id"]]  # fmt: skip
    assert filtered(send_id=second) == [f"{second}.{i}" for i in range(3)]
    assert filtered(phone=f"+86 {ORDINARY[0]}") == [f"{first}.0", f"{second}.0"]
    assert filtered(phone=f"86{ORDINARY[1]}", status="success") == [f"{first}.1", f"{second}.1"]
    assert filtered(**{"from": "2026-03-03T00:00:00"}) == [f"{second}.{i}" for i in range(3)]
    assert filtered(to="2026-03-03T00:00:00+08:00") == [f"{first}.{i}" for i in range(7)]
    assert filtered(**{"from": "2026-03-02T01:00:00Z", "to": "2026-03-02T01:00:00Z"}) == []


def test_S10_records_as_csv_and_xlsx_are_the_whole_filtered_result(api: Api) -> None:
    """The files hold every filtered message (not one page), the JSON's fields and times in
    Beijing time, as an attachment."""
    account_id, _, first, _, _ = two_days_of_sends(api)
    items, _ = walk(api, account_id, limit=1000)

    r = records(api, account_id, accept=CSV, limit=1)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (f'attachment; filename="messages-{account_id}.csv"')
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == COLUMNS
    assert rows[1:] == [[_text(m[c]) for c in COLUMNS] for m in items]

    failed = records(api, account_id, accept=f"{CSV};q=0.9, application/json", status="failed")
    assert [row[0] for row in list(csv.reader(io.StringIO(failed.text)))[1:]] == [
        m["message_id"] for m in items if m["status"] == "failed"
    ]

    json_first = records(api, account_id, accept=f"application/json, {CSV}", limit=1)
    assert json_first.headers["content-type"] == "application/json"
    assert len(json_first.json()["items"]) == 1

    x = records(api, account_id, accept=XLSX, send_id=first)
    assert x.status_code == 200, x.text
    assert x.headers["content-type"] == XLSX
    assert x.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(x.content), read_only=True)["messages"]
    got = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert got[0] == COLUMNS
    expected = [m for m in items if m["send_id"] == first]
    assert len(got) == 1 + len(expected)
    for row, m in zip(got[1:], expected, strict=True):
        for column, value in zip(COLUMNS, row, strict=True):
            assert _same_cell(column, value, m[column]), (column, value, m[column])

    empty = records(api, account_id, accept=CSV, status="pending")
    assert list(csv.reader(io.StringIO(empty.text))) == [COLUMNS]
    nothing = records(api, account_id, accept=XLSX, status="pending")
    assert [list(r) for r in load_workbook(io.BytesIO(nothing.content))["messages"].values] == [
        COLUMNS
    ]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _same_cell(column: str, cell: Any, value: Any) -> bool:
    """Whether the xlsx holds the JSON's value: times as Beijing wall-clock time (Excel has no
    time zones, and keeps times to the millisecond)."""
    if column in TIMES and value is not None:
        at = datetime.fromisoformat(value).astimezone(BEIJING).replace(tzinfo=None)
        return isinstance(cell, datetime) and abs(cell - at) <= timedelta(milliseconds=1)
    return bool(cell == value)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "delivered"}, "status"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMiwzXQ"}, "cursor"),  # base64 JSON, not a position
        ({"phone": "12345"}, "phone"),
        ({"phone": "+85261234567"}, "phone"),
        ({"from": "yesterday"}, "from"),
        ({"to": "0001-01-01T00:00:00"}, "to"),
    ],
)
def test_records_refuse_bad_filters_and_cursors(
    api: Api, params: dict[str, str], field: str
) -> None:
    account_id, _ = funded_account(api)
    for accept in (None, CSV):
        body = assert_problem(records(api, account_id, accept=accept, **params), 422,
                              "validation_error")  # fmt: skip
        assert [e["field"] for e in body["errors"]] == [field], body


def test_records_and_statistics_of_another_account_are_not_found(api: Api) -> None:
    account_id, _ = funded_account(api)
    _, other_key = funded_account(api, phone="13800138001")
    for path in ("messages", "statistics"):
        r = api.client.get(f"/v1/accounts/{account_id}/{path}", headers=auth(other_key))
        assert_problem(r, 404, "not_found")  # as if it did not exist
        r = api.client.get(f"/v1/accounts/{account_id}/{path}", headers={"Accept": CSV})
        assert_problem(r, 401, "unauthorized")
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(records(api, missing), 404, "not_found")


def test_S10_Q7_Q8_statistics_by_day_template_and_product_agree_with_the_dashboard(
    any_api: Api,
) -> None:
    """Day 1: a mass send (site) of 7: 4 delivered, 2 failed (refused, failed receipt), 1
    unknown after 72 h; day 2: a business message (mall) that fails and 3 more of the mass
    template (no product), delivered. Units: 2 a mass message, 1 the business one."""
    api = any_api
    account_id, key = funded_account(api)
    r = api.client.post(
        f"/v1/accounts/{account_id}/products", json={"product": "mall"}, headers=auth(key)
    )
    assert r.status_code == 200, r.text
    mass_id = mass_template(api, account_id, key, LONG_CONTENT)
    business_id = business_template(api, account_id, key)
    send_ok(api, account_id, key, {"template_id": mass_id, "product": "site",
                                   "recipients": [*ORDINARY, FAILS, SILENT, REFUSED]})  # fmt: skip
    hand_over(api)
    advance(api, 15 * 3600)  # 2026-03-03 00:00 Beijing
    code = {"template_id": business_id, "phone": FAILS, "variables": {"code": "1"},
            "product": "mall"}  # fmt: skip
    r = post_message(api, account_id, key, code)
    assert r.status_code == 202, r.text
    send_ok(api, account_id, key, {"template_id": mass_id, "recipients": ORDINARY[:3]})
    hand_over(api)
    advance(api, 10)  # receipts in; the silent one still sending
    api.settle()

    assert_whole_days_agree(api, account_id)
    early = statistics(api, account_id)
    assert early["totals"]["sending"] == 1 and early["totals"]["unknown"] == 0
    assert early["totals"]["success_rate"] == pytest.approx(7 / 10)  # sending is left out

    advance(api, 72 * 3600)  # Q8: unknown, still charged
    api.settle()
    by_day = statistics(api, account_id, group_by="day")
    assert by_day["group_by"] == "day"
    assert [_row(g) for g in by_day["groups"]] == [
        ("2026-03-02", 7, 4, 2, 1, 14, 4, 0.5714),
        ("2026-03-03", 4, 3, 1, 0, 7, 1, 0.75),
    ]
    totals = by_day["totals"]
    assert _row({"key": "all", **totals}) == ("all", 11, 7, 3, 1, 21, 5, 0.6364)
    assert (totals["pending"], totals["sending"]) == (0, 0)

    board = dashboard(api, account_id)
    assert {s: totals[s] for s in board["by_status"]} == board["by_status"]
    assert (totals["units_charged"], totals["units_refunded"]) == (
        board["units_charged"], board["units_refunded"])  # fmt: skip
    assert totals["success_rate"] == board["success_rate"]

    by_product = statistics(api, account_id, group_by="product")
    assert [_row(g) for g in by_product["groups"]] == [
        ("mall", 1, 0, 1, 0, 1, 1, 0.0),
        ("none", 3, 3, 0, 0, 6, 0, 1.0),
        ("site", 7, 4, 2, 1, 14, 4, 0.5714),
    ]
    by_template = statistics(api, account_id, group_by="template")
    assert sorted(_row(g) for g in by_template["groups"]) == sorted(
        [(business_id, 1, 0, 1, 0, 1, 1, 0.0), (mass_id, 10, 7, 2, 1, 20, 4, 0.7)]
    )
    assert by_template["totals"] == totals

    second_day = statistics(api, account_id, **{"from": "2026-03-03T00:00:00"})
    assert second_day["from"] == "2026-03-03T00:00:00+08:00"
    assert [g["key"] for g in second_day["groups"]] == ["2026-03-03"]
    none = statistics(api, account_id, to="2026-03-01T00:00:00+08:00")
    assert none["groups"] == []
    assert none["totals"]["sent"] == 0 and none["totals"]["success_rate"] is None

    body = assert_problem(
        api.client.get(f"/v1/accounts/{account_id}/statistics", params={"group_by": "week"},
                       headers=auth()),
        422, "validation_error",
    )  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["group_by"]
    assert_whole_days_agree(api, account_id)

    later = (api.container.clock.now() + timedelta(hours=2)).isoformat()
    waiting = send_ok(api, account_id, key, {"template_id": mass_id, "recipients": ORDINARY[:2],
                                             "scheduled_at": later})  # fmt: skip
    api.settle()
    assert_whole_days_agree(api, account_id)  # the waiting send: pending, units locked (0)
    r = api.client.post(f"/v1/sends/{waiting['send_id']}/cancel", headers=auth(key))
    assert r.status_code == 200, r.text
    api.settle()
    assert_whole_days_agree(api, account_id)  # cancelled: its day's row back to zeros
    assert_a_new_daily_table_is_made_from_the_sends(api)


def assert_a_new_daily_table_is_made_from_the_sends(api: Api) -> None:
    """A database of a version before ``message_daily``: the table is made from ``sends``."""
    everything = "SELECT * FROM message_daily ORDER BY account_id, day, template_id, product"
    with api.container.db.transaction() as tx:
        kept = tx.execute(everything)
        message_daily.drop_table(tx)
        message_daily.create_table(tx)
        assert tx.execute(everything) == kept and kept


def assert_whole_days_agree(api: Api, account_id: str) -> None:
    """The daily table's figures (``message_daily``) equal those counted from the messages,
    over every grouping, for the days the scenario spans and for one of them."""
    figures = MessageStatistics(api.container.db)
    for group_by in ("day", "template", "product"):
        counted = figures.counted(account_id, group_by, None, None)
        assert figures.daily(account_id, group_by, date(2026, 3, 1), date(2026, 12, 31)) == counted
        one_day = figures.counted(account_id, group_by, datetime(2026, 3, 3, tzinfo=BEIJING),
                             datetime(2026, 3, 4, tzinfo=BEIJING))  # fmt: skip
        assert figures.daily(account_id, group_by, date(2026, 3, 3), date(2026, 3, 3)) == one_day
    # the dashboard reads the daily table too: the same days, products and totals
    board = SendQueries(api.container.db).dashboard(account_id)
    days = figures.counted(account_id, "day", None, None)
    assert [(d["day"], {s: d[s] for s in STATUSES}) for d in board.by_day] == [
        (key, f.counts) for key, f in days.groups
    ]
    products = figures.counted(account_id, "product", None, None)
    assert [{s: p[s] for s in STATUSES} for p in board.by_product] == [
        f.counts for _, f in products.groups
    ]
    assert board.by_status == days.totals.counts
    assert (board.units_charged, board.units_refunded) == (
        days.totals.units_charged, days.totals.units_refunded
    )  # fmt: skip


def _row(g: dict[str, Any]) -> tuple[Any, ...]:
    return (g["key"], g["sent"], g["success"], g["failed"], g["unknown"], g["units_charged"],
            g["units_refunded"], g["success_rate"])  # fmt: skip
