"""Rendering a message and pricing it in units (Q6). The dry run and the charge both use this.

*Reading* of Q6: the length is that of the text the recipient gets — the signature with its
【】, the content with its placeholders filled in. Up to 65 characters cost 1 unit; longer, 2.
Marketing messages end with a new line and ``拒收请回复R`` (the platform adds it; both count).
A rendered message longer than 130 characters (two units' worth, before that line) is refused:
variables are meant for codes and names, not for carrying text the template review never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import DomainError, Problems
from .template_text import PLACEHOLDER, is_signature_bracket, placeholders

ONE_UNIT_LENGTH = 65
OPT_OUT_LINE = "拒收请回复R"  # ends every marketing message (opt-out, beyond the original)
MAX_RENDERED_LENGTH = 130
MAX_VARIABLE_LENGTH = 30


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    units: int


def units_for(text: str) -> int:
    """Q6: 1 unit up to 65 characters, 2 beyond."""
    return 1 if len(text) <= ONE_UNIT_LENGTH else 2


def render(
    signature: str,
    content: str,
    variables: Mapping[str, object] | None,
    opt_out_line: bool = False,
) -> RenderedMessage:
    """Fill the placeholders and put the signature in front; every problem is listed.
    Marketing messages end with the platform's opt-out line, counted in the units (Q6)."""
    values = dict(variables or {})
    problems = Problems()
    names = placeholders(content)
    for name in names:
        if name not in values:
            problems.add(
                f"variables.{name}", "missing_variable", f"The template needs #{name}#.",
                f"缺少变量#{name}#。",
            )  # fmt: skip
    for name in values:
        if name not in names:
            problems.add(
                f"variables.{name}", "unknown_variable",
                f"The template has no placeholder #{name}#.", f"模板中没有变量#{name}#。",
            )  # fmt: skip
    filled: dict[str, str] = {}
    for name in names:
        value = values.get(name)
        if value is None:
            continue
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if text is None or len(text) > MAX_VARIABLE_LENGTH or "#" in text:
            problems.add(
                f"variables.{name}", "invalid_variable",
                f"#{name}# must be text or a number of at most {MAX_VARIABLE_LENGTH} "
                "characters, without #.",
                f"变量#{name}#须为不超过{MAX_VARIABLE_LENGTH}个字符的文字或数字,且不含#。",
            )  # fmt: skip
        elif any(is_signature_bracket(c) for c in text):
            problems.add(
                f"variables.{name}", "two_signatures",
                f"#{name}# cannot contain 【 or 】: the message would carry a second signature.",
                f"变量#{name}#不能包含【或】,否则会出现两个签名。",
            )  # fmt: skip
        else:
            filled[name] = text
    problems.raise_as_first_code("The message cannot be rendered.")
    body = PLACEHOLDER.sub(lambda m: filled[m.group(1)], content)
    text = f"【{signature}】{body}"
    if len(text) > MAX_RENDERED_LENGTH:
        problems.add(
            "variables", "message_too_long",
            f"The message would be {len(text)} characters; at most {MAX_RENDERED_LENGTH}.",
            f"短信长度为{len(text)}个字符,最多{MAX_RENDERED_LENGTH}个。",
        )  # fmt: skip
        problems.raise_as_first_code("The message cannot be rendered.")
    if opt_out_line:
        text = f"{text}\n{OPT_OUT_LINE}"
    return RenderedMessage(text, units_for(text))


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """``text`` with the placeholders named in ``values`` filled in (the others kept)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class PersonalRendering:
    """One template rendered for many recipients with their own variables.

    ``form`` is the message with the shared values filled in and each per-recipient
    placeholder kept; ``values[i]`` fills recipient i's; ``units[i]`` is what its message
    costs (Q6). ``refused`` are the recipients whose message cannot be made (a missing or bad
    variable, too long), with the problem that says why."""

    form: str
    values: tuple[dict[str, str], ...]
    units: tuple[int, ...]
    refused: tuple[tuple[int, str, str], ...]  # (recipient index, code, why)


def render_each(
    signature: str,
    content: str,
    shared: Mapping[str, object] | None,
    personal: Sequence[Mapping[str, object]],
    opt_out_line: bool = False,
) -> PersonalRendering:
    """Render the template for each recipient: its own variables over the shared ones."""
    names = placeholders(content)
    own = sorted({n for p in personal for n in p if n in names})
    common = {n: v for n, v in (shared or {}).items() if n not in own}
    values: list[dict[str, str]] = []
    units: list[int] = []
    refused: list[tuple[int, str, str]] = []
    for index, mine in enumerate(personal):
        merged = {**(shared or {}), **mine}
        try:
            message = render(signature, content, merged, opt_out_line)
        except DomainError as error:
            refused.append((index, error.code, error.problems[0].message if error.problems
                            else error.detail))  # fmt: skip
            values.append({})
            units.append(0)
            continue
        values.append({n: _as_text(merged[n]) for n in own})
        units.append(message.units)
    body = PLACEHOLDER.sub(
        lambda m: m.group(0) if m.group(1) in own else _as_text(common.get(m.group(1), "")),
        content,
    )
    form = f"【{signature}】{body}" + (f"\n{OPT_OUT_LINE}" if opt_out_line else "")
    return PersonalRendering(form, tuple(values), tuple(units), tuple(refused))


def _as_text(value: object) -> str:
    return str(value)
