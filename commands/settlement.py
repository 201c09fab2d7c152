"""The settlement timer: receipts due from the carrier, the real carriers' replies, and the
72-hour expiry (Q8).

It runs on the service clock, so ``/v1/sim/clock`` drives it in simulation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from ..domain.carrier_lines import ReportedReceipt
from .command_types import RecordReceipts, RecordReplies
from .ports import CarrierReplies, CarrierReply, Clock, Receipt
from .receipts import ReceiptRecorder
from .replies import ReplyRecorder
from .send_lifecycle import SendLifecycle


class SettlementTimer:
    def __init__(
        self,
        receipts: ReceiptRecorder,
        lifecycle: SendLifecycle,
        clock: Clock,
        due_receipts: Callable[[datetime], list[Receipt]] | None,
        due_for_expiry: Callable[[datetime], list[str]],
        replies: tuple[CarrierReplies, ReplyRecorder] | None = None,
        account_for_extension: Callable[[str], UUID | None] = lambda _: None,
    ) -> None:
        self.replies = replies  # a real carrier's replies, and who records them
        self.account_for_extension = account_for_extension
        self.receipts = receipts
        self.lifecycle = lifecycle
        self.clock = clock
        self.due_receipts = due_receipts
        self.due_for_expiry = due_for_expiry
        # Due receipts are claimed when read: a caller must not return while another thread
        # of this process holds receipts it claimed but has not recorded yet (sim/clock
        # answers "once everything due has been processed").
        self._running = threading.Lock()

    def run_once(self) -> int:
        """Settle what is due now; returns how many receipts and expiries it applied."""
        with self._running:
            return self._settle()

    def _settle(self) -> int:
        now = self.clock.now()
        done = 0
        if self.due_receipts is not None:
            receipts = self.due_receipts(now)
            if receipts:
                lines = [ReportedReceipt(r.message_id, r.status) for r in receipts]
                self.receipts.record(RecordReceipts(lines))
                done += len(receipts)
        for send_id in self.due_for_expiry(now):
            done += self.lifecycle.expire(UUID(send_id))
        return done + self._replies()

    def _replies(self) -> int:
        """Replies a real carrier took, recorded as ``POST /v1/carrier/replies`` records them
        (opt-out keywords included); marked only once recorded: at least once, and recording
        one twice changes nothing."""
        if self.replies is None:
            return 0
        source, recorder = self.replies
        due = source.due_replies()
        if due:
            # dated by the service clock, as the replies posted over HTTP without an ``at``;
            # the number it answered names the account (its extension code) when it can
            lines = [self._line(r) for r in due]
            recorder.record(RecordReplies(lines))
            source.replies_recorded([r.reply_id for r in due])
        return len(due)

    def _line(self, reply: CarrierReply) -> dict[str, object]:
        account = self.account_for_extension(reply.extension) if reply.extension else None
        line: dict[str, object] = {"phone": reply.phone, "text": reply.text,
                                   "reply_id": reply.reply_id}  # fmt: skip
        return line | ({"account_id": str(account)} if account else {})
