"""What an uploaded recipient file may be, and how it is refused (S3).

The rules of the upload, kept apart from the Excel reader that applies them
(``adapters/excel_recipients.py``): at most ``MAX_FILE_BYTES``, a phone column headed by one
of ``PHONE_HEADERS``, and the reasons an upload is refused whole (``UnsupportedFile``).
"""

from __future__ import annotations

from .errors import DomainError, FieldProblem

MAX_FILE_BYTES = 2 * 1024 * 1024
PHONE_HEADERS: tuple[str, ...] = (
    "手机号码",
    "手机号",
    "手机",
    "电话号码",
    "号码",
    "phone",
    "mobile",
    "phone number",
    "mobile number",
    "cellphone",
)

_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB.",
        f"文件超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请删除多余的列和格式后重新上传。",
    ),
    "not_xlsx": (
        "The file is not an .xlsx workbook; download the template and save it as .xlsx.",
        "文件不是 .xlsx 格式（不支持 .xls、.csv），请下载模板填写后保存为 .xlsx。",
    ),
    "password_protected": (
        "The workbook is protected by a password; remove the password and upload it again.",
        "文件设置了打开密码，请取消密码后重新上传。",
    ),
    "expands_too_large": (
        "The workbook expands to more than the allowed size when unpacked.",
        "文件解压后过大，无法读取，请使用模板重新制作。",
    ),
    "corrupt": (
        "The workbook is damaged or cannot be read; open it in Excel and save it again.",
        "文件已损坏或无法读取，请用 Excel 打开后重新保存为 .xlsx。",
    ),
}


class UnsupportedFile(DomainError):
    """The upload is not a workbook we can safely read; ``reason`` says why (see
    ``adapters/excel_recipients.py``): ``too_large`` is answered 413, ``not_xlsx`` 415."""

    code = "unsupported_file"
    title = "Unsupported file"

    def __init__(self, reason: str) -> None:
        message, message_zh = _MESSAGES[reason]
        super().__init__(message, [FieldProblem("file", reason, message, message_zh)])
        self.reason = reason


class MissingPhoneColumn(DomainError):
    """The header row (the first non-empty row) names no phone column."""

    code = "missing_phone_column"
    title = "Missing phone column"

    def __init__(self) -> None:
        accepted = ", ".join(f"“{h}”" for h in PHONE_HEADERS)
        message = (
            "The first non-empty row of the first sheet must be a header row with a phone "
            f"column; accepted headers: {accepted}."
        )
        message_zh = f"第一个工作表的第一行须为标题行，并包含手机号码列（可用标题：{accepted}）。"
        super().__init__(message, [FieldProblem("file", self.code, message, message_zh)])
