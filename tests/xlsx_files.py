"""Building and taking apart .xlsx files (zip archives) for the Excel tests (S3)."""

from __future__ import annotations

import io
import zipfile

SHEET = "xl/worksheets/sheet1.xml"


def rezip(
    data: bytes,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """The same workbook with members replaced (deflated) or added (with ``compression``)."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info.filename))
            target.writestr(info.filename, content, zipfile.ZIP_DEFLATED)
        for name, content in (add or {}).items():
            target.writestr(name, content, compression)
    return out.getvalue()


def sheet_xml(data: bytes) -> str:
    """The first worksheet's XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(SHEET).decode()
