"""统计 Statistics: daily sent, success, failed and unknown, success rate and units by
product, with a chart and the table of its figures (the API's statistics query)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...projections.message_statistics import Figures
from ..problems import ApiProblem
from ..routes.times import as_instant
from ..schemas import BEIJING
from ..services import StatisticsViews
from .access import AccountViewer
from .refusals import refusal_of_problem
from .rendering import page

router = APIRouter()
DEFAULT_DAYS = 7


@router.get("/accounts/{account_id}/statistics")
def statistics_page(
    account_id: UUID, request: Request, caller: AccountViewer, figures: StatisticsViews
) -> Response:
    start_text, end_text = _default_range(request)
    context: dict[str, Any] = {"chosen": {"from": start_text, "to": end_text}}
    try:
        start, end = as_instant(start_text, "from"), as_instant(end_text, "to")
    except ApiProblem as problem:
        refusal = refusal_of_problem(problem)
        return page(request, "statistics.html", status=problem.status, caller=caller,
                    account_id=account_id, refusal=refusal, days=[], products=[],
                    chart="{}", **context)  # fmt: skip
    days = [(k, _row(f)) for k, f in figures.of(str(account_id), "day", start, end).groups]
    products = [(k, _row(f)) for k, f in figures.of(str(account_id), "product", start, end).groups]
    series = {s: [r[s] for _, r in days] for s in ("sent", "success", "failed", "unknown")}
    chart = json.dumps({"days": [k for k, _ in days], "series": series}).replace("<", "\\u003c")
    return page(request, "statistics.html", caller=caller, account_id=account_id,
                refusal=None, days=days, products=products, chart=chart, **context)  # fmt: skip


def _default_range(request: Request) -> tuple[str, str]:
    """The asked range; by default the last 7 days (Beijing), today included."""
    today = datetime.now(BEIJING).date()
    start = request.query_params.get("from", "").strip() or str(
        today - timedelta(days=DEFAULT_DAYS - 1)
    )
    end = request.query_params.get("to", "").strip() or str(today + timedelta(days=1))
    return start, end


def _row(f: Figures) -> dict[str, Any]:
    rate = f.success_rate
    return {"sent": f.sent, **f.counts, "units": f.units_charged - f.units_refunded,
            "rate": "—" if rate is None else f"{rate * 100:.1f}%"}  # fmt: skip
