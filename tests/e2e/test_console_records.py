"""The console's records and statistics pages over HTTP: filters, paging, refusals shown
inline, the CSV and xlsx exports through the session, and another account's pages 404."""

from __future__ import annotations

import csv
import io

from tests.e2e.sending_helpers import (
    FAILS,
    ORDINARY,
    REFUSED,
    advance,
    funded_account,
    hand_over,
    mass_template,
    send_ok,
)
from tests.e2e.test_console_pages import sign_in
from tests.support import Api


def _sent(api: Api) -> tuple[str, str]:
    account_id, key = funded_account(api)
    template_id = mass_template(api, account_id, key)
    send_ok(api, account_id, key, {"template_id": template_id, "product": "site",
                                   "recipients": [*ORDINARY[:2], FAILS, REFUSED]})  # fmt: skip
    hand_over(api)
    advance(api, 3600)
    api.settle()
    return account_id, key


def test_records_filter_and_export_through_the_session(sqlite_api: Api) -> None:
    account_id, key = _sent(sqlite_api)
    assert sign_in(sqlite_api, key).status_code == 303
    base = f"/console/accounts/{account_id}/records"
    page = sqlite_api.client.get(base)
    assert page.status_code == 200, page.text
    assert all(n in page.text for n in [*ORDINARY[:2], FAILS, REFUSED])
    failed = sqlite_api.client.get(base, params={"status": "failed"})
    assert FAILS in failed.text and REFUSED in failed.text and ORDINARY[0] not in failed.text
    assert "delivery_failed" in failed.text and "carrier_refused" in failed.text
    exported = sqlite_api.client.get(f"{base}.csv", params={"status": "failed"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))[1:]
    assert sorted(r[3] for r in rows) == sorted([FAILS, REFUSED]) or len(rows) == 2
    xlsx = sqlite_api.client.get(f"{base}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_bad_filters_are_shown_inline(sqlite_api: Api) -> None:
    account_id, key = funded_account(sqlite_api)
    sign_in(sqlite_api, key)
    base = f"/console/accounts/{account_id}/records"
    for params in ({"status": "nope"}, {"phone": "123"}, {"from": "yesterday"},
                   {"send_id": "x"}, {"cursor": "junk"}):  # fmt: skip
        r = sqlite_api.client.get(base, params=params)
        assert r.status_code == 422, (params, r.text)
        assert 'role="alert"' in r.text and "validation_error" in r.text
    r = sqlite_api.client.get(f"/console/accounts/{account_id}/statistics", params={"from": "x"})
    assert r.status_code == 422 and 'role="alert"' in r.text


def test_statistics_figures_and_another_accounts_pages(sqlite_api: Api) -> None:
    account_id, key = _sent(sqlite_api)
    other, _ = funded_account(sqlite_api, phone="13800138009")
    sign_in(sqlite_api, key)
    r = sqlite_api.client.get(f"/console/accounts/{account_id}/statistics",
                              params={"from": "2000-01-01", "to": "2099-01-01"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert 'role="img"' in r.text and "<caption>" in r.text and "50.0%" in r.text
    for path in ("records", "records.csv", "statistics"):
        assert sqlite_api.client.get(f"/console/accounts/{other}/{path}").status_code == 404
