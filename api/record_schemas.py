"""Response bodies of the per-message records and the statistics (``routes/records.py``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class MessageRecordOut(BaseModel):
    message_id: str
    send_id: str
    template_id: str
    phone: str
    status: str
    reason: str | None
    units: int
    product: str | None
    carrier_message_id: str | None
    created_at: datetime = Field(description="When its send was accepted (Beijing time).")
    submitted_at: datetime | None
    final_at: datetime | None


class MessageRecordPageOut(BaseModel):
    items: list[MessageRecordOut]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page; null last.")


class FiguresOut(BaseModel):
    sent: int = Field(description="Every message asked for: pending + sending + settled ones.")
    pending: int
    sending: int
    success: int
    failed: int
    unknown: int
    units_charged: int
    units_refunded: int
    success_rate: float | None = Field(description="success / (success + failed + unknown)")


class StatisticsGroupOut(FiguresOut):
    key: str = Field(description="The Beijing day, template id or product (``none``: no product).")


class StatisticsOut(BaseModel):
    account_id: str
    group_by: str
    from_: datetime | None = Field(serialization_alias="from")
    to: datetime | None
    groups: list[StatisticsGroupOut]
    totals: FiguresOut
