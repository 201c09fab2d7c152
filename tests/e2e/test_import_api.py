"""S3: numbers imported from an Excel file, through the HTTP API on the simulated clock.

Real workbooks are written here with openpyxl; the broken ones (CSV, legacy .xls, an encrypted
workbook, a truncated zip, zip bombs, oversized uploads) are built by hand. Every refusal is
checked for its status, ``code`` and ``reason``, and for storing nothing: no unit moves, no
ledger entry, no send. The clock starts on Monday 2026-03-02 at 09:00 Beijing time.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from uuid import uuid4

import httpx
import openpyxl
import pytest

from tests.e2e.helpers import assert_problem, auth, balance, figures, ledger
from tests.e2e.sending_helpers import (
    ORDINARY,
    advance,
    all_messages,
    business_template,
    funded_account,
    get_send,
    list_sends,
    mass_template,
    unit_moves,
)
from tests.e2e.template_helpers import delete, mass, reject, submit
from tests.support import CARRIER_TOKEN, Api
from tests.xlsx_files import SHEET, rezip, sheet_xml

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_PATH = "/v1/recipients-template.xlsx"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MIB = 1024 * 1024
BOUNDARY = "smsplat-import-test-boundary"  # a fixed multipart boundary: the same bytes twice

Rows = Sequence[Sequence[object]]


# -- building files -----------------------------------------------------------------------


def workbook_bytes(rows: Rows, *, at: dict[int, Sequence[object]] | None = None) -> bytes:
    """A real .xlsx written by openpyxl: ``rows`` appended from row 1 (None leaves a cell
    empty, ``[]`` an empty row), then ``at`` written to the given row numbers, leaving any
    row in between absent from the sheet altogether."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    for row_number, values in (at or {}).items():
        for column, value in enumerate(values, 1):
            if value is not None:
                sheet.cell(row=row_number, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def distinct_numbers(count: int, prefix: str = "139") -> list[str]:
    """``count`` distinct mainland mobiles the simulated carrier delivers (none ends in
    0001, 0002 or 0003, which it fails, never answers or refuses)."""
    numbers = (f"{prefix}{i:08d}" for i in range(count * 2) if i % 10_000 > 3)
    return [n for _, n in zip(range(count), numbers, strict=False)]


def phone_file(numbers: Iterable[object], header: str = "手机号码") -> bytes:
    return workbook_bytes([[header, "姓名"], *([n, "客户"] for n in numbers)])


def random_bytes(size: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(size)


def csv_file() -> bytes:
    return "手机号码,姓名\n13812340005,张三\n13812340006,李四\n".encode()


def legacy_xls() -> bytes:
    """An OLE compound file (what Excel 97–2003 saves) holding a plain Workbook stream."""
    return OLE_MAGIC + b"\0" * 504 + "Workbook".encode("utf-16-le") + random_bytes(4000)


def password_protected() -> bytes:
    """What Excel saves for a workbook with an opening password: an OLE file with the
    EncryptionInfo and EncryptedPackage streams instead of a zip."""
    return (
        OLE_MAGIC
        + b"\0" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\0" * 50
        + "EncryptedPackage".encode("utf-16-le")
        + random_bytes(4000)
    )


def not_a_workbook_zip() -> bytes:
    """A zip that is not a workbook (a .docx, say): no [Content_Types].xml nor xl/workbook.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def truncated() -> bytes:
    data = phone_file(ORDINARY)
    return data[: len(data) * 2 // 3]  # the central directory is gone


def zip_bomb(zeros: int) -> bytes:
    """A real workbook whose sheet member is ``zeros`` bytes of zeros, deflated to a few KB."""
    bomb: bytes = rezip(phone_file(ORDINARY[:1]), replace={SHEET: b"\0" * zeros})
    return bomb


def padded_workbook(total: int) -> bytes:
    """A readable workbook of about ``total`` bytes: an incompressible member is stored in it."""
    data = phone_file(ORDINARY[:2])
    padded: bytes = rezip(
        data,
        add={"xl/media/image1.bin": random_bytes(total - len(data))},
        compression=zipfile.ZIP_STORED,
    )
    return padded


def zip_magic_noise(size: int) -> bytes:
    return b"PK\x03\x04" + random_bytes(size - 4)


# -- the HTTP calls -----------------------------------------------------------------------


def post_import(
    api: Api,
    account_id: str,
    token: str,
    data: bytes | None,
    fields: dict[str, str],
    *,
    filename: str = "r.xlsx",
    content_type: str = XLSX_TYPE,
    idempotency_key: str | None = None,
    boundary: str | None = None,
) -> httpx.Response:
    """``POST …/sends/import`` as a browser or curl -F sends it: multipart, the file and the
    fields as form data. ``data=None`` leaves the ``file`` part out. With ``boundary`` the
    multipart body is the same bytes on every call (httpx otherwise picks a random one)."""
    headers = auth(token)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    if boundary is not None:
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    # without the file, another part keeps the request multipart (as a form without it is)
    part = "file" if data is not None else "attachment"
    files = {part: (filename, data if data is not None else b"x", content_type)}
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account_id}/sends/import", files=files, data=fields, headers=headers
    )
    return r


def import_ok(
    api: Api, account_id: str, token: str, data: bytes, fields: dict[str, str]
) -> dict[str, Any]:
    """An import that must be accepted (202); its response body."""
    r = post_import(api, account_id, token, data, fields)
    assert r.status_code == 202, r.text
    body: dict[str, Any] = r.json()
    return body


def plan_ok(
    api: Api, account_id: str, token: str, data: bytes, fields: dict[str, str]
) -> dict[str, Any]:
    """A dry-run import: 200 with the plan."""
    r = post_import(api, account_id, token, data, {**fields, "dry_run": "true"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def outcome(body: dict[str, Any]) -> tuple[int, int, int, list[Any]]:
    """(accepted, units, duplicates, rejected) of a send or a plan."""
    return body["accepted"], body["units"], body["duplicates"], body["rejected"]


def rejected_rows(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(item["position"], item["code"]) for item in body["rejected"]]


def phones_sent(api: Api, send_id: str) -> list[str]:
    """The numbers of a send's messages, in recipient order (read models caught up first)."""
    api.settle()
    return [m["phone"] for m in all_messages(api, send_id, limit=1000)]


def stored_nothing(api: Api, account_id: str, before: Any) -> None:
    """No unit moved, no ledger entry, no send (the read models caught up first)."""
    assert unit_moves(api, account_id) == before
    assert list_sends(api, account_id) == []


def setup(api: Api, size: int = 1000) -> tuple[str, str, str]:
    """A funded account with an approved mass notice (no placeholder, 1 unit a message)."""
    account_id, key = funded_account(api, size=size)
    return account_id, key, mass_template(api, account_id, key)


# -- 1. the template ----------------------------------------------------------------------


def test_S3_the_template_downloads_as_an_xlsx_attachment_for_any_authenticated_caller(
    api: Api,
) -> None:
    _, key = funded_account(api)
    r = api.client.get(TEMPLATE_PATH, headers=auth(key))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0].strip() == XLSX_TYPE
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment"), disposition
    assert ".xlsx" in disposition
    workbook = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value == "手机号码"
    assert sheet.max_row == 1  # no example row among the numbers: it would be a message sent
    assert sheet.column_dimensions["A"].number_format == "@"  # typed digits stay text in Excel
    assert api.client.get(TEMPLATE_PATH, headers=auth()).content == r.content  # the operator

    assert_problem(api.client.get(TEMPLATE_PATH), 401, "unauthorized")
    assert_problem(api.client.get(TEMPLATE_PATH, headers=auth("smsk_nope")), 401, "unauthorized")


def test_S3_the_downloaded_template_filled_in_with_openpyxl_is_imported(api: Api) -> None:
    account_id, key, template_id = setup(api)
    downloaded = api.client.get(TEMPLATE_PATH, headers=auth(key))
    assert downloaded.status_code == 200, downloaded.text
    workbook = openpyxl.load_workbook(io.BytesIO(downloaded.content))
    sheet = workbook.worksheets[0]
    for row, number in enumerate(ORDINARY[:3], 2):
        sheet.cell(row=row, column=1, value=number)
        sheet.cell(row=row, column=2, value=f"客户{row}")
    sheet.cell(row=5, column=1, value=13812340008)  # typed as a number: read as its digits
    buffer = io.BytesIO()
    workbook.save(buffer)

    body = import_ok(api, account_id, key, buffer.getvalue(), {"template_id": template_id})
    assert body["status"] in ("submitting", "submitted")
    assert outcome(body) == (4, 4, 0, [])
    api.settle()
    assert figures(balance(api, account_id)) == (996, 0, 1000, 4, 0)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "charge"]
    assert phones_sent(api, body["send_id"]) == ORDINARY[:4]
    advance(api, 10)
    send = get_send(api, body["send_id"], key)
    assert (send["total"], send["counts"]["success"], send["units_charged"]) == (4, 4, 4)


