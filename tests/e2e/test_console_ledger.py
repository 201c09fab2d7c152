"""The console's ledger, opt-out and webhook pages over HTTP: access, CSRF, refusals."""

from __future__ import annotations

import csv
import io

from tests.e2e.test_console_pages import csrf_of, sign_in
from tests.support import CARRIER_TOKEN, Api


def test_the_ledger_lists_the_purchase_and_the_balance_at_an_instant(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    sqlite_api.buy(account_id, key, 1000)
    sqlite_api.settle()  # the ledger is a read model
    sign_in(sqlite_api, key)
    home = f"/console/accounts/{account_id}/ledger"
    page = sqlite_api.client.get(home, params={"kind": "purchase", "at": "2000-01-01T00:00"})
    assert page.status_code == 200, page.text
    assert "购买" in page.text and "1,000" in page.text and 'id="balance-at"' in page.text
    assert "可用 0 条" in page.text
    later = sqlite_api.client.get(home, params={"at": "2099-01-01T00:00"})
    assert "可用 1,000 条" in later.text
    refused = sqlite_api.client.get(home, params={"kind": "gift", "from": "yesterday"})
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    download = sqlite_api.client.get(f"{home}.csv", params={"kind": "purchase"})
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    api_csv = sqlite_api.client.get(
        f"/v1/accounts/{account_id}/ledger", params={"kind": "purchase"},
        headers={**sqlite_api.auth(key), "Accept": "text/csv"},
    )  # fmt: skip
    assert download.text == api_csv.text and rows[1][3:5] == ["purchase", "1000"]


def test_another_accounts_pages_are_not_found(sqlite_api: Api) -> None:
    other, _ = sqlite_api.new_account("Other", "13900139000")
    _, key = sqlite_api.new_account()
    sign_in(sqlite_api, key)
    for path in ("ledger", "ledger.csv", "opt-outs", "webhooks"):
        r = sqlite_api.client.get(f"/console/accounts/{other}/{path}")
        assert r.status_code == 404, path


def test_an_opt_out_is_listed_and_removed(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    r = sqlite_api.client.post(
        "/v1/carrier/replies", headers=sqlite_api.auth(CARRIER_TOKEN),
        json={"replies": [{"phone": "13700137000", "text": "TD", "account_id": account_id}]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    sqlite_api.settle()  # the opt-out list is a read model
    sign_in(sqlite_api, key)
    home = f"/console/accounts/{account_id}/opt-outs"
    page = sqlite_api.client.get(home)
    assert page.status_code == 200 and "13700137000" in page.text
    post = f"{home}/remove"
    no_csrf = sqlite_api.client.post(post, data={"phone": "13700137000"})
    assert no_csrf.status_code == 403
    unknown = sqlite_api.client.post(
        post, data={"phone": "13600136000", "csrf_token": csrf_of(page)}
    )
    assert unknown.status_code == 404 and 'role="alert"' in unknown.text
    done = sqlite_api.client.post(
        post, data={"phone": "13700137000", "csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert done.status_code == 303
    sqlite_api.settle()
    after = sqlite_api.client.get(home)
    assert 'id="removed"' in after.text and '<th scope="row">13700137000' not in after.text


def test_a_webhook_is_added_shown_with_its_secret_once_and_deleted(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    sign_in(sqlite_api, key)
    home = f"/console/accounts/{account_id}/webhooks"
    token = csrf_of(sqlite_api.client.get(home))
    bad = sqlite_api.client.post(home, data={"url": "https://10.1.2.3/hook", "csrf_token": token})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    made = sqlite_api.client.post(
        home, data={"url": "https://93.184.216.34/sms", "events": ["send.status"],
                    "csrf_token": token},
    )  # fmt: skip
    assert made.status_code == 201 and "whsec_" in made.text, made.text
    listed = sqlite_api.client.get(home)
    assert "https://93.184.216.34/sms" in listed.text and "whsec_" not in listed.text
    hooks = sqlite_api.client.get(f"/v1/accounts/{account_id}/webhooks",
                                  headers=sqlite_api.auth(key)).json()["items"]  # fmt: skip
    gone = sqlite_api.client.post(f"{home}/{hooks[0]['webhook_id']}/delete",
                                  data={"csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert gone.status_code == 303
    assert 'id="deleted"' in sqlite_api.client.get(home).text
