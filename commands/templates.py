"""The templates application: submission, pre-screen, review, edits, deletion (T1–T11)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ..domain.errors import NotFound
from ..domain.templates import Template, draft_template
from .context_application import ContextApplication
from .optimistic import update


class TemplatesApp(ContextApplication):
    """Bounded context "templates": its own event table."""

    name = "templates"

    def submit(
        self,
        account_id: UUID,
        fields: dict[str, object],
        actor: str,
        template_id: UUID | None = None,
    ) -> Template:
        """Check and submit a template; a keyed retry (same ``template_id``) returns it again."""
        draft = draft_template(
            fields.get("type"),
            fields.get("kind"),
            fields.get("scenario"),
            fields.get("signature"),
            fields.get("content"),
        )
        template_id = template_id or uuid4()
        template = Template.submit(template_id, account_id, draft, actor, self.clock.now())
        try:
            self.save(template)
        except IntegrityError:
            return self.template(template_id, account_id)
        return template

    def resubmit(
        self,
        template_id: UUID,
        owner: UUID | None,
        signature: object,
        content: object,
        actor: str,
        request_id: str | None = None,
    ) -> Template:
        return self._update(
            template_id,
            owner,
            lambda t: t.resubmit(signature, content, actor, self.clock.now(), request_id),
        )

    def approve(self, template_id: UUID, reviewer: str, request_id: str | None = None) -> Template:
        return self._update(
            template_id, None, lambda t: t.approve(reviewer, self.clock.now(), request_id)
        )

    def reject(
        self, template_id: UUID, reason: object, reviewer: str, request_id: str | None = None
    ) -> Template:
        return self._update(
            template_id, None, lambda t: t.reject(reason, reviewer, self.clock.now(), request_id)
        )

    def delete(
        self, template_id: UUID, owner: UUID | None, actor: str, request_id: str | None = None
    ) -> Template:
        return self._update(
            template_id, owner, lambda t: t.delete(actor, self.clock.now(), request_id)
        )

    def template(self, template_id: UUID, owner: UUID | None = None) -> Template:
        """The template; NotFound too when ``owner`` is given and is not its account."""
        try:
            template: object = self.repository.get(template_id)
        except AggregateNotFoundError:
            template = None
        if not isinstance(template, Template) or (
            owner is not None and template.account_id != str(owner)
        ):
            raise NotFound(f"No template {template_id}.")
        return template

    def usable(self, template_id: UUID, owner: UUID) -> Template:
        """The approved template of ``owner`` that a send may use (T7), or a refusal; as
        stored now (``current``: every send reads it, none changes it)."""
        template = self.current(template_id)
        if not isinstance(template, Template) or template.account_id != str(owner):
            raise NotFound(f"No template {template_id}.")
        template.require_usable()
        return template

    def _update(self, template_id: UUID, owner: UUID | None, command: Any) -> Template:
        def decide(template: Template) -> bool:
            command(template)
            return True

        return update(self, lambda: self.template(template_id, owner), decide)