# -- 2. 10,000 rows -----------------------------------------------------------------------


def test_S3_S2_S5_a_10000_row_file_is_accepted_charged_whole_and_all_handed_over(
    api: Api,
) -> None:
    account_id, key, template_id = setup(api, size=10000)
    numbers = distinct_numbers(10_000)
    # half typed as text, half as numbers (what Excel does with digits in a General cell)
    cells: list[object] = [n if i % 2 else int(n) for i, n in enumerate(numbers)]
    data = phone_file(cells)
    assert len(data) < 2 * MIB

    body = import_ok(api, account_id, key, data, {"template_id": template_id, "product": "site"})
    assert outcome(body) == (10000, 10000, 0, [])
    api.settle()
    assert figures(balance(api, account_id)) == (0, 0, 10000, 10000, 0)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "charge"]

    advance(api, 30)
    send = get_send(api, body["send_id"], key)
    assert send["total"] == 10000
    counts = send["counts"]
    assert counts["pending"] == 0, counts
    assert counts["sending"] + counts["success"] == 10000, counts
    assert (counts["failed"], counts["unknown"]) == (0, 0), counts
    assert phones_sent(api, body["send_id"]) == numbers  # every row, in row order


# -- 3. rows refused, duplicates, blank rows ----------------------------------------------


