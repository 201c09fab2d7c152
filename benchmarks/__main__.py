"""``python -m benchmarks [performance|quota|sending|campaigns|smpp|webhooks|exports|console]``:
run the benchmarks and print their figures."""

from __future__ import annotations

import sys

from . import campaigns, console, exports, performance, quota, sending, smpp, webhooks

SUITES = {
    "performance": performance.run,
    "quota": quota.run,
    "sending": sending.run,
    "campaigns": campaigns.run,
    "smpp": smpp.run,
    "webhooks": webhooks.run,
    "exports": exports.run,
    "console": console.run,
}


def main() -> None:
    chosen = sys.argv[1:] or list(SUITES)
    for name in chosen:
        SUITES[name]()


if __name__ == "__main__":
    main()
