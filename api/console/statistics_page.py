"""统计 Statistics: daily sent, success, failed and unknown, with a chart and its table."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
