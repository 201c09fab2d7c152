"""A refusal as the console shows it: the API's code and message, in the page's language.

The Chinese comes from the domain (``message_zh`` of each field problem, ``detail_zh``),
the same text the API's problem+json carries, so it is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.errors import DomainError
from ..problems import ApiProblem
from .i18n import CHINESE


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    fields: list[tuple[str, str, str]]  # (field, code, message)


def refusal_of(error: DomainError, language: str) -> Refusal:
    chinese = language == CHINESE
    detail = (error.detail_zh if chinese else None) or error.detail
    fields = [
        (p.field, p.code, (p.message_zh if chinese else None) or p.message) for p in error.problems
    ]
    return Refusal(error.code, detail, fields)


def refusal_of_problem(problem: ApiProblem) -> Refusal:
    """A malformed query (a filter, a time) as the API words it: the same code and message."""
    errors = problem.extra.get("errors") or []
    return Refusal(
        problem.code, problem.detail, [(e["field"], e["code"], e["message"]) for e in errors]
    )
