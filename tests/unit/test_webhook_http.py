"""The SSRF guard of the webhook sender (``adapters/webhook_http.py``), before any request."""

from __future__ import annotations

import pytest
from smsplat.adapters.webhook_http import HttpReceivers, refusal


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/x", "https://10.0.0.8/x", "https://192.168.1.2/x",
     "https://169.254.169.254/latest/meta-data", "https://[::1]/x", "https://[fe80::1]/x",
     "https://localhost/x", "https://0.0.0.0/x"],
)  # fmt: skip
def test_every_attempt_refuses_a_url_that_resolves_to_a_private_address(url: str) -> None:
    """Checked again before each attempt, not only at creation: a name may resolve
    elsewhere later. No request is made (latency 0)."""
    sender = HttpReceivers(allow_private=False)
    try:
        answer = sender.post(url, "msg_1", "{}", ["whsec_" + "A" * 32])
    finally:
        sender.close()
    assert answer.status_code is None and answer.latency_ms == 0.0
    assert answer.error is not None and answer.error.startswith("blocked_address")
    assert refusal(url) is not None


def test_a_public_address_is_not_refused() -> None:
    assert refusal("https://8.8.8.8/hook") is None
