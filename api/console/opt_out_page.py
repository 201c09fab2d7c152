"""The opt-out list of an account."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