def test_S3_rows_that_are_not_mainland_mobiles_come_back_with_their_excel_row_number(
    api: Api,
) -> None:
    account_id, key, template_id = setup(api)
    data = workbook_bytes(
        [
            ["手机号码", "姓名"],  # row 1
            [ORDINARY[0], "a"],  # 2
            ["12345", "b"],  # 3: invalid_phone
            ["+852 9123 4567", "c"],  # 4: Hong Kong
            [datetime(2026, 3, 2, 10, 30), "d"],  # 5: a date cell
            [None, "e: no number"],  # 6: blank phone cell, skipped
            [],  # 7: an empty row, skipped
            [int(ORDINARY[1]), "f"],  # 8: a number cell
            [f"+86 {ORDINARY[0][:3]} {ORDINARY[0][3:7]} {ORDINARY[0][7:]}", "g"],  # 9: dup of 2
            [float(ORDINARY[2]), "h"],  # 10: a number, stored below as Excel does: 1.38E10
            ["   ", "i"],  # 11: spaces only, skipped
        ],
        at={
            14: [f" {ORDINARY[3]} ", "j"],  # rows 12 and 13 are not in the sheet at all
            15: [date(2026, 3, 3), "k"],
            16: ["１３８１２３４０００５", "l"],  # full-width digits (an IME): dup of 2
            17: [ORDINARY[2], "m"],  # dup of 10
        },
    )
    written = f"<v>{ORDINARY[2]}</v>"
    assert sheet_xml(data).count(written) == 1
    exponent = f"<v>{ORDINARY[2][0]}.{ORDINARY[2][1:]}E10</v>"  # read back as a float
    data = rezip(data, replace={SHEET: sheet_xml(data).replace(written, exponent).encode()})
    expected_rejected = [
        (3, "invalid_phone"),
        (4, "not_mainland_mobile"),
        (5, "invalid_phone"),
        (15, "invalid_phone"),
    ]

    plan = plan_ok(api, account_id, key, data, {"template_id": template_id})
    assert rejected_rows(plan) == expected_rejected
    assert (plan["accepted"], plan["units"], plan["duplicates"]) == (4, 4, 3)
    inputs = {item["position"]: item["input"] for item in plan["rejected"]}
    assert inputs[3] == "12345" and inputs[4] == "+852 9123 4567"
    assert "2026-03-02" in inputs[5] and "2026-03-03" in inputs[15]
    assert all(item["reason"] for item in plan["rejected"])

    body = import_ok(api, account_id, key, data, {"template_id": template_id})
    assert rejected_rows(body) == expected_rejected
    assert (body["accepted"], body["units"], body["duplicates"]) == (4, 4, 3)
    assert phones_sent(api, body["send_id"]) == ORDINARY[:4]
    api.settle()
    assert figures(balance(api, account_id))[:4] == (996, 0, 1000, 4)


