"""The OpenAPI document holds: schemathesis with every check (``--checks all``) against a
running ``smsplat serve``, as the operator and as an account.

The checks include: every status and content type answered is documented, every body matches
its schema, headers too, valid requests are accepted and invalid ones refused, unsupported
methods get 405 with a true ``Allow``, authentication is not ignored. The exceptions (rules
beyond JSON Schema) are in ``schemathesis.toml`` beside this file, each with its reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import ADMIN_URL, _with_db, settings_for
from tests.ledger_check import assert_ledger_verifies
from tests.service_process import ServiceProcess
from tests.support import OPERATOR_TOKEN

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
RUN_DEADLINE = 30 * 60  # seconds for one whole run: generous, for a busy 2-core machine


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    """A service on its own PostgreSQL database; its ledger verified after both runs."""
    name = f"smsplat_conformance_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(ADMIN_URL, name)
    running = ServiceProcess(url, SMS_WEBHOOK_ALLOW_PRIVATE="1").start()
    try:
        yield running
        running.stop()
        assert_ledger_verifies(url, settings_for(url))
    finally:
        running.stop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(base: str) -> tuple[str, dict[str, str]]:
    """An account with units, an approved mass template, a send and a webhook: their ids, so
    the generated requests reach real resources. Returns the account's API key too."""
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with httpx.Client(base_url=base, timeout=600) as http:

        def post(path: str, body: object, headers: dict[str, str]) -> dict[str, str]:
            r = http.post(path, json=body, headers=headers)
            assert r.status_code < 300, f"{path}: {r.status_code} {r.text}"
            answer: dict[str, str] = r.json()
            return answer

        account = post("/v1/accounts", {"name": "花店", "verification_phone": "13800138000"},
                       operator)  # fmt: skip
        aid, key = account["account_id"], account["api_key"]
        own = {"Authorization": f"Bearer {key}"}
        post(f"/v1/accounts/{aid}/products", {"product": "site"}, operator)
        post(f"/v1/accounts/{aid}/purchases", {"package_size": 10000}, own)
        template = post(f"/v1/accounts/{aid}/templates", {"type": "mass", "kind": "notice",
                        "signature": "花店", "content": "会员日到店有礼。"}, own)  # fmt: skip
        tid = template["template_id"]
        post(f"/v1/templates/{tid}/approve", {}, operator)
        send = post(f"/v1/accounts/{aid}/sends",
                    {"template_id": tid, "recipients": ["13812340005"], "product": "site"},
                    own)  # fmt: skip
        webhook = {"url": "http://127.0.0.1:9/hook", "events": ["message.status"]}
        hook = post(f"/v1/accounts/{aid}/webhooks", webhook, own)
    ids = {
        "SMS_ACCOUNT_ID": aid,
        "SMS_TEMPLATE_ID": tid,
        "SMS_SEND_ID": send["send_id"],
        "SMS_MESSAGE_ID": f"{send['send_id']}.0",
        "SMS_WEBHOOK_ID": hook["webhook_id"],
    }
    return key, ids


def _schemathesis(base: str, token: str, ids: dict[str, str]) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
        "--checks", "all",
        "--max-examples", "10", "--seed", "1", "--workers", "1",
        "--phases", "examples,coverage,fuzzing", "--request-timeout", "300",
    ]  # fmt: skip
    env = {**os.environ, **ids, "SMS_TOKEN": token, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=RUN_DEADLINE, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def seeded(service: ServiceProcess) -> tuple[str, dict[str, str]]:
    return _seed(service.base)


@pytest.mark.parametrize("who", ["operator", "account"])
def test_every_check_passes(
    service: ServiceProcess, seeded: tuple[str, dict[str, str]], who: str
) -> None:
    key, ids = seeded
    token = OPERATOR_TOKEN if who == "operator" else key
    run = _schemathesis(service.base, token, ids)
    report = run.stdout[-12_000:] + run.stderr[-3_000:]
    assert run.returncode == 0, report
