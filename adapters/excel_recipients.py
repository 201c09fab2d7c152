"""Recipients imported from an Excel file made from the platform's template (S3).

``recipients_template()`` is the .xlsx users download; ``read_phone_cells()`` reads the phone
column back out of what they upload, as ``(Excel row, text)`` pairs for
``domain.recipients.parse_recipients``, which then accepts or refuses each row by its number.

An upload is untrusted, so it is checked before openpyxl sees it and refused whole with
``UnsupportedFile`` and a ``reason``:

- ``too_large``: over ``MAX_FILE_BYTES`` (2 MiB). A 10,000-row file from the template, as
  openpyxl writes it, is about 110 KB, so 2 MiB leaves room for extra columns and formatting
  while keeping every upload cheap to hold.
- ``not_xlsx``: not a zip (CSV, text, legacy .xls), or a zip that is not a workbook (no
  ``[Content_Types].xml`` or ``xl/workbook.xml``, e.g. .docx or .ods).
- ``password_protected``: Excel saves a workbook with an opening password as an OLE compound
  file holding ``EncryptionInfo`` and ``EncryptedPackage`` streams instead of a zip.
- ``expands_too_large``: a zip bomb. The members may declare at most ``MAX_UNCOMPRESSED_BYTES``
  (32 MiB) in all: a 10,000-row, two-column sheet is about 1.3 MB of XML, so 32 MiB is ample
  for real files and bounds the memory and parsing time of a hostile one (a crafted upload
  just under 2 MiB takes about 2.5 s to read). A member over 1 MiB that declares more than
  ``MAX_COMPRESSION_RATIO`` (100) times its compressed size is refused as well: real sheet XML
  compresses about 10 times, runs of zeros about 1000 times.
- ``corrupt``: a damaged zip, or a workbook openpyxl cannot read.

The declared sizes can lie, but only downwards to any effect: for stored and deflated members
(the only methods OOXML allows, so the only ones accepted here) the stdlib ``zipfile``, which
openpyxl reads through, stops decompressing at the declared size and then fails the CRC, which
is reported as ``corrupt``. Members compressed with bzip2 or LZMA are refused because
``zipfile`` decompresses a whole input chunk of those at once, unbounded.

openpyxl parses XML with the standard library (expat 2.4 and later limit entity expansion;
external entities are not fetched). It switches to ``defusedxml`` by itself when that package is
installed; it is not a dependency of this project.

A workbook without a phone column header is refused with ``MissingPhoneColumn``; more than
``MAX_RECIPIENTS`` (10,000) numbers with ``TooManyRecipients``, found without reading further.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from ..domain.errors import DomainError
from ..domain.recipient_files import (
    MAX_FILE_BYTES,
    PHONE_HEADERS,
    MissingPhoneColumn,
    UnsupportedFile,
)
from ..domain.recipients import MAX_RECIPIENTS, TooManyRecipients

__all__ = [
    "MAX_FILE_BYTES",
    "ExcelRecipientSheets",
    "MissingPhoneColumn",
    "UnsupportedFile",
    "read_recipient_rows",
]

MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100

# Small members (styles, content types) legitimately compress 100 times and more; a ratio
# only says "bomb" once the member is big enough to matter.
_RATIO_CHECKED_FROM_BYTES = 1024 * 1024
_EXCEL_MAX_ROWS = 1_048_576  # a row number beyond Excel's last row is not a real sheet
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first member, or an empty archive
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAMS = tuple(n.encode("utf-16-le") for n in ("EncryptedPackage", "EncryptionInfo"))
_XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_OOXML_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_TRAILING_NOTE = re.compile(r"\([^()]*\)$")  # 手机号码（必填） after NFKC

_TEMPLATE_SHEET = "号码"
_TEMPLATE_HEADERS = ("手机号码", "姓名")
_INSTRUCTIONS_SHEET = "说明"
_INSTRUCTIONS = (
    ("填写说明",),
    ("在“号码”工作表的“手机号码”列中每行填写一个中国大陆手机号码,例如 13800138000。",),
    ("第一行为表头,请勿修改;“姓名”列可不填。",),
    ("最多 10,000 个号码;重复号码只发送一次;无效号码会连同行号一起列出,不会发送。",),
    ("文件须为 .xlsx 格式,不超过 2 MB,且不能设置密码。",),
)


@functools.cache
def recipients_template() -> bytes:
    """The .xlsx users download: the header row, the phone column as text, and the
    instructions (with an example) on a second sheet.

    The phone column is formatted as text ('@') so that Excel keeps what is typed there as
    typed, instead of turning 11 digits into 1.38E+10. There is no example row among the
    numbers: a row left in would be a message sent. Built once per process.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _TEMPLATE_SHEET
    sheet.append(_TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].number_format = "@"  # cells typed later keep their digits
    notes = workbook.create_sheet(_INSTRUCTIONS_SHEET)
    for line in _INSTRUCTIONS:
        notes.append(line)
    notes.column_dimensions["A"].width = 80
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 36
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class RecipientRow:
    """One row with a number: its Excel row, the number's cell, and the row's other cells by
    their column's header (a 姓名 column fills ``#name#``, S3)."""

    row: int
    phone: str
    columns: dict[str, str]


def read_phone_cells(data: bytes) -> list[tuple[int, str]]:
    """The ``(Excel row, text)`` of each non-blank phone cell of the first sheet, below its header.

    Raises ``UnsupportedFile``, ``MissingPhoneColumn``, or ``TooManyRecipients`` as soon as
    the 10,001st number is seen.
    """
    return [(r.row, r.phone) for r in read_recipient_rows(data)]


