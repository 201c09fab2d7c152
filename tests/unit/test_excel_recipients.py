"""S3: recipients from an uploaded Excel file, read from real files and refused when unsafe."""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import time
import zipfile
from collections.abc import Iterable, Sequence

import openpyxl
import pytest
from smsplat.adapters.excel_recipients import (
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    read_phone_cells,
    recipients_template,
)
from smsplat.domain.recipient_files import (
    MAX_FILE_BYTES,
    PHONE_HEADERS,
    MissingPhoneColumn,
    UnsupportedFile,
)
from smsplat.domain.recipients import MAX_RECIPIENTS, TooManyRecipients, parse_recipients

from tests.xlsx_files import SHEET, rezip, sheet_xml

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def xlsx(rows: Iterable[Sequence[object]], *, title: str | None = None) -> bytes:
    """A real workbook written by openpyxl, one list per row (None leaves a cell empty)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def phones(count: int, header: str = "手机号码") -> list[list[object]]:
    """A header row, then ``count`` distinct numbers from 13800000000 on."""
    rows: list[list[object]] = [[header, "姓名"]]
    rows += [[f"1380{i:07d}", f"客户{i}"] for i in range(count)]
    return rows


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Make the zip's local header and central directory lie about a member's size."""
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
    struct.pack_into("<I", patched, local + 22, size)
    encoded = name.encode()
    central = patched.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", patched, central + 28)[0]
        if patched[central + 46 : central + 46 + name_length] == encoded:
            struct.pack_into("<I", patched, central + 24, size)
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


def refused(data: bytes) -> str:
    with pytest.raises(UnsupportedFile) as caught:
        read_phone_cells(data)
    assert type(caught.value) is UnsupportedFile
    assert caught.value.code == "unsupported_file"
    assert [p.code for p in caught.value.problems] == [caught.value.reason]
    return caught.value.reason


# Reading real workbooks


