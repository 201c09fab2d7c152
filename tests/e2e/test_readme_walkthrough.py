"""The README's walk-through, run as it stands (issue 15).

Every ```bash block between the ``<!-- walkthrough:begin -->`` and ``<!-- walkthrough:end -->``
comments of ``README.md`` runs, in order, in one bash process with ``set -euo pipefail``,
against a real ``smsplat serve`` started with the environment of the README's own run command
(the ``… make run`` line before the walk-through), on a SQLite file in a temporary directory,
with ``SMS`` the service's address and ``PY`` this Python (the Excel step fills a file with
openpyxl).
The blocks check themselves (their ``expect`` helper compares each status, ``jq -e`` the
fields that matter), so a changed answer fails this test, naming the block and its output.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.service_process import ServiceProcess

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- walkthrough:begin -->", "<!-- walkthrough:end -->"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RUN_COMMAND = re.compile(r"^((?:SMS_[A-Z_]+=\S+ )+)make run$", re.MULTILINE)
BLOCK_MARK = "### walkthrough block "
DEADLINE_SECONDS = 900  # the whole walk-through, on a busy machine: minutes, not seconds


@dataclass(frozen=True)
class Walkthrough:
    env: dict[str, str]  # what the README's run command sets
    blocks: list[str]  # the ```bash blocks, in order


def read_walkthrough(text: str) -> Walkthrough:
    before, begin, rest = text.partition(BEGIN)
    section, end, _ = rest.partition(END)
    assert begin and end, f"README.md has no {BEGIN} … {END} section"
    run = RUN_COMMAND.findall(before)
    assert len(run) == 1, "README.md needs one `SMS_…=… make run` line before the walk-through"
    env = dict(word.split("=", 1) for word in shlex.split(run[0]))
    blocks = BASH_BLOCK.findall(section)
    assert blocks, "the walk-through has no ```bash blocks"
    return Walkthrough(env, blocks)


def script_of(blocks: list[str]) -> str:
    """One bash script: strict mode, each block announced so a failure can be traced to it."""
    parts = ["set -euo pipefail"]
    for number, block in enumerate(blocks, 1):
        parts.append(f"echo '{BLOCK_MARK}{number}'")
        parts.append(block)
    parts.append(f"echo '{BLOCK_MARK}done'")
    return "\n".join(parts) + "\n"


def failure_report(blocks: list[str], output: str, returncode: int) -> str:
    marks = re.findall(rf"^{BLOCK_MARK}(\w+)$", output, re.MULTILINE)
    last = marks[-1] if marks else "1"
    if last == "done":
        return f"the walk-through ran to its end but bash exited {returncode}:\n{output}"
    number = int(last)
    _, _, since = output.rpartition(f"{BLOCK_MARK}{number}\n")
    return (
        f"walk-through block {number} of {len(blocks)} failed (bash exited {returncode}).\n"
        f"--- the block ---\n{blocks[number - 1]}--- its output ---\n{since}"
    )


def test_extraction_takes_only_bash_blocks_between_the_markers() -> None:
    text = (
        "```bash\necho before\n```\n"
        "SMS_SIMULATION=1 SMS_OPERATOR_TOKEN=op make run\n"
        f"{BEGIN}\n```bash\necho one\n```\n```sh\necho not run\n```\n"
        f"```text\nnot run\n```\n```bash\necho two\n```\n{END}\n```bash\necho after\n```\n"
    )
    walk = read_walkthrough(text)
    assert walk.blocks == ["echo one\n", "echo two\n"]
    assert walk.env == {"SMS_SIMULATION": "1", "SMS_OPERATOR_TOKEN": "op"}


def test_a_failing_block_is_named_with_its_output(tmp_path: Path) -> None:
    blocks = ["echo fine\n", "echo trouble; false\necho never\n", "echo unreached\n"]
    done = subprocess.run(
        ["bash", "-c", script_of(blocks)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode != 0
    report = failure_report(blocks, done.stdout + done.stderr, done.returncode)
    assert "block 2 of 3" in report
    assert "trouble" in report and "never" not in report.split("--- its output ---")[1]


def test_readme_walkthrough_runs_as_written(sqlite_url: str, tmp_path: Path) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the walk-through needs {', '.join(missing)} (the README says so)"
    walk = read_walkthrough(README.read_text(encoding="utf-8"))
    assert walk.env.get("SMS_SIMULATION") == "1", "the walk-through moves the simulated clock"
    service = ServiceProcess(sqlite_url, **walk.env).start()
    try:
        done = subprocess.run(
            ["bash", "-c", script_of(walk.blocks)],
            cwd=tmp_path,
            env={**os.environ, "SMS": service.base, "PY": sys.executable},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
    finally:
        service.stop()
    output = done.stdout
    assert done.returncode == 0, failure_report(walk.blocks, output, done.returncode)
    assert output.rstrip().endswith(f"{BLOCK_MARK}done"), output