def read_recipient_rows(data: bytes) -> list[RecipientRow]:
    """Each row of the first sheet with a non-blank phone cell, below its header, with the
    row's other cells. Raises as ``read_phone_cells`` does."""
    _check_container(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except MemoryError:
        raise
    except Exception as error:  # openpyxl reports bad parts with many exception types
        raise UnsupportedFile("corrupt") from error
    try:
        return _read_first_sheet(workbook)
    finally:
        workbook.close()


def _check_container(data: bytes) -> None:
    """Refuse, before any parsing, what is too big, not a zip workbook, or a zip bomb."""
    if len(data) > MAX_FILE_BYTES:
        raise UnsupportedFile("too_large")
    if data.startswith(_OLE_MAGIC):
        encrypted = any(name in data for name in _ENCRYPTION_STREAMS)
        raise UnsupportedFile("password_protected" if encrypted else "not_xlsx")
    if not data.startswith(_ZIP_MAGIC):
        raise UnsupportedFile("not_xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise UnsupportedFile("corrupt") from error
    if not set(_XLSX_PARTS) <= {m.filename for m in members}:
        raise UnsupportedFile("not_xlsx")
    _check_expansion(members)


def _check_expansion(members: list[zipfile.ZipInfo]) -> None:
    """Zip-bomb guard on the declared sizes (which zipfile enforces when reading; see above)."""
    if any(m.compress_type not in _OOXML_COMPRESSION for m in members):
        raise UnsupportedFile("corrupt")
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise UnsupportedFile("expands_too_large")
    for member in members:
        if member.file_size <= _RATIO_CHECKED_FROM_BYTES:
            continue
        if member.file_size > MAX_COMPRESSION_RATIO * member.compress_size:
            raise UnsupportedFile("expands_too_large")


def _read_first_sheet(workbook: Any) -> list[RecipientRow]:
    """Find the header, then read the rows below it; parse failures are corrupt."""
    try:
        if not workbook.worksheets:
            raise MissingPhoneColumn()
        sheet = workbook.worksheets[0]
        # The <dimension> a writer records may be wrong ("A1" for a full sheet), and openpyxl
        # would stop reading there: ignore it and read the rows that are present.
        sheet.reset_dimensions()
        header_row, column, headers = _find_phone_header(sheet)
        rows = sheet.iter_rows(min_row=header_row + 1, max_col=len(headers), values_only=True)
        return _recipient_rows(enumerate(rows, header_row + 1), column, headers)
    except (DomainError, MemoryError):
        raise
    except Exception as error:  # e.g. invalid sheet XML, found only while reading it
        raise UnsupportedFile("corrupt") from error


def _find_phone_header(sheet: Any) -> tuple[int, int, list[str]]:
    """The header is the first non-empty row; return its row, the phone column (1-based) and
    every column's header as written (stripped)."""
    for row_number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        _check_row_number(row_number)
        headers = [_normalise_header(v) for v in values]
        if not any(headers):
            continue
        for accepted in PHONE_HEADERS:  # in order of preference: 手机号码 before 电话号码
            wanted = _normalise_header(accepted)
            if wanted in headers:
                written = ["" if v is None else str(v).strip() for v in values]
                return row_number, headers.index(wanted) + 1, written
        break
    raise MissingPhoneColumn()


def _recipient_rows(
    rows: Iterable[tuple[int, tuple[object, ...]]], column: int, headers: list[str]
) -> list[RecipientRow]:
    """Rows with a non-blank phone cell, stopping as soon as there are more than
    MAX_RECIPIENTS."""
    cells: list[RecipientRow] = []
    for row_number, values in rows:
        _check_row_number(row_number)
        value = values[column - 1] if len(values) >= column else None
        text = "" if value is None else _cell_text(value)
        if not text:
            continue
        others = {
            header: _cell_text(cell)
            for i, (header, cell) in enumerate(zip(headers, values, strict=False))
            if i != column - 1 and header and cell is not None
        }
        cells.append(RecipientRow(row_number, text, others))
        if len(cells) > MAX_RECIPIENTS:
            raise TooManyRecipients(
                f"At most {MAX_RECIPIENTS} numbers can be sent to at once; the file has more "
                f"(number {len(cells)} is in row {row_number}) (S2)."
            )
    return cells


def _check_row_number(row_number: int) -> None:
    """openpyxl fills gaps between rows; a hostile r="999999999999" would never end."""
    if row_number > _EXCEL_MAX_ROWS:
        raise UnsupportedFile("corrupt")


def _cell_text(value: object) -> str:
    """A cell as the text the domain parses; numbers typed into a number cell lose nothing."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):  # before int: bool is an int
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 13800138000.0
    return str(value)  # int; other floats, dates: the domain refuses them with their row


def _normalise_header(value: object) -> str:
    """Compare headers without case, spaces (either width), a leading '*' or a note like (必填)."""
    if value is None:
        return ""
    text = "".join(unicodedata.normalize("NFKC", str(value)).lower().split())
    return _TRAILING_NOTE.sub("", text).strip("*")


class ExcelRecipientSheets:
    """``commands.recipient_sources.RecipientSheets`` on openpyxl."""

    def read(self, content: bytes) -> list[RecipientRow]:
        return read_recipient_rows(content)

    def template(self) -> bytes:
        return recipients_template()
