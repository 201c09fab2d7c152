"""The operator's list of accounts with their balances."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