def test_S3_the_header_may_be_lower_and_in_another_column_with_another_accepted_name(
    api: Api,
) -> None:
    account_id, key, template_id = setup(api)
    data = workbook_bytes(
        [],
        at={
            3: ["姓名", "备注", "Phone"],  # rows 1 and 2 are empty: the header is row 3
            4: ["a", "x", ORDINARY[0]],
            5: ["b", ORDINARY[3], None],  # a number in another column is not read
            6: ["c", None, "not a number"],
            7: ["d", None, int(ORDINARY[1])],
        },
    )
    plan = plan_ok(api, account_id, key, data, {"template_id": template_id})
    assert (plan["accepted"], plan["duplicates"]) == (2, 0)
    assert rejected_rows(plan) == [(6, "invalid_phone")]
    for header in ("手机号", "mobile", "*手机号码（必填）"):
        data = workbook_bytes([["姓名", header], ["a", ORDINARY[0]]])
        assert plan_ok(api, account_id, key, data, {"template_id": template_id})["accepted"] == 1


def test_S3_the_first_sheet_is_read_even_when_another_is_active(api: Api) -> None:
    """The downloaded template has a second sheet (说明); saved with it showing, the numbers
    are still read from the first."""
    account_id, key, template_id = setup(api)
    workbook = openpyxl.Workbook()
    workbook.active.append(["手机号码"])
    workbook.active.append([ORDINARY[0]])
    notes = workbook.create_sheet("说明")
    notes.append(["手机号码"])
    notes.append([ORDINARY[1]])
    notes.append([ORDINARY[2]])
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = import_ok(api, account_id, key, buffer.getvalue(), {"template_id": template_id})
    assert body["accepted"] == 1
    assert phones_sent(api, body["send_id"]) == ORDINARY[:1]


def test_S3_an_opted_out_number_is_rejected_with_its_row_in_a_marketing_import(
    api: Api,
) -> None:
    account_id, key = funded_account(api)
    marketing = mass_template(api, account_id, key, kind="marketing")
    r = api.client.post(
        "/v1/carrier/replies",
        json={
            "replies": [
                {
                    "phone": ORDINARY[1],
                    "text": "TD",
                    "at": "2026-03-02T09:00:00+08:00",
                    "account_id": account_id,
                }
            ]
        },
        headers=auth(CARRIER_TOKEN),
    )
    assert r.status_code == 200 and r.json()["opted_out"] == 1, r.text
    data = workbook_bytes([["手机号码"], [ORDINARY[0]], ["x"], [ORDINARY[1]], [ORDINARY[2]]])
    plan = plan_ok(api, account_id, key, data, {"template_id": marketing})
    assert rejected_rows(plan) == [(3, "invalid_phone"), (4, "opted_out")]
    assert (plan["accepted"], plan["units"]) == (2, 2)


# -- 4. the dry run -----------------------------------------------------------------------


