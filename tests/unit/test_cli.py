"""The command line as an operator meets it: levels in any case, a version, clean help."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from click.testing import CliRunner
from smsplat.api.cli import main, plural


@pytest.mark.parametrize("level", ["debug", "DEBUG", "Warning", "error"])
def test_a_log_level_is_taken_in_any_case(level: str) -> None:
    result = CliRunner().invoke(main, ["--log-level", level, "ledger", "--help"])
    assert result.exit_code == 0, result.output
    assert "Quota ledger" in result.output


def test_an_unknown_log_level_is_a_usage_error_naming_the_choices() -> None:
    result = CliRunner().invoke(main, ["--log-level", "loud", "ledger", "--help"])
    assert result.exit_code == 2
    assert "'loud' is not one of" in result.output and "debug" in result.output.lower()


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"smsplat, version {version('smsplat')}"


@pytest.mark.parametrize("command", [[], ["worker"], ["kafka"], ["ledger", "verify"]])
def test_help_shows_no_raw_markup(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "``" not in result.output


def test_counts_read_as_english() -> None:
    assert plural(1, "account") == "1 account"
    assert plural(2, "account") == "2 accounts"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(12_000, "entry", "entries") == "12,000 entries"
