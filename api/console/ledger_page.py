"""额度流水 Ledger: entries with filters, the balance at an instant, CSV."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