def test_S3_a_dry_run_returns_the_plan_and_stores_nothing(api: Api) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, "尊敬的#name#,春季新品已到店,欢迎选购。")
    before = unit_moves(api, account_id)
    data = workbook_bytes([["手机号码"], [ORDINARY[0]], [ORDINARY[1]], [ORDINARY[0]], ["1"]])
    fields = {"template_id": template_id, "variables": json.dumps({"name": "会员"})}

    plan = plan_ok(api, account_id, key, data, fields)
    assert (plan["accepted"], plan["units"], plan["units_per_message"]) == (2, 2, 1)
    assert (plan["available"], plan["sufficient"], plan["duplicates"]) == (1000, True, 1)
    assert rejected_rows(plan) == [(5, "invalid_phone")]
    assert plan["text"] == "【花店】尊敬的会员,春季新品已到店,欢迎选购。"
    assert plan["goes_out_at"] == "2026-03-02T09:00:00+08:00"
    assert plan["rate_limited"] == []
    assert "send_id" not in plan

    later = plan_ok(
        api, account_id, key, data, {**fields, "scheduled_at": "2026-03-02T12:00:00+08:00"}
    )
    assert later["scheduled_at"] == later["goes_out_at"] == "2026-03-02T12:00:00+08:00"

    too_many = phone_file(distinct_numbers(1001))
    short = plan_ok(api, account_id, key, too_many, fields)
    assert (short["accepted"], short["units"], short["sufficient"]) == (1001, 1001, False)
    stored_nothing(api, account_id, before)
    advance(api, 60)  # nothing waits to go out either
    stored_nothing(api, account_id, before)


# -- 5. refusals --------------------------------------------------------------------------


FILE_REFUSALS: list[tuple[str, Callable[[], bytes], int, str, str | None]] = [
    ("csv", csv_file, 415, "unsupported_file", "not_xlsx"),
    ("legacy_xls", legacy_xls, 415, "unsupported_file", "not_xlsx"),
    ("random_bytes", lambda: random_bytes(5000), 415, "unsupported_file", "not_xlsx"),
    ("empty_file", lambda: b"", 415, "unsupported_file", "not_xlsx"),
    ("zip_not_workbook", not_a_workbook_zip, 415, "unsupported_file", "not_xlsx"),
    ("password_protected", password_protected, 422, "unsupported_file", "password_protected"),
    ("truncated", truncated, 422, "unsupported_file", "corrupt"),
    (
        "garbage_sheet",
        lambda: rezip(phone_file(ORDINARY), replace={SHEET: b"<<not xml"}),
        422,
        "unsupported_file",
        "corrupt",
    ),
    (
        "bomb_40MB",
        lambda: zip_bomb(40 * 1000 * 1000),
        422,
        "unsupported_file",
        "expands_too_large",
    ),
    (
        "bomb_by_ratio_20MB",
        lambda: zip_bomb(20 * 1000 * 1000),
        422,
        "unsupported_file",
        "expands_too_large",
    ),
    ("noise_2.5MB", lambda: zip_magic_noise(2_500_000), 413, "unsupported_file", "too_large"),
    ("workbook_2.2MB", lambda: padded_workbook(2_200_000), 413, "unsupported_file", "too_large"),
    ("body_4MB", lambda: zip_magic_noise(4_000_000), 413, "payload_too_large", None),
    (
        "10001_numbers",
        lambda: phone_file(distinct_numbers(10_001)),
        422,
        "too_many_recipients",
        None,
    ),
    (
        "10000_numbers_and_a_bad_row",  # S2 counts the non-blank rows, valid or not
        lambda: phone_file([*distinct_numbers(10_000), "bad"]),
        422,
        "too_many_recipients",
        None,
    ),
    (
        "no_phone_column",
        lambda: workbook_bytes([["姓名", "备注"], ["张三", ORDINARY[0]]]),
        422,
        "missing_phone_column",
        None,
    ),
    (
        "header_is_not_first_row",
        lambda: workbook_bytes([["客户名单"], ["手机号码"], [ORDINARY[0]]]),
        422,
        "missing_phone_column",
        None,
    ),
    ("empty_sheet", lambda: workbook_bytes([]), 422, "missing_phone_column", None),
    ("header_only", lambda: phone_file([]), 422, "validation_error", None),
]


@pytest.mark.parametrize(
    ("make", "status", "code", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in FILE_REFUSALS],
)
def test_S3_a_file_that_cannot_be_used_is_refused_whole_and_stores_nothing(
    api: Api, make: Callable[[], bytes], status: int, code: str, reason: str | None
) -> None:
    account_id, key, template_id = setup(api, size=10000)
    before = unit_moves(api, account_id)
    data = make()
    for dry_run in ("false", "true"):
        fields = {"template_id": template_id, "dry_run": dry_run}
        body = assert_problem(post_import(api, account_id, key, data, fields), status, code)
        if reason is not None:
            assert body["reason"] == reason, body
    stored_nothing(api, account_id, before)


