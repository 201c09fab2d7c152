"""The send scheduler: waiting sends whose time has come (S6, S7, S8, Q5, Q11).

A scheduled send, or a marketing send awaiting the provider's review, is accepted with its
units locked. The sends read model indexes when each waiting send is next due; this timer,
on the service clock, asks the quota application to advance each due send: the provider's
review passes, and at its time the send is submitted (its lock becoming the charge) and the
send worker hands it to the carrier. Everything it does is an event on the send, so a restart
loses nothing: the index is rebuilt from those events and a due send is simply done later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from ..domain.errors import DomainError
from ..domain.provider_review import needs_provider_review
from ..domain.sending import Send
from ..domain.templates import TemplateStatus
from .ports import AudienceDirectory, Clock
from .quota import QuotaApp
from .send_lifecycle import SendLifecycle
from .templates import TemplatesApp

log = logging.getLogger(__name__)


class SendScheduler:
    def __init__(
        self,
        quota: QuotaApp,
        lifecycle: SendLifecycle,
        templates: TemplatesApp,
        audience: AudienceDirectory,
        clock: Clock,
        due_sends: Callable[[datetime], list[str]],
    ) -> None:
        self.quota = quota
        self.lifecycle = lifecycle
        self.templates = templates
        self.audience = audience
        self.clock = clock
        self.due_sends = due_sends

    def run_once(self) -> int:
        """Advance every send due by now; returns how many changed."""
        done = 0
        for send_id in self.due_sends(self.clock.now()):
            try:
                send = self.quota.send(UUID(send_id))
                done += self.lifecycle.advance(send.id, self._opted_out(send), self._usable(send))
            except DomainError:  # the send's template is not the account's: nothing to do
                log.warning("send %s was not advanced", send_id, exc_info=True)
        return done

    def _opted_out(self, send: Send) -> set[str]:
        """Numbers that opted out of the account's marketing since the send was accepted."""
        if not needs_provider_review(send.type, send.kind):
            return set()
        return self.audience.opted_out(send.account_id, send.recipients)

    def _usable(self, send: Send) -> bool:
        """False when the template was deleted while the send waited."""
        template = self.templates.template(UUID(send.template_id), UUID(send.account_id))
        return template.status is not TemplateStatus.DELETED