def test_S3_template_round_trips_and_is_shaped_for_excel() -> None:
    """The template holds no number to send (instructions are on their own sheet); the phone
    column is text, the header frozen; filled in with openpyxl, it reads back."""
    template = recipients_template()
    assert read_phone_cells(template) == []
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    assert sheet.title == "号码"
    assert [c.value for c in sheet[1]] == ["手机号码", "姓名"]
    assert sheet.column_dimensions["A"].number_format == "@"  # rows typed in later
    assert sheet.freeze_panes == "A2"
    assert "13800138000" in str(workbook["说明"]["A2"].value)  # the example, out of the way
    sheet.append(["13800138000", "张三"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_recipients(read_phone_cells(buffer.getvalue()))
    assert result.accepted == ("13800138000",)


def test_S3_ten_thousand_rows_are_read_with_their_row_numbers() -> None:
    """S2 limit exactly: accepted, each number with its own Excel row; the file stays small."""
    data = xlsx(phones(MAX_RECIPIENTS))
    assert len(data) < MAX_FILE_BYTES // 10  # about 100 KB, far under the limit
    cells = read_phone_cells(data)
    assert len(cells) == MAX_RECIPIENTS
    assert cells[0] == (2, "13800000000")
    assert cells[-1] == (MAX_RECIPIENTS + 1, f"1380{MAX_RECIPIENTS - 1:07d}")
    assert [row for row, _ in cells] == list(range(2, MAX_RECIPIENTS + 2))


def test_S3_ten_thousand_and_one_rows_are_too_many() -> None:
    with pytest.raises(TooManyRecipients):
        read_phone_cells(xlsx(phones(MAX_RECIPIENTS + 1)))


def test_S3_reading_stops_at_the_first_number_over_the_limit() -> None:
    """Nothing after the 10,001st number is read: broken XML there is never reached."""
    data = xlsx(phones(MAX_RECIPIENTS + 1))
    broken = sheet_xml(data).replace("</sheetData>", '<row r="20000"><c r="A20000"><oops')
    with pytest.raises(TooManyRecipients):
        read_phone_cells(rezip(data, replace={SHEET: broken.encode()}))


def test_S3_numbers_stored_as_numbers_become_their_digits() -> None:
    """Excel turns a typed number into a number cell; ints, integral floats keep their digits."""
    data = xlsx(
        [["手机号码"], [13800138000], [13800138001.0], [1.5], [True], [dt.date(2024, 1, 2)]]
    )
    assert read_phone_cells(data) == [
        (2, "13800138000"),
        (3, "13800138001"),
        (4, "1.5"),
        (5, "True"),
        (6, "2024-01-02 00:00:00"),
    ]


def test_S3_float_written_with_exponent_is_read_as_its_digits() -> None:
    """Other writers store 1.3800138E10; it is 13800138000 and must not stay 1.38E+10."""
    data = xlsx([["手机号码"], [1]])
    xml = sheet_xml(data).replace("<v>1</v>", "<v>1.3800138E10</v>")
    assert read_phone_cells(rezip(data, replace={SHEET: xml.encode()})) == [(2, "13800138000")]


@pytest.mark.parametrize(
    ("header_row", "column"),
    [
        (["姓名", "备注", "手机号码"], 3),
        (["姓名", "Mobile"], 2),
        (["name", " PHONE number "], 2),
        (["姓名", "手\u3000机\u3000号"], 2),  # full-width spaces
        (["姓名", "手机号码（必填）"], 2),
        (["*手机号码", "姓名"], 1),
        (["号码", "手机号码"], 2),  # 手机号码 is preferred over the looser 号码
    ],
)
def test_S3_phone_column_found_by_header_in_any_column(header_row: list[str], column: int) -> None:
    row: list[object] = ["x"] * len(header_row)
    row[column - 1] = "13900139000"
    assert read_phone_cells(xlsx([header_row, row])) == [(2, "13900139000")]


def test_S3_blank_cells_and_rows_are_skipped_and_rows_keep_their_numbers() -> None:
    data = xlsx(
        [
            [],
            ["姓名", "手机号码"],
            ["a", " 13800138000 "],
            [],
            ["b", None],
            ["c", "   "],
            ["d", "\u3000"],
            [],
            ["e", "13900139000"],
            ["f", "not a number"],
        ]
    )
    assert read_phone_cells(data) == [(3, "13800138000"), (9, "13900139000"), (10, "not a number")]


def test_S3_the_first_sheet_is_read_even_when_another_is_active() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["手机号码"])
    workbook.active.append(["13800138000"])
    other = workbook.create_sheet("说明")
    other.append(["手机号码"])
    other.append(["13900139000"])
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_phone_cells(buffer.getvalue()) == [(2, "13800138000")]


def test_S3_a_wrong_dimension_in_the_sheet_does_not_hide_rows() -> None:
    """Some writers record <dimension ref="A1"/> for a whole sheet; every row is still read."""
    data = xlsx([["手机号码"], ["13800138000"], ["13900139000"]])
    xml = sheet_xml(data)
    assert '<dimension ref="A1:A3" />' in xml
    xml = xml.replace('<dimension ref="A1:A3" />', '<dimension ref="A1" />')
    cells = read_phone_cells(rezip(data, replace={SHEET: xml.encode()}))
    assert cells == [(2, "13800138000"), (3, "13900139000")]


# Missing phone column


@pytest.mark.parametrize(
    "rows",
    [
        [["姓名", "备注"], ["张三", "13800138000"]],
        [["13800138000"], ["13900139000"]],  # no header row at all
        [],  # an empty sheet
        [["客户名单"], ["手机号码"], ["13800138000"]],  # the first non-empty row is the header
    ],
)
def test_S3_missing_phone_column_is_refused_listing_accepted_headers(
    rows: list[list[object]],
) -> None:
    with pytest.raises(MissingPhoneColumn) as caught:
        read_phone_cells(xlsx(rows))
    assert caught.value.code == "missing_phone_column"
    assert all(header in caught.value.detail for header in PHONE_HEADERS)


# Refused files, each with its reason


@pytest.mark.parametrize(
    "data",
    [
        "手机号码,姓名\n13800138000,张三\n".encode(),  # CSV
        b"13800138000\n13900139000\n",  # plain text
        b"",  # empty
        random.Random(3).randbytes(4096),  # noise
        OLE_MAGIC + bytes(504) + "Workbook".encode("utf-16-le") + bytes(1024),  # legacy .xls
    ],
    ids=["csv", "text", "empty", "random", "legacy-xls"],
)
def test_S3_not_a_zip_is_not_xlsx(data: bytes) -> None:
    assert refused(data) == "not_xlsx"


@pytest.mark.parametrize("stream", ["EncryptedPackage", "EncryptionInfo"])
def test_S3_password_protected_workbook_is_recognised(stream: str) -> None:
    """Excel writes an encrypted .xlsx as an OLE file with these streams, not as a zip."""
    data = OLE_MAGIC + bytes(1024) + stream.encode("utf-16-le") + bytes(512)
    assert refused(data) == "password_protected"


@pytest.mark.parametrize(
    "data",
    [
        zip_of({"readme.txt": b"hello"}),
        zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),  # .ods
        zip_of({}),
    ],
    ids=["plain-zip", "docx", "ods", "empty-zip"],
)
def test_S3_a_zip_without_workbook_parts_is_not_xlsx(data: bytes) -> None:
    assert refused(data) == "not_xlsx"