def test_S3_the_file_is_judged_by_its_content_not_its_name_or_declared_type(api: Api) -> None:
    account_id, key, template_id = setup(api)
    fields = {"template_id": template_id, "dry_run": "true"}
    real = phone_file(ORDINARY[:2])
    r = post_import(
        api,
        account_id,
        key,
        real,
        fields,
        filename="numbers.bin",
        content_type="application/octet-stream",
    )
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    r = post_import(api, account_id, key, csv_file(), fields, filename="numbers.xlsx")
    assert assert_problem(r, 415, "unsupported_file")["reason"] == "not_xlsx"


def test_S3_a_refused_file_lists_its_problem_in_errors_like_other_refusals(api: Api) -> None:
    account_id, key, template_id = setup(api)
    fields = {"template_id": template_id, "dry_run": "true"}
    missing = post_import(api, account_id, key, workbook_bytes([["姓名"], ["张三"]]), fields)
    body = assert_problem(missing, 422, "missing_phone_column")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("file", "missing_phone_column")]
    assert body["errors"][0]["message_zh"]
    for data, reason in ((csv_file(), "not_xlsx"), (password_protected(), "password_protected")):
        r = post_import(api, account_id, key, data, fields)
        body = r.json()
        assert (body["code"], body["reason"]) == ("unsupported_file", reason)
        assert [(e["field"], e["code"]) for e in body.get("errors", [])] == [("file", reason)]
        assert body["errors"][0]["message_zh"]


def test_S3_an_upload_over_3_MiB_is_refused_even_without_a_content_length(api: Api) -> None:
    account_id, key, template_id = setup(api)
    before = unit_moves(api, account_id)

    def chunks() -> Iterator[bytes]:
        yield f"--{BOUNDARY}\r\n".encode()
        yield b'Content-Disposition: form-data; name="template_id"\r\n\r\n'
        yield f"{template_id}\r\n--{BOUNDARY}\r\n".encode()
        yield b'Content-Disposition: form-data; name="file"; filename="r.xlsx"\r\n\r\n'
        for _ in range(40):
            yield zip_magic_noise(100_000)

    headers = {**auth(key), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    url = f"/v1/accounts/{account_id}/sends/import"
    r = api.client.post(url, content=chunks(), headers=headers)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload_too_large")
    stored_nothing(api, account_id, before)


def test_S3_the_variables_are_checked_as_for_any_send(api: Api) -> None:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key, "尊敬的#name#,春季新品已到店,欢迎选购。")
    before = unit_moves(api, account_id)
    data = workbook_bytes([["手机号码"], *([n] for n in ORDINARY[:2])])  # no 姓名 column
    for variables, code in (
        (None, "missing_variable"),
        ("{}", "missing_variable"),
        ('{"name": "会员", "shop": "x"}', "unknown_variable"),
    ):
        for dry_run in ("false", "true"):
            fields = {"template_id": template_id, "dry_run": dry_run}
            if variables is not None:
                fields["variables"] = variables
            assert_problem(post_import(api, account_id, key, data, fields), 422, code)
    stored_nothing(api, account_id, before)


def test_S3_a_file_of_only_unusable_rows_is_refused(api: Api) -> None:
    account_id, key, template_id = setup(api)
    before = unit_moves(api, account_id)
    data = workbook_bytes([["手机号码"], ["abc"], ["+85261234567"]])
    r = post_import(api, account_id, key, data, {"template_id": template_id})
    assert_problem(r, 422, "validation_error")
    stored_nothing(api, account_id, before)


def test_Q10_an_import_beyond_the_available_units_is_refused_whole(api: Api) -> None:
    account_id, key, template_id = setup(api)
    before = unit_moves(api, account_id)
    r = post_import(
        api, account_id, key, phone_file(distinct_numbers(1001)), {"template_id": template_id}
    )
    body = assert_problem(r, 409, "insufficient_quota")
    assert "1000" in body["detail"]
    stored_nothing(api, account_id, before)


