"""发送 Send: choosing recipients, the dry-run plan, confirming, scheduling and progress."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
