"""审核队列 Review queue: the operator's templates awaiting review, oldest first."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