# Each case's fields replace the valid ones (None drops one); the last item: with a file.
FIELD_REFUSALS: list[tuple[str, dict[str, str | None], bool]] = [
    ("no_file", {}, False),
    ("no_template_id", {"template_id": None}, True),
    ("template_id_not_uuid", {"template_id": "nope"}, True),
    ("variables_a_list", {"variables": "[1, 2]"}, True),
    ("variables_a_string", {"variables": '"会员"'}, True),
    ("variables_not_json", {"variables": "{name: 会员}"}, True),
    ("variables_null", {"variables": "null"}, True),
    ("dry_run_not_a_bool", {"dry_run": "maybe"}, True),
    ("scheduled_at_not_a_time", {"scheduled_at": "tomorrow"}, True),
    ("scheduled_at_in_the_past", {"scheduled_at": "2026-03-02T08:59:00+08:00"}, True),
    # no offset is Beijing time: 08:59 there is past (read as UTC it would be 16:59, future)
    ("scheduled_at_past_in_beijing", {"scheduled_at": "2026-03-02T08:59:00"}, True),
    ("scheduled_at_over_a_year_ahead", {"scheduled_at": "2027-03-03T09:00:00+08:00"}, True),
    ("unknown_product", {"product": "tv"}, True),
]


@pytest.mark.parametrize(
    ("fields", "with_file"), [pytest.param(*case[1:], id=case[0]) for case in FIELD_REFUSALS]
)
def test_S3_invalid_form_fields_are_422_validation_error_and_store_nothing(
    api: Api, fields: dict[str, str | None], with_file: bool
) -> None:
    account_id, key, template_id = setup(api)
    before = unit_moves(api, account_id)
    data = phone_file(ORDINARY[:2]) if with_file else None
    merged = {"template_id": template_id, **fields}
    r = post_import(api, account_id, key, data, {k: v for k, v in merged.items() if v is not None})
    assert_problem(r, 422, "validation_error")
    stored_nothing(api, account_id, before)


def test_S3_templates_that_cannot_be_used_are_refused_as_for_any_send(api: Api) -> None:
    """Another account's or an unknown template 404; pending, rejected or deleted 409
    template_not_approved; a business template 422 wrong_template_type."""
    account_id, key = funded_account(api)
    other_id, other_key = funded_account(api, phone="13800138001")
    other_template = mass_template(api, other_id, other_key)
    pending_id = submit(api, account_id, key, mass())["template_id"]
    rejected_id = submit(api, account_id, key, mass())["template_id"]
    assert reject(api, rejected_id).status_code == 200
    deleted_id = mass_template(api, account_id, key)
    assert delete(api, deleted_id, key).status_code in (200, 204)
    business_id = business_template(api, account_id, key)
    before = unit_moves(api, account_id)
    data = phone_file(ORDINARY[:2])
    cases = [
        (other_template, 404, "not_found"),
        (str(uuid4()), 404, "not_found"),
        (pending_id, 409, "template_not_approved"),
        (rejected_id, 409, "template_not_approved"),
        (deleted_id, 409, "template_not_approved"),
        (business_id, 422, "wrong_template_type"),
    ]
    for template_id, status, code in cases:
        for dry_run in ("false", "true"):
            fields = {"template_id": template_id, "dry_run": dry_run}
            assert_problem(post_import(api, account_id, key, data, fields), status, code)
    stored_nothing(api, account_id, before)
    assert list_sends(api, other_id) == []


def test_S3_an_import_needs_the_accounts_own_key(api: Api) -> None:
    account_id, _, template_id = setup(api)
    _, other_key = funded_account(api, phone="13800138001")
    before = unit_moves(api, account_id)
    data = phone_file(ORDINARY[:2])
    fields = {"template_id": template_id}
    url = f"/v1/accounts/{account_id}/sends/import"
    r = api.client.post(url, files={"file": ("r.xlsx", data, XLSX_TYPE)}, data=fields)
    assert_problem(r, 401, "unauthorized")
    assert_problem(post_import(api, account_id, other_key, data, fields), 404, "not_found")
    stored_nothing(api, account_id, before)


# -- 6. scheduled -------------------------------------------------------------------------


