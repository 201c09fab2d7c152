"""SMPP benchmark (issue 13) against a real ``smsplat serve`` process and the test SMSC
(node-smpp, ``tests/smsc``): (k) a 10,000-recipient send handed over through one bind with a
window of 64, and (l) until every receipt is settled; beside it, the SMSC's own raw rate (its
own client, the same window, in the same run), the base of the ratio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import httpx

from tests.smsc_server import HERE, running_smsc

from .database import drop_database, fresh_database
from .sending import Service, _account, _api, _wait

RECIPIENTS = 10_000
WINDOW = 64
# how often the send is looked at, as a progress bar would (each look is a GET of the send; 50
# a second took half the service's Python time from the hand-over it measured)
POLL_SECONDS = 0.1


def _raw_rate(port: int) -> float:
    node = shutil.which("node") or "node"
    done = subprocess.run([node, str(HERE / "blast.js"), str(port), str(RECIPIENTS),
                           str(WINDOW)], capture_output=True, text=True, timeout=300,
                          check=True)  # fmt: skip
    figures = json.loads(done.stdout.splitlines()[-1])
    return float(figures["messages"]) / float(figures["seconds"])


def run() -> None:
    name, url = fresh_database()
    with running_smsc() as smsc:
        carriers = json.dumps([{"name": "bench", "url": smsc.url(window=WINDOW)}])
        svc = Service(url, {"SMS_CARRIERS": carriers})
        try:
            print(f"smsplat SMPP benchmark on PostgreSQL and node-smpp ({os.cpu_count()} cores)")
            with httpx.Client(base_url=svc.base, timeout=60) as client:
                aid, key, mass, _ = _account(client, packages=1)
                numbers = "\n".join(f"139{n:04d}{5000 + n % 4000:04d}" for n in range(RECIPIENTS))
                sent = _api(client, "POST", f"/v1/accounts/{aid}/sends", key,
                            {"template_id": mass, "recipients_text": numbers})  # fmt: skip
                started = time.perf_counter()

                def counts() -> dict[str, int]:
                    path = f"/v1/sends/{sent['send_id']}"
                    return dict(_api(client, "GET", path, key)["counts"])

                handed = _wait(lambda: counts()["pending"] == 0, 600, POLL_SECONDS)
                _wait(lambda: counts()["success"] == RECIPIENTS, 600, POLL_SECONDS)
                settled = time.perf_counter() - started
            took = smsc.stats()["parts"]
            raw = _raw_rate(smsc.port)
            print(f"  (k) 10,000 handed over, one bind, window {WINDOW}  {handed:7.2f} s   "
                  f"{RECIPIENTS / handed:6.0f}/s   (target 1,000/s)")  # fmt: skip
            print(f"  (l) every receipt settled                  {settled:7.2f} s   "
                  f"(the send looked at every {POLL_SECONDS} s)")  # fmt: skip
            print(f"      the SMSC took {took} parts; its own client's raw rate {raw:6.0f}/s "
                  f"(k) / raw = {RECIPIENTS / handed / raw:.2f}")  # fmt: skip
            print(f"      service peak resident memory          {svc.peak_rss_mb():7.0f} MB")
        finally:
            svc.stop()
            drop_database(name)
