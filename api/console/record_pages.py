"""发送记录 Records: sends and messages with filters and failure reasons, and export."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
