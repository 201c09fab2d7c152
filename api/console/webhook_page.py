"""An account's webhook endpoints and their deliveries."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
