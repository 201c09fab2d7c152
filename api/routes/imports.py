"""Recipients from an Excel file (S3): the template to download, and the import itself."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ...commands.recipient_sources import SpreadsheetFile
from ...domain.recipient_files import MAX_FILE_BYTES
from ..auth import Caller, require_account_access
from ..body_commands import mass_send_command
from ..idempotency import keyed_id
from ..problems import ApiProblem, invalid_field
from ..schemas import SendAcceptedOut, SendIn, SendPlanOut
from ..services import Accounts, Bus, Sheets
from .sending import mass_send_answer

router = APIRouter(tags=["sending"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/v1/recipients-template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The Excel template (S3)."}},
)
def download_template(caller: Caller, sheets: Sheets) -> Response:
    """The Excel template for importing numbers: one number per row under 手机号码."""
    return Response(
        sheets.template(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="recipients-template.xlsx"'},
    )


FORM_FIELDS = {"file", "template_id", "variables", "scheduled_at", "product", "dry_run"}


async def known_form_fields(request: Request) -> None:
    """Refuse a form with a field the import does not take: a typo such as ``dryrun=true``
    must not turn a dry run into a real send."""
    form = await request.form()
    unknown = sorted(set(form.keys()) - FORM_FIELDS)
    if unknown:
        raise ApiProblem(
            422, "validation_error", f"Unknown form fields: {', '.join(unknown)}.",
            errors=[{"field": name, "code": "validation_error", "message": "unknown field"}
                    for name in unknown],
        )  # fmt: skip


@router.post(
    "/v1/accounts/{account_id}/sends/import",
    dependencies=[Depends(known_form_fields)],
    status_code=202,
    response_model=SendAcceptedOut,
    responses={200: {"model": SendPlanOut, "description": "dry_run: the plan, nothing stored"}},
)
def import_send(
    account_id: UUID,
    request: Request,
    caller: Caller,
    bus: Bus,
    accounts: Accounts,
    file: Annotated[UploadFile, File(description="An .xlsx made from the template (S3).")],
    template_id: Annotated[UUID, Form()],
    variables: Annotated[str | None, Form(description='A JSON object, e.g. {"name": "x"}')] = None,
    scheduled_at: Annotated[datetime | None, Form()] = None,
    product: Annotated[str | None, Form()] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> SendAcceptedOut | JSONResponse:
    """A mass send to the numbers of an Excel file (S3), as ``POST .../sends`` otherwise.
    Rows that are not mainland mobiles come back in ``rejected`` with their row number;
    columns headed like the template's placeholders (姓名 for ``#name#``) fill each row's own
    variables. A form field this operation does not take is refused (422), like an unknown
    JSON field."""
    require_account_access(caller, account_id, accounts)
    try:
        body = SendIn(
            template_id=template_id, variables=_variables(variables),
            scheduled_at=scheduled_at, product=product, dry_run=dry_run,
        )  # fmt: skip
    except ValidationError as invalid:
        errors = [{"field": ".".join(map(str, e["loc"])) or "body", "code": "validation_error",
                   "message": e["msg"]} for e in invalid.errors()]  # fmt: skip
        raise ApiProblem(
            422, "validation_error", "The form has invalid fields.", errors=errors
        ) from None
    upload = SpreadsheetFile(file.file.read(MAX_FILE_BYTES + 1))  # more is refused: too_large
    command = mass_send_command(account_id, body, caller.actor, keyed_id(request, "send"), upload)
    return mass_send_answer(bus, command, body.dry_run)


def _variables(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise invalid_field("variables", "variables must be a JSON object.")
    return value
