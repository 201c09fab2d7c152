"""schemathesis hooks for the conformance run (``tests/conformance/schemathesis.toml``).

Each generated request is judged on its own, so each gets its own ``Idempotency-Key``: drawn
keys repeat across requests, and a key sent again with another request is refused by design
(422 ``idempotency_key_reused``, tested in ``tests/e2e/test_idempotency_api.py``), which is
not what the positive-data check is about.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """Runs before every request of every phase (generation hooks miss the coverage one)."""
    headers = case.headers or {}
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = f"conformance-{uuid.uuid4()}"
