"""The web console over HTTP (no browser): sessions, CSRF, access, languages, the overview."""

from __future__ import annotations

import base64
import json
import re

import httpx
from smsplat.api.console.app import SESSION_COOKIE
from smsplat.api.console.config import ConsoleConfig

from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN, Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(api: Api, token: str) -> httpx.Response:
    form = api.client.get("/console/sign-in")
    answer: httpx.Response = api.client.post(
        "/console/sign-in",
        data={"token": token, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )
    return answer


def test_pages_are_closed_until_sign_in_and_chinese_by_default(sqlite_api: Api) -> None:
    root = sqlite_api.client.get("/", follow_redirects=False)  # the site's root is the console
    assert root.status_code == 307 and root.headers["location"] == "/console/"
    r = sqlite_api.client.get("/console/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in"
    page = sqlite_api.client.get("/console/sign-in")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text


def test_accept_language_picks_english_on_a_first_visit(sqlite_api: Api) -> None:
    page = sqlite_api.client.get("/console/sign-in", headers={"Accept-Language": "en-GB,zh;q=0.5"})
    assert '<html lang="en">' in page.text and "Sign in" in page.text


def test_the_session_cookie_is_httponly_strict_and_holds_no_token(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    r = sign_in(sqlite_api, key)
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    flags = [f.strip().lower() for f in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/console" in flags
    assert "secure" not in flags  # SMS_SIMULATION=1: development, over plain http
    value = sqlite_api.client.cookies[SESSION_COOKIE]
    payload = json.loads(base64.b64decode(value.split(".")[0]))
    assert payload["who"] == {"kind": "account", "account_id": account_id}
    assert key not in json.dumps(payload) and key.split(".")[-1] not in cookie


def test_the_cookie_is_secure_outside_development() -> None:
    assert ConsoleConfig.of("t", None, 480, None, development=False).secure_cookie
    assert not ConsoleConfig.of("t", None, 480, None, development=True).secure_cookie
    assert ConsoleConfig.of("t", None, 480, True, development=True).secure_cookie
    assert (
        ConsoleConfig.of("a", None, 1, None, False).session_secret
        != ConsoleConfig.of("b", None, 1, None, False).session_secret
    )


def test_a_wrong_token_and_the_carrier_token_do_not_sign_in(sqlite_api: Api) -> None:
    for token in ("not-a-key", CARRIER_TOKEN, "密钥"):
        r = sign_in(sqlite_api, token)
        assert r.status_code == 401, token
        assert "这不是有效的 API 密钥或运营方令牌。" in r.text
    assert sqlite_api.client.get("/console/", follow_redirects=False).status_code == 303


def test_a_post_without_this_sessions_csrf_token_is_refused(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    assert sign_in(sqlite_api, key).status_code == 303
    for token in (None, "forged"):
        data = {"package_size": "1000"} | ({"csrf_token": token} if token else {})
        r = sqlite_api.client.post(f"/console/accounts/{account_id}/purchases", data=data)
        assert r.status_code == 403 and "表单被拒绝" in r.text
    sqlite_api.settle()
    assert sqlite_api.container.ledger.balance(account_id).purchased_total == 0


def test_an_account_buys_a_package_and_sees_it(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    assert sign_in(sqlite_api, key).headers["location"] == "/console/"
    overview = sqlite_api.client.get("/console/")
    assert overview.url.path == f"/console/accounts/{account_id}/"
    assert "概览" in overview.text and 'id="low-balance"' in overview.text
    r = sqlite_api.client.post(
        f"/console/accounts/{account_id}/purchases",
        data={"package_size": "5000", "csrf_token": csrf_of(overview)},
    )
    assert r.status_code == 200 and "已购买5,000条短信包，当前可用5,000条。" in r.text
    sqlite_api.settle()
    again = sqlite_api.client.get(f"/console/accounts/{account_id}/")
    assert re.search(r'id="available">5,000<', again.text) and 'id="low-balance"' not in again.text


def test_refusals_show_the_apis_code_and_message_in_either_language(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account(product=None)
    sign_in(sqlite_api, key)
    page = sqlite_api.client.get("/console/")
    buy = f"/console/accounts/{account_id}/purchases"
    r = sqlite_api.client.post(buy, data={"package_size": "1000", "csrf_token": csrf_of(page)})
    assert r.status_code == 409 and "<code>no_active_product</code>" in r.text  # Q3
    assert "账户须至少开通一个其他产品" in r.text
    r = sqlite_api.client.post(buy, data={"package_size": "2000", "csrf_token": csrf_of(page)})
    assert r.status_code == 422 and "<code>invalid_package</code>" in r.text  # Q1
    assert "没有2000条的短信包" in r.text
    sqlite_api.client.post(
        "/console/language", data={"lang": "en", "next": buy, "csrf_token": csrf_of(page)}
    )
    r = sqlite_api.client.post(buy, data={"package_size": "1000", "csrf_token": csrf_of(page)})
    assert '<html lang="en">' in r.text and "at least one active product" in r.text


def test_an_account_cannot_open_another_accounts_pages(sqlite_api: Api) -> None:
    _, key = sqlite_api.new_account()
    other, _ = sqlite_api.new_account("Other", "13900139000")
    sign_in(sqlite_api, key)
    assert sqlite_api.client.get(f"/console/accounts/{other}/").status_code == 404
    assert sqlite_api.client.get(f"/console/accounts/{other}/balance").status_code == 404
    assert sqlite_api.client.get("/console/accounts").status_code == 403
    assert sqlite_api.client.get("/console/accounts/not-a-uuid/").status_code == 404


def test_the_operator_switches_to_any_account(sqlite_api: Api) -> None:
    account_id, _ = sqlite_api.new_account()
    assert sign_in(sqlite_api, OPERATOR_TOKEN).status_code == 303
    chooser = sqlite_api.client.get("/console/")
    assert chooser.url.path == "/console/accounts" and "账户列表" in chooser.text
    r = sqlite_api.client.post(
        "/console/accounts", data={"account_id": account_id, "csrf_token": csrf_of(chooser)}
    )
    assert r.url.path == f"/console/accounts/{account_id}/" and "Acme 花店" in r.text
    missing = sqlite_api.client.post(
        "/console/accounts",
        data={"account_id": "0" * 32, "csrf_token": csrf_of(chooser)},
    )
    assert missing.status_code == 404


def test_sign_out_closes_the_pages(sqlite_api: Api) -> None:
    account_id, key = sqlite_api.new_account()
    sign_in(sqlite_api, key)
    page = sqlite_api.client.get("/console/")
    r = sqlite_api.client.post(
        "/console/sign-out", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in"
    closed = sqlite_api.client.get(f"/console/accounts/{account_id}/", follow_redirects=False)
    assert closed.status_code == 303 and closed.headers["location"] == "/console/sign-in"


def test_the_language_switch_is_remembered(sqlite_api: Api) -> None:
    page = sqlite_api.client.get("/console/sign-in")
    r = sqlite_api.client.post(
        "/console/language",
        data={"lang": "en", "next": "//evil.example/", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console/"
    assert '<html lang="en">' in sqlite_api.client.get("/console/sign-in").text
