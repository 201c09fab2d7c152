"""The webhook dispatcher: empties the outbox (``commands/webhook_outbox.py``) into the
receivers, at least once, retrying on the service clock.

Each round takes the deliveries due now (the oldest undelivered of each message, send or
account to each endpoint, so one message's events arrive in order) and sends them in
parallel. A 2xx is delivered. A 410 says the receiver is gone: the endpoint is disabled and
its undelivered deliveries given up (so is an endpoint whose every attempt failed for 5 days,
and the account is told by SMS, as for a low balance). Anything else (another status, a
timeout, a refused connection, a redirect, a private address) is tried again after the
schedule's next wait (``domain/webhooks.py``: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each
stretched by a random factor), then given up; ``retry`` and ``replay`` send again on request.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit
from uuid import UUID

from ..domain.alert_sms import webhook_disabled_text
from ..domain.errors import NotFound
from ..domain.webhooks import (
    DELIVERED,
    FAILING_REASON,
    GONE,
    GONE_REASON,
    JITTER,
    WebhookEndpoint,
    WebhookNotFound,
    answer_means,
    failing_too_long,
    retry_at,
)
from .ports import (
    AccountNotices,
    AnsweredDelivery,
    Clock,
    DeliveryAttempt,
    DeliveryOutbox,
    DueDelivery,
    WebhookReceivers,
)
from .webhooks import WebhooksApp

log = logging.getLogger(__name__)

ROUND_SIZE = 200  # deliveries taken at once
PARALLEL = 8  # sent at the same time (each to its own message, send or account)


def stretch() -> float:
    return random.uniform(*JITTER)


class WebhookDispatcher:
    def __init__(
        self,
        webhooks: WebhooksApp,
        outbox: DeliveryOutbox,
        receivers: WebhookReceivers,
        notices: AccountNotices,
        clock: Clock,
        wall_clock: Clock,
        draw_stretch: Callable[[], float] = stretch,
    ) -> None:
        self.webhooks = webhooks
        self.outbox = outbox
        self.receivers = receivers
        self.notices = notices
        self.clock = clock  # retries are due on the service clock
        self.wall_clock = wall_clock  # leases run on real time
        self.draw_stretch = draw_stretch
        self._pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="webhook")

    def run_once(self) -> int:
        """Send what is due now, ``PARALLEL`` at a time, each answer kept as it comes;
        returns how many deliveries were attempted. (Killed, the dispatcher leaves at most
        the posts in flight unrecorded, and their leases bring them back: at least once.)"""
        due = self.outbox.claim_due(self.clock.now(), self.wall_clock.now(), ROUND_SIZE)
        targets = {w: self._target(w) for w in {d.webhook_id for d in due}}  # once a round
        for failure in self._pool.map(lambda d: self._deliver(d, targets[d.webhook_id]), due):
            if failure is not None:
                log.error("webhook delivery failed to record: %s", failure)
        return len(due)

    def _deliver(
        self, delivery: DueDelivery, target: tuple[WebhookEndpoint, list[str]] | None
    ) -> Exception | None:
        """Post one delivery and keep its answer (in the pool's thread: one slow receiver
        holds up no other answer)."""
        made = self._post(delivery, target)
        if made is None:
            return None
        try:
            self._record(made)
        except Exception as error:  # logged by run_once; the lease brings it back
            return error
        return None

    def _record(self, made: tuple[AnsweredDelivery, WebhookEndpoint]) -> None:
        """Keep an answer; disable the endpoint if it answered 410, or if its every attempt
        failed for 5 days."""
        answer, endpoint = made
        failing = self.outbox.answered([answer])
        if answer.gone:
            self._disable(endpoint, GONE_REASON)
        elif endpoint.id in failing and failing_too_long(failing[endpoint.id], self.clock.now()):
            # told first: after a crash in between, the next failure tells again, and the
            # notice goes out once whoever asks
            self._notify_disabled(endpoint)
            self._disable(endpoint, FAILING_REASON)

    def catch_up(self) -> int:
        """Every round due now (the simulated clock's stepping)."""
        total = 0
        while count := self.run_once():
            total += count
        return total

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _target(self, webhook_id: UUID) -> tuple[WebhookEndpoint, list[str]] | None:
        """The endpoint and the secrets that sign for it now; None once it is deleted or
        disabled (what waits for it is given up)."""
        try:
            endpoint = self.webhooks.endpoint(webhook_id, None)
        except (WebhookNotFound, NotFound):
            endpoint = None
        if endpoint is None or not endpoint.active:
            self.outbox.cancel(webhook_id)
            return None
        return endpoint, self.webhooks.signing_secrets(endpoint)

    def _post(
        self, delivery: DueDelivery, target: tuple[WebhookEndpoint, list[str]] | None
    ) -> tuple[AnsweredDelivery, WebhookEndpoint] | None:
        """One attempt and what it means for the delivery; None when its endpoint is gone or
        the attempt broke (logged; the lease brings the delivery back)."""
        if target is None:
            return None
        endpoint, secrets = target
        try:
            answer = self.receivers.post(endpoint.url, delivery.delivery_id, delivery.body,
                                         secrets)  # fmt: skip
        except Exception:
            log.exception("webhook delivery %s failed to send", delivery.delivery_id)
            return None
        now = self.clock.now()
        attempt = DeliveryAttempt(delivery.delivery_id, endpoint.id, now, answer.status_code,
                                  answer.error, answer.latency_ms)  # fmt: skip
        meaning = answer_means(answer.status_code, answer.error)
        if meaning == DELIVERED:
            return AnsweredDelivery(attempt, True), endpoint
        if meaning == GONE:
            return AnsweredDelivery(attempt, False, None, gone=True), endpoint
        next_at = retry_at(delivery.attempts + 1, now, self.draw_stretch())
        return AnsweredDelivery(attempt, False, next_at), endpoint

    def _disable(self, endpoint: WebhookEndpoint, reason: str) -> None:
        self.webhooks.disable(endpoint.id, reason)
        self.outbox.cancel(endpoint.id)

    def _notify_disabled(self, endpoint: WebhookEndpoint) -> None:
        host = urlsplit(endpoint.url).hostname or endpoint.url
        notice = f"webhook-disabled.{endpoint.id}"
        self.notices.notify(endpoint.account_id, notice, webhook_disabled_text(host))
