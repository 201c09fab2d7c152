"""Domain errors. Each carries the stable machine-readable ``code`` of the public contract.

The HTTP layer turns them into problem+json responses; the domain never knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field (listed in a problem's ``errors``)."""

    field: str
    code: str
    message: str
    message_zh: str | None = None


class DomainError(Exception):
    """A command was refused by a business rule; nothing was changed."""

    code: str = "domain_error"
    title: str = "Request refused"

    def __init__(
        self,
        detail: str,
        problems: list[FieldProblem] | None = None,
        field: str | None = None,
        detail_zh: str | None = None,
    ) -> None:
        """``field``: the one input at fault, when no ``problems`` list them; ``detail_zh``:
        its Chinese text, given as ``message_zh`` (the API and the console both show it)."""
        super().__init__(detail)
        self.detail = detail
        self.detail_zh = detail_zh
        at_fault = [FieldProblem(field, self.code, detail, detail_zh)] if field else []
        self.problems: list[FieldProblem] = problems or at_fault


class InvalidInput(DomainError):
    code = "validation_error"
    title = "Invalid input"


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class InvalidPackage(DomainError):
    """Q1: only 1,000, 5,000 and 10,000-unit packages exist."""

    code = "invalid_package"
    title = "No such package"


class NoActiveProduct(DomainError):
    """Q3: a package can only be bought by an account with another active product."""

    code = "no_active_product"
    title = "No active product"


class NotRefundable(DomainError):
    """Q2: purchased packages are never refunded."""

    code = "not_refundable"
    title = "Packages are not refundable"


class InsufficientQuota(DomainError):
    """Q10: a charge or lock that needs more units than are available is refused whole."""

    code = "insufficient_quota"
    title = "Insufficient quota"

    def __init__(self, available: int) -> None:
        super().__init__(insufficient_quota_text(available))
        self.available = available


class QuotaConflict(DomainError):
    """A quota command that contradicts the pool's own record (e.g. releasing an unknown lock)."""

    code = "quota_conflict"
    title = "Quota conflict"


class TemplateNotApproved(DomainError):
    """A template can be used, or deleted, only while approved (T7)."""

    code = "template_not_approved"
    title = "Template not approved"


class TemplateNotEditable(DomainError):
    """Only a rejected template can be edited and resubmitted (T6)."""

    code = "template_not_editable"
    title = "Template not editable"


class TemplateNotPending(DomainError):
    """Only a template waiting for review can be approved or rejected (T5)."""

    code = "template_not_pending"
    title = "Template not pending review"


class InvalidPhone(DomainError):
    code = "invalid_phone"
    title = "Invalid phone number"


class NotMainlandMobile(DomainError):
    code = "not_mainland_mobile"
    title = "Not a mainland-China mobile number"


def insufficient_quota_text(available: int) -> str:
    """The exact Q10 refusal text, with x = the available units."""
    return f"目前账户短信数量为{available},短信发送将请求失败,购买短信包后可继续使用。"


@dataclass
class Problems:
    """Collects every problem of one input before refusing it (never just the first)."""

    items: list[FieldProblem] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: str, message_zh: str | None = None) -> None:
        self.items.append(FieldProblem(field_name, code, message, message_zh))

    def raise_if_any(self, detail: str = "The request has invalid fields.") -> None:
        if self.items:
            raise InvalidInput(detail, list(self.items))

    def raise_as_first_code(self, detail: str) -> None:
        """Refuse with the first problem's code on top and every problem listed."""
        if self.items:
            error = InvalidInput(detail, list(self.items))
            error.code = self.items[0].code
            raise error
