"""模板 Templates: the list, submitting, history with changes, edit and resubmit, delete."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
