"""Group commit of send acceptances: many requests, one transaction.

One account's quota pool is one aggregate: sixteen request threads charging it at once mostly
retry each other's version conflicts (see ``benchmarks/``). Here one committer thread per
process takes every acceptance waiting in its queue, decides them in order on the pools as it
last saved them (a Q10 refusal refuses only its own request), and saves all the pools and sends
in one transaction. A conflict with another writer (a refund, another process) re-decides the
batch on pools read fresh; a send already stored (a retried request, or a save that committed
despite reporting an error) is returned as it is.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ..domain.errors import DomainError
from ..domain.quota import QuotaPool
from ..domain.send_draft import SendDraft
from ..domain.sending import Send
from .quota import QuotaApp, QuotaBusy, QuotaChange
from .send_acceptance import take_units

log = logging.getLogger(__name__)

MAX_BATCH = 200
MAX_ATTEMPTS = 20
MAX_SAVED_POOLS = 1000


@dataclass
class _Request:
    draft: SendDraft
    actor: str
    result: Future[tuple[Send, QuotaChange]] = field(default_factory=Future)


class GroupCommitter:
    def __init__(self, quota: QuotaApp) -> None:
        self.quota = quota
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        # each pool as this thread last saved it: the next batch starts from it instead of
        # reading it again (a pool another writer changed since makes the save fail on its
        # version, and the batch is decided again on pools read fresh)
        self._saved: dict[UUID, QuotaPool] = {}
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def accept(self, draft: SendDraft, actor: str) -> tuple[Send, QuotaChange]:
        """Like ``SendAcceptance.accept``, sharing a transaction with concurrent callers."""
        request = _Request(draft, actor)
        self._queue.put(request)
        return request.result.result(timeout=60)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            try:
                self._commit(batch)
            except Exception as error:  # never leave a caller waiting
                log.exception("group commit failed")
                for request in batch:
                    if not request.result.done():
                        request.result.set_exception(error)

    def _pool(self, account_id: UUID, attempt: int) -> QuotaPool:
        saved = self._saved.pop(account_id, None) if attempt == 0 else None
        return saved or self.quota.pool_for(account_id)

    def _remember(self, pools: dict[UUID, QuotaPool]) -> None:
        if len(self._saved) + len(pools) > MAX_SAVED_POOLS:
            self._saved.clear()
        self._saved.update((account, pool) for account, pool in pools.items() if pool.version)

    def _commit(self, batch: list[_Request]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            pools: dict[UUID, QuotaPool] = {}
            decided: list[tuple[_Request, Send, QuotaChange | None]] = []
            failures: list[tuple[_Request, DomainError]] = []
            twins: list[tuple[_Request, UUID]] = []  # the same send asked twice in one batch
            seen: set[UUID] = set()
            now = self.quota.clock.now()
            for request in batch:
                draft = request.draft
                try:
                    pool = pools.get(draft.account_id) or self._pool(draft.account_id, attempt)
                    pools[draft.account_id] = pool
                    if draft.send_id in seen:
                        twins.append((request, draft.send_id))
                        continue
                    seen.add(draft.send_id)
                    # a retried request's send is stored already: its save conflicts, and the
                    # next attempt finds it (one lookup per request only after a conflict)
                    if attempt > 0 and draft.send_id in self.quota.repository:
                        decided.append((request, self.quota.send(draft.send_id), None))
                        continue
                    send = Send.accept(draft, request.actor, now)
                    entry = take_units(pool, send, request.actor, now)
                    change = QuotaChange(entry.entry_id, entry.originator_version, pool.balance)
                    decided.append((request, send, change))
                except DomainError as refused:
                    failures.append((request, refused))
            new_sends = [send for _, send, charged in decided if charged is not None]
            try:
                self.quota.save(*[p for p in pools.values() if p.pending_events], *new_sends)
            except IntegrityError:
                self._saved.clear()
                continue
            self._remember(pools)
            for request, send, charged in decided:
                request.result.set_result(
                    (
                        send,
                        charged or QuotaChange("", 0, self.quota.balance(request.draft.account_id)),
                    )
                )
            for request, error in failures:
                request.result.set_exception(error)
            results = {send.id: r.result for r, send, _ in decided}
            for request, send_id in twins:
                request.result.set_result(results[send_id].result())
            return
        raise QuotaBusy("The quota pools kept changing concurrently; try again.")
