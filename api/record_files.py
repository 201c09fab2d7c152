"""The records as files, written as they are read: CSV (text) and xlsx (a zip, so built in an
unnamed temporary file, then streamed). Memory stays that of one chunk of rows whatever the
number of rows; openpyxl's write-only workbook writes each row to disk as it is appended."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from openpyxl import Workbook

from ..projections.message_records import MessageRecord
from .schemas import beijing

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = [
    "message_id", "send_id", "template_id", "phone", "status", "reason", "units", "product",
    "carrier_message_id", "created_at", "submitted_at", "final_at",
]  # fmt: skip
SHEET_ROWS = 1_048_576 - 1  # Excel's rows a sheet, less the header: more go on the next sheet
FILE_PIECE = 256 * 1024  # bytes a write of the xlsx to the client


def _iso(value: datetime | None) -> str:
    return beijing(value).isoformat() if value else ""


def _wall_clock(value: datetime | None) -> datetime | None:
    """Beijing time without its offset: Excel cells have no time zone."""
    return beijing(value).replace(tzinfo=None) if value else None


def csv_lines(chunks: Iterable[list[MessageRecord]]) -> Iterator[str]:
    """The header, then one piece of CSV per chunk (times in Beijing time, as the ledger's)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    yield out.getvalue()
    for chunk in chunks:
        out.seek(0)
        out.truncate()
        writer.writerows(
            (
                r.message_id, r.send_id, r.template_id, r.phone, r.status, r.reason or "",
                r.units, r.product or "", r.carrier_message_id or "", _iso(r.created_at),
                _iso(r.submitted_at), _iso(r.final_at),
            )
            for r in chunk
        )  # fmt: skip
        yield out.getvalue()


def xlsx_pieces(chunks: Iterable[list[MessageRecord]]) -> Iterator[bytes]:
    """The workbook's bytes: sheet ``messages`` (then ``messages 2``, ... past Excel's
    1,048,576 rows), written row by row to a temporary file, then read back in pieces."""
    with tempfile.TemporaryFile() as file:
        workbook = Workbook(write_only=True)
        sheet, rows, sheets = None, SHEET_ROWS, 0
        for chunk in chunks:
            for r in chunk:
                if rows == SHEET_ROWS:
                    sheets += 1
                    sheet = workbook.create_sheet(
                        "messages" if sheets == 1 else f"messages {sheets}"
                    )
                    sheet.append(COLUMNS)
                    rows = 0
                assert sheet is not None
                sheet.append(
                    [
                        r.message_id, r.send_id, r.template_id, r.phone, r.status, r.reason,
                        r.units, r.product, r.carrier_message_id, _wall_clock(r.created_at),
                        _wall_clock(r.submitted_at), _wall_clock(r.final_at),
                    ]
                )  # fmt: skip
                rows += 1
        if sheet is None:
            workbook.create_sheet("messages").append(COLUMNS)
        workbook.save(file)
        file.seek(0)
        while piece := file.read(FILE_PIECE):
            yield piece