def test_S3_S6_Q5_a_scheduled_import_locks_its_units_and_goes_out_at_its_time(api: Api) -> None:
    account_id, key, template_id = setup(api)
    data = phone_file([*ORDINARY[:3], "bad"])
    fields = {"template_id": template_id, "scheduled_at": "2026-03-02T12:00:00+08:00"}
    body = import_ok(api, account_id, key, data, fields)
    assert body["status"] == "scheduled"
    assert (body["accepted"], body["units"], rejected_rows(body)) == (3, 3, [(5, "invalid_phone")])
    assert body["scheduled_at"] == body["goes_out_at"] == "2026-03-02T12:00:00+08:00"
    api.settle()
    assert figures(balance(api, account_id)) == (997, 3, 1000, 0, 0)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "lock"]
    assert [s["send_id"] for s in list_sends(api, account_id, status="scheduled")] == [
        body["send_id"]
    ]

    advance(api, 3 * 3600 - 60)  # 11:59: still waiting
    send = get_send(api, body["send_id"], key)
    assert (send["status"], send["units_locked"], send["units_charged"]) == ("scheduled", 3, 0)
    assert api.container.carrier.text_of(f"{body['send_id']}.0") is None

    advance(api, 60)  # 12:00
    send = get_send(api, body["send_id"], key)
    assert send["status"] in ("submitted", "completed")
    assert (send["units_locked"], send["units_charged"]) == (0, 3)
    api.settle()
    assert figures(balance(api, account_id)) == (997, 0, 1000, 3, 0)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "lock", "charge"]
    advance(api, 10)
    assert get_send(api, body["send_id"], key)["counts"]["success"] == 3
    assert phones_sent(api, body["send_id"]) == ORDINARY[:3]


def test_S3_S6_a_scheduled_at_without_an_offset_is_beijing_time(api: Api) -> None:
    account_id, key, template_id = setup(api)
    data = phone_file(ORDINARY[:1])
    fields = {"template_id": template_id, "scheduled_at": "2026-03-02T11:00:00"}
    plan = plan_ok(api, account_id, key, data, fields)
    assert plan["scheduled_at"] == plan["goes_out_at"] == "2026-03-02T11:00:00+08:00"
    body = import_ok(api, account_id, key, data, fields)
    assert (body["status"], body["scheduled_at"]) == ("scheduled", "2026-03-02T11:00:00+08:00")
    advance(api, 2 * 3600)
    assert get_send(api, body["send_id"], key)["status"] in ("submitted", "completed")


# -- 7. Idempotency-Key -------------------------------------------------------------------


def test_S3_the_same_key_and_the_same_upload_is_the_same_send_charged_once(api: Api) -> None:
    account_id, key, template_id = setup(api)
    data = phone_file(ORDINARY[:3])
    fields = {"template_id": template_id}
    first = post_import(
        api, account_id, key, data, fields, idempotency_key="import-1", boundary=BOUNDARY
    )
    assert first.status_code == 202, first.text
    again = post_import(
        api, account_id, key, data, fields, idempotency_key="import-1", boundary=BOUNDARY
    )
    assert again.status_code == 202, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()

    other = phone_file(ORDINARY[1:4])
    r = post_import(
        api, account_id, key, other, fields, idempotency_key="import-1", boundary=BOUNDARY
    )
    assert_problem(r, 422, "idempotency_key_reused")
    api.settle()
    assert [s["send_id"] for s in list_sends(api, account_id)] == [first.json()["send_id"]]
    assert figures(balance(api, account_id)) == (997, 0, 1000, 3, 0)
    assert [e["kind"] for e in ledger(api, account_id)] == ["purchase", "charge"]


def test_S3_a_retry_of_the_same_file_and_fields_with_the_same_key_is_the_same_send(
    api: Api,
) -> None:
    account_id, key, template_id = setup(api)
    data = phone_file(ORDINARY[:3])
    fields = {"template_id": template_id}
    first = post_import(api, account_id, key, data, fields, idempotency_key="import-2")
    assert first.status_code == 202, first.text
    again = post_import(api, account_id, key, data, fields, idempotency_key="import-2")
    assert again.status_code == 202, again.text
    assert again.json()["send_id"] == first.json()["send_id"]
    api.settle()
    assert figures(balance(api, account_id)) == (997, 0, 1000, 3, 0)
