"""The operator's accounts list over HTTP: names, products and balances from the read models,
searching by name, paging, and opening an account by id."""

from __future__ import annotations

import re

from smsplat.projections.account_directory import AccountDirectory

from tests.e2e.test_console_pages import csrf_of, sign_in
from tests.support import OPERATOR_TOKEN, Api


def test_the_list_shows_every_account_with_its_balance(sqlite_api: Api) -> None:
    bought, key = sqlite_api.new_account("列表花店", "13800138100")
    sqlite_api.buy(bought, key, 5000)
    empty, _ = sqlite_api.new_account("List 0% shop", "13800138101", product=None)
    sqlite_api.settle()
    sign_in(sqlite_api, OPERATOR_TOKEN)
    page = sqlite_api.client.get("/console/accounts")
    assert page.status_code == 200 and "账户列表" in page.text
    rows = _rows(page.text)
    assert rows[bought] == ["列表花店", "site", "5,000", "0", "5,000"]
    assert rows[empty][:2] == ["List 0% shop", "—"] and rows[empty][2] == "0"
    assert "余额不足" in page.text  # the empty one: 0 < 30 (Q9)


def test_searching_by_name_matches_literally(sqlite_api: Api) -> None:
    percent, _ = sqlite_api.new_account("Shop 100% fresh", "13800138102")
    other, _ = sqlite_api.new_account("Shop 100 fresh", "13800138103")
    sqlite_api.settle()
    sign_in(sqlite_api, OPERATOR_TOKEN)
    page = sqlite_api.client.get("/console/accounts", params={"name": "100%"})
    found = _rows(page.text)
    assert percent in found and other not in found
    none = sqlite_api.client.get("/console/accounts", params={"name": "no such name"})
    assert "未找到账户" in none.text


def test_pages_follow_one_another_without_gaps(sqlite_api: Api) -> None:
    made = {sqlite_api.new_account(f"Paged {n}", f"1380013811{n}")[0] for n in range(5)}
    sqlite_api.settle()
    directory = AccountDirectory(sqlite_api.container.db)
    seen: list[str] = []
    after = None
    while True:
        listed = directory.page("Paged", after, limit=2)
        seen += [a.account_id for a in listed.accounts]
        if listed.next_after is None:
            break
        after = listed.next_after
    assert len(seen) == 5 and set(seen) == made  # each once, none missing


def test_the_next_page_link_keeps_the_search(sqlite_api: Api) -> None:
    sign_in(sqlite_api, OPERATOR_TOKEN)
    page = sqlite_api.client.get("/console/accounts", params={"after": "not a keyset"})
    assert page.status_code == 200  # a malformed keyset starts from the first page


def test_an_account_may_not_list_accounts(sqlite_api: Api) -> None:
    _, key = sqlite_api.new_account()
    sign_in(sqlite_api, key)
    assert sqlite_api.client.get("/console/accounts").status_code == 403


def test_opening_a_malformed_id_is_refused_inline(sqlite_api: Api) -> None:
    sign_in(sqlite_api, OPERATOR_TOKEN)
    page = sqlite_api.client.get("/console/accounts")
    r = sqlite_api.client.post(
        "/console/accounts", data={"account_id": "nope", "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text


def _rows(html: str) -> dict[str, list[str]]:
    """The accounts table as {account_id: [name, products, available, locked, bought]}."""
    found: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        link = re.search(r'href="/console/accounts/([0-9a-f-]+)/">([^<]*)</a>', row)
        if not link:
            continue
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        available = cells[2].split()[0]
        found[link.group(1)] = [link.group(2), cells[0], available, cells[3], cells[4]]
    return found
