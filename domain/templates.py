"""Message templates (模板): submitted, pre-screened, reviewed, edited, deleted (T1–T11).

A template's whole life is its events. Each version of its signature and content is kept, so
the review history shows what changed between a rejected version and its resubmission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from .errors import (
    InvalidInput,
    Problems,
    TemplateNotApproved,
    TemplateNotEditable,
    TemplateNotPending,
)
from .handled_requests import HandledRequests
from .prescreen import prescreen
from .review_time import review_due_at
from .scenarios import SCENARIO_CONTENT, BusinessKind, MassKind, Scenario, TemplateType
from .template_text import check_content, check_signature, placeholders

MAX_REASON = 500


class TemplateStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELETED = "deleted"


@dataclass(frozen=True)
class TemplateDraft:
    """A valid template text, ready to be submitted: the outcome of ``draft_template``."""

    type: TemplateType
    kind: MassKind | BusinessKind | None
    scenario: Scenario | None
    signature: str
    content: str


def draft_template(
    type_: object, kind: object, scenario: object, signature: object, content: object
) -> TemplateDraft:
    """Check a new template (T1, T2, T3, T8, T11); every problem is listed, nothing stored.

    A business template either names a scenario, whose content is the platform's (T8), or
    carries the account's own content (its order, logistics or site notices, its own
    verification text: T1), reviewed like a mass template, of kind ``verification`` or
    ``notice`` (the default)."""
    problems = Problems()
    template_type = _choice(TemplateType, type_, "type", problems, required=True)
    kind_: MassKind | BusinessKind | None = None
    scenario_ = None
    if template_type is TemplateType.MASS:
        kind_ = _choice(MassKind, kind, "kind", problems, required=True)
        if scenario is not None:
            problems.add(
                "scenario", "validation_error", "Mass templates have no scenario.",
                "群发短信模板没有发送场景。",
            )  # fmt: skip
    elif template_type is TemplateType.BUSINESS and scenario is not None:
        scenario_ = _choice(Scenario, scenario, "scenario", problems, required=True)
        if kind is not None:
            problems.add(
                "kind", "validation_error",
                "A scenario template has no kind; give the account's own content for one.",
                "业务场景模板没有类型;自定义内容的业务模板才可指定类型。",
            )  # fmt: skip
    elif template_type is TemplateType.BUSINESS:
        kind_ = _choice(BusinessKind, kind if kind is not None else "notice", "kind", problems,
                        required=True)  # fmt: skip
    clean_signature = check_signature(signature, problems)
    if scenario_ is not None:
        # T8: a scenario's content is the platform's, never typed in
        clean_content = _fixed_content(scenario_, content, problems)
    elif template_type is TemplateType.BUSINESS and scenario is not None:
        clean_content = ""  # an unknown scenario: its problem is the only one
    else:
        clean_content = check_content(content, problems)
    problems.raise_as_first_code("The template breaks the template rules.")
    assert template_type is not None
    return TemplateDraft(template_type, kind_, scenario_, clean_signature, clean_content)


def _fixed_content(scenario: Scenario, content: object, problems: Problems) -> str:
    """T8: a scenario's content is the platform's; it may be omitted, not changed."""
    fixed = SCENARIO_CONTENT[scenario]
    if content not in (None, "", fixed):
        problems.add(
            "content",
            "invalid_content",
            f"The content of the {scenario.value} scenario is fixed and cannot be edited.",
            "业务场景模板的短信内容不可修改。",
        )
    return fixed


def _choice(enum: Any, value: object, field: str, problems: Problems, required: bool) -> Any:
    if value is None and not required:
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        problems.add(
            field, "validation_error", f"{field} must be one of: {allowed}.",
            f"{field} 须为以下之一:{allowed}。",
        )  # fmt: skip
        return None


class Template(Aggregate, HandledRequests):
    """One template of one account; usable for sending only while approved (T7)."""

    class Submitted(Aggregate.Created):
        account_id: str
        type: str
        kind: str | None
        scenario: str | None
        signature: str
        content: str
        review_due_at: datetime
        actor: str

    class PreScreened(Aggregate.Event):
        """T10: the automatic pre-screen's verdict on the version just submitted."""

        refused: bool
        reasons: list[dict[str, str]]
        flags: list[dict[str, str]]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Template)
            aggregate.reasons = list(self.reasons)
            aggregate.flags = list(self.flags)
            if self.refused:
                aggregate.status = TemplateStatus.REJECTED
                aggregate.review_due_at = None
            aggregate._log(self, "prescreened", refused=self.refused, reasons=self.reasons)

    class Approved(Aggregate.Event):
        reviewer: str
        request_id: str | None = None  # see domain/handled_requests.py

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Template)
            aggregate._handled(self.request_id)
            aggregate.status = TemplateStatus.APPROVED
            aggregate.review_due_at = None
            aggregate._log(self, "approved", by=self.reviewer)

    class Rejected(Aggregate.Event):
        reviewer: str
        reason: str
        request_id: str | None = None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Template)
            aggregate._handled(self.request_id)
            aggregate.status = TemplateStatus.REJECTED
            aggregate.review_due_at = None
            aggregate.reasons = [{"code": "rejected_by_reviewer", "message": self.reason}]
            aggregate._log(self, "rejected", by=self.reviewer, reason=self.reason)

    class Resubmitted(Aggregate.Event):
        """T6: the edited text of a rejected template, back in review as a new version."""

        signature: str
        content: str
        review_due_at: datetime
        actor: str
        request_id: str | None = None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Template)
            aggregate._handled(self.request_id)
            aggregate._new_version(self.signature, self.content, self.timestamp)
            aggregate.status = TemplateStatus.PENDING_REVIEW
            aggregate.review_due_at = self.review_due_at
            aggregate.reasons = []
            aggregate.flags = []
            aggregate._log(self, "resubmitted", by=self.actor, version=aggregate.version_number)

    class Deleted(Aggregate.Event):
        actor: str
        request_id: str | None = None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Template)
            aggregate._handled(self.request_id)
            aggregate.status = TemplateStatus.DELETED
            aggregate._log(self, "deleted", by=self.actor)

    def __init__(
        self,
        account_id: str,
        type: str,
        kind: str | None,
        scenario: str | None,
        signature: str,
        content: str,
        review_due_at: datetime,
        actor: str,
    ) -> None:
        self.account_id = account_id
        self.type = type
        self.kind = kind
        self.scenario = scenario
        self.status = TemplateStatus.PENDING_REVIEW
        self.handled: set[str] = set()
        self.review_due_at: datetime | None = review_due_at
        self.reasons: list[dict[str, str]] = []
        self.flags: list[dict[str, str]] = []
        self.versions: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.signature = signature
        self.content = content
        self._new_version(signature, content, None)
        self.history.append(
            {"action": "submitted", "at": self.created_on.isoformat(), "by": actor, "version": 1}
        )

    # -- commands -----------------------------------------------------------------------

    @classmethod
    def submit(
        cls, template_id: UUID, account_id: UUID, draft: TemplateDraft, actor: str, at: datetime
    ) -> Template:
        """Submit for review; a mass template is pre-screened at once (T10)."""
        template = cls._create(
            cls.Submitted,
            id=template_id,
            account_id=str(account_id),
            type=draft.type.value,
            kind=draft.kind.value if draft.kind else None,
            scenario=draft.scenario.value if draft.scenario else None,
            signature=draft.signature,
            content=draft.content,
            review_due_at=review_due_at(at),
            actor=actor,
            timestamp=at,
        )
        template._prescreen(at)
        return template

    def resubmit(
        self,
        signature: object,
        content: object,
        actor: str,
        at: datetime,
        request_id: str | None = None,
    ) -> None:
        """T6: edit a rejected template and send it back to review, any number of times."""
        if self.already_handled(request_id):
            return
        if self.status is not TemplateStatus.REJECTED:
            raise TemplateNotEditable(
                f"Only a rejected template can be edited; this one is {self.status.value}."
            )
        draft = draft_template(self.type, self.kind, self.scenario, signature, content)
        self.trigger_event(
            self.Resubmitted,
            signature=draft.signature,
            content=draft.content,
            review_due_at=review_due_at(at),
            actor=actor,
            request_id=request_id,
            timestamp=at,
        )
        self._prescreen(at)

    def approve(self, reviewer: str, at: datetime, request_id: str | None = None) -> None:
        if self.already_handled(request_id):
            return
        self._require_pending()
        self.trigger_event(self.Approved, reviewer=reviewer, request_id=request_id, timestamp=at)

    def reject(
        self, reason: object, reviewer: str, at: datetime, request_id: str | None = None
    ) -> None:
        """Reject with a reason the account will see (and keep, T6)."""
        if self.already_handled(request_id):
            return
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            raise InvalidInput(
                f"A rejection needs a reason of 1–{MAX_REASON} characters.",
            )
        self._require_pending()
        self.trigger_event(
            self.Rejected, reviewer=reviewer, reason=reason.strip(), request_id=request_id,
            timestamp=at,
        )  # fmt: skip

    def delete(self, actor: str, at: datetime, request_id: str | None = None) -> None:
        """T7: an approved template can be deleted; it is then never listed nor usable."""
        if self.already_handled(request_id):
            return
        if self.status is not TemplateStatus.APPROVED:
            raise TemplateNotApproved(
                f"Only an approved template can be deleted; this one is {self.status.value}."
            )
        self.trigger_event(self.Deleted, actor=actor, request_id=request_id, timestamp=at)

    def require_usable(self) -> None:
        """Sending may use a template only while it is approved (T7)."""
        if self.status is not TemplateStatus.APPROVED:
            raise TemplateNotApproved(
                f"Template {self.id} is {self.status.value}; only approved templates can be used."
            )

    # -- queries ------------------------------------------------------------------------

    @property
    def version_number(self) -> int:
        return len(self.versions)

    @property
    def submitted_at(self) -> datetime:
        """When the current version was submitted."""
        return datetime.fromisoformat(self.versions[-1]["submitted_at"])

    @property
    def placeholders(self) -> list[str]:
        return placeholders(self.content)

    def changes_since_previous(self) -> dict[str, dict[str, str]]:
        """What the current version changed against the one before it (after a rejection)."""
        if len(self.versions) < 2:
            return {}
        before, after = self.versions[-2], self.versions[-1]
        return {
            field: {"before": before[field], "after": after[field]}
            for field in ("signature", "content")
            if before[field] != after[field]
        }

    # -- internals ----------------------------------------------------------------------

    def _prescreen(self, at: datetime) -> None:
        """T10 on the text the account wrote: mass templates and own-content business ones
        (a scenario's text is the platform's)."""
        if self.scenario is not None:
            return
        verdict = prescreen(self.content, signature=self.signature)
        self.trigger_event(
            self.PreScreened,
            refused=verdict.refused,
            reasons=[r.as_dict() for r in verdict.refusals],
            flags=[r.as_dict() for r in verdict.flags],
            timestamp=at,
        )

    def _require_pending(self) -> None:
        if self.status is not TemplateStatus.PENDING_REVIEW:
            raise TemplateNotPending(
                f"Only a template waiting for review can be decided; this one is "
                f"{self.status.value}."
            )

    def _new_version(self, signature: str, content: str, at: datetime | None) -> None:
        self.signature = signature
        self.content = content
        self.versions.append(
            {
                "version": len(self.versions) + 1,
                "signature": signature,
                "content": content,
                "submitted_at": (at or self.created_on).isoformat(),
            }
        )

    def _log(self, event: Aggregate.Event, action: str, **details: Any) -> None:
        self.history.append({"action": action, "at": event.timestamp.isoformat(), **details})