def test_S3_truncated_workbook_is_corrupt() -> None:
    data = xlsx(phones(100))
    assert refused(data[: len(data) // 2]) == "corrupt"


def test_S3_garbage_workbook_part_is_corrupt() -> None:
    data = zip_of(
        {
            "[Content_Types].xml": b"<Types>not really</Types>",
            "xl/workbook.xml": b"\x00\x01garbage<<<",
        }
    )
    assert refused(data) == "corrupt"


def test_S3_garbage_in_a_real_workbook_is_corrupt() -> None:
    data = xlsx(phones(3))
    assert refused(rezip(data, replace={"xl/workbook.xml": b"<workbook><oops"})) == "corrupt"


def test_S3_broken_sheet_xml_found_while_reading_is_corrupt() -> None:
    """openpyxl parses a sheet lazily; its failure then is still reported as corrupt."""
    data = xlsx(phones(3))
    broken = sheet_xml(data).replace("</sheetData>", "<row><c><v>1</c></row>")
    assert refused(rezip(data, replace={SHEET: broken.encode()})) == "corrupt"


def test_S3_a_row_number_beyond_excel_is_corrupt_and_refused_quickly() -> None:
    """openpyxl fills the gap before a row with empty rows; a huge row number must not hang."""
    data = xlsx([["手机号码"], ["13800138000"]])
    xml = sheet_xml(data).replace(
        '<row r="2"><c r="A2"', '<row r="99999999999"><c r="A99999999999"'
    )
    started = time.monotonic()
    assert refused(rezip(data, replace={SHEET: xml.encode()})) == "corrupt"
    assert time.monotonic() - started < 10


def test_S3_zip_level_compression_other_than_deflate_is_corrupt() -> None:
    """bzip2 members, which no Excel writes, would be decompressed without a bound."""
    data = xlsx(phones(3))
    assert refused(rezip(data, add={"xl/extra.bin": b"x"}, compression=zipfile.ZIP_BZIP2)) == (
        "corrupt"
    )


def test_S3_zip_bomb_over_the_uncompressed_total_is_refused() -> None:
    zeros = bytes(40 * 1024 * 1024)
    data = rezip(xlsx(phones(3)), add={"xl/media/zeros.bin": zeros})
    assert len(data) < MAX_FILE_BYTES // 10  # 40 MB of zeros fit in a small upload
    assert len(zeros) > MAX_UNCOMPRESSED_BYTES
    assert refused(data) == "expands_too_large"


def test_S3_zip_bomb_of_many_small_members_is_refused_by_the_total() -> None:
    """Forty 1 MiB members are each too small for the ratio check; together they are 40 MiB."""
    members = {f"xl/media/zeros{i}.bin": bytes(1024 * 1024) for i in range(40)}
    data = rezip(xlsx(phones(3)), add=members)
    assert len(data) < MAX_FILE_BYTES // 10
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert max(i.file_size for i in archive.infolist()) <= 1024 * 1024
    assert refused(data) == "expands_too_large"


def test_S3_zip_bomb_by_ratio_alone_is_refused() -> None:
    """4 MiB of zeros is under the total limit, but a thousand times its compressed size."""
    zeros = bytes(4 * 1024 * 1024)
    data = rezip(xlsx(phones(3)), add={"xl/media/zeros.bin": zeros})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/media/zeros.bin")
    assert info.file_size < MAX_UNCOMPRESSED_BYTES
    assert info.file_size > MAX_COMPRESSION_RATIO * info.compress_size
    assert refused(data) == "expands_too_large"


def test_S3_small_parts_and_big_incompressible_parts_are_not_bombs() -> None:
    """The ratio matters only for big members; a big member that compresses normally is fine."""
    noise = random.Random(5).randbytes(1024 * 1024 + 1)  # ratio about 1
    small_zeros = bytes(512 * 1024)  # ratio about 1000, but small
    data = rezip(
        xlsx(phones(3)), add={"xl/media/noise.bin": noise, "xl/media/zeros.bin": small_zeros}
    )
    assert len(read_phone_cells(data)) == 3


def test_S3_a_lying_zip_directory_cannot_expand_beyond_its_declared_size() -> None:
    """The sizes checked are declared ones; reading stops at them, so a lie is only corrupt."""
    data = xlsx(phones(3))
    xml = sheet_xml(data)
    padded = xml.replace("</worksheet>", " " * (40 * 1024 * 1024) + "</worksheet>")
    bomb = rezip(data, replace={SHEET: padded.encode()})
    assert refused(bomb) == "expands_too_large"  # honest sizes: refused up front
    lying = declare_size(bomb, SHEET, len(xml.encode()) + 100)
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert sum(i.file_size for i in archive.infolist()) < MAX_UNCOMPRESSED_BYTES
    assert refused(lying) == "corrupt"


def test_S3_file_over_the_size_limit_is_too_large_before_anything_else() -> None:
    data = b"PK\x03\x04" + bytes(MAX_FILE_BYTES)
    assert refused(data) == "too_large"
    assert refused(OLE_MAGIC + "EncryptedPackage".encode("utf-16-le") + data) == "too_large"
    assert refused(b"PK\x03\x04" + bytes(MAX_FILE_BYTES - 4)) == "corrupt"  # at the limit


def test_S3_limits_are_the_documented_ones() -> None:
    assert MAX_FILE_BYTES == 2 * 1024 * 1024
    assert MAX_UNCOMPRESSED_BYTES == 32 * 1024 * 1024
    assert MAX_COMPRESSION_RATIO == 100
    assert {"手机号码", "手机号", "phone", "mobile"} <= set(PHONE_HEADERS)
