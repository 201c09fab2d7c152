"""Accepting a send: its units taken and the send stored in one transaction (Q5, Q10).

The draft (``domain/send_draft.py``) is accepted at the instant of the attempt; the account's
pool is charged (a send going out now) or its units locked (one that waits), in the same save
as the send, or the send is refused whole and nothing is stored. A draft whose send id is
already stored (a keyed retry) answers with that send and takes nothing more.
``GroupCommitter`` does the same for many concurrent requests in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ..domain.quota import QuotaPool
from ..domain.send_draft import SendDraft
from ..domain.sending import Send
from .quota import QuotaApp, QuotaBusy, QuotaChange, charge_reference


class AcceptsSends(Protocol):
    def accept(self, draft: SendDraft, actor: str) -> tuple[Send, QuotaChange]:
        """The accepted send (or the one stored under its id) and the balance after."""
        ...


class SendAcceptance:
    """One acceptance per transaction (the CLI, tests; the service uses ``GroupCommitter``)."""

    def __init__(self, quota: QuotaApp) -> None:
        self.quota = quota

    def accept(self, draft: SendDraft, actor: str) -> tuple[Send, QuotaChange]:
        for _ in self.quota.attempts():
            pool = self.quota.pool_for(draft.account_id)
            if draft.send_id in self.quota.repository:
                kept = self.quota.send(draft.send_id)
                return kept, QuotaChange("", pool.version, pool.balance)
            at = self.quota.clock.now()
            send = Send.accept(draft, actor, at)
            entry = take_units(pool, send, actor, at)
            if self.quota.save_if_current(pool, send):
                return send, QuotaChange(entry.entry_id, entry.originator_version, pool.balance)
        raise QuotaBusy("The account's quota is under heavy concurrent use; try again.")


def take_units(pool: QuotaPool, send: Send, actor: str, at: datetime) -> QuotaPool.EntryRecorded:
    """Q5: a send going out now is charged; one that waits (scheduled, or awaiting the
    provider's review) has its units locked. Either is refused whole past what is available.
    Returns the entry recorded."""
    if send.waiting:
        pool.lock(str(send.id), send.units_locked, send.product, actor, at)
    else:
        pool.charge(charge_reference(send), send.units_charged, send.product, actor, at)
    return [e for e in pool.pending_events if isinstance(e, QuotaPool.EntryRecorded)][-1]
