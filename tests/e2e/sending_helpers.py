"""HTTP helpers for the sending and receipt end-to-end tests (S1, S2, S5, S10, Q5–Q10)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import pytest
from smsplat.commands.ports import OutgoingMessage, Submission

from tests.e2e.helpers import auth, balance, figures, ledger
from tests.e2e.template_helpers import approved_template, business, mass
from tests.support import CARRIER_TOKEN, OPERATOR_TOKEN, Api

# Ordinary numbers: the simulated carrier delivers them 3 s after hand-over.
ORDINARY = [f"1381234{n:04d}" for n in range(5, 9)]  # 13812340005 .. 13812340008
FAILS = "13912340001"  # a `failed` receipt 5 s after hand-over
SILENT = "13912340002"  # no receipt ever: unknown after 72 h
REFUSED = "13912340003"  # refused by the carrier at submission

# A mass notice whose rendered text (with 【花店】) is well over 65 characters (Q6: 2 units).
LONG_CONTENT = (
    "春季新品已到店,会员凭短信到店享九折优惠,详询门店。"
    "本店地址在人民路一号,营业时间为每天上午九点至晚上九点,欢迎新老顾客光临选购。"
)
# A mass notice with a placeholder, to reach a length exactly by its variable.
NAMED_CONTENT = "尊敬的会员#name#,春季新品已到店,凭本短信到店即可享受九折优惠,详情请咨询门店。"
NAMED_BASE_LENGTH = 41  # 【花店】 and the content without #name#: a 24-character name makes 65


def funded_account(api: Api, size: int = 1000, phone: str = "13800138000") -> tuple[str, str]:
    """An account with the `site` product and one package bought; (account_id, api_key)."""
    account_id, key = api.new_account(phone=phone)
    if size:
        api.buy(account_id, key, size)
    return account_id, key


def business_template(api: Api, account_id: str, key: str, scenario: str = "register") -> str:
    template_id: str = approved_template(api, account_id, key, business(scenario))
    return template_id


def mass_template(
    api: Api, account_id: str, key: str, content: str | None = None, kind: str = "notice"
) -> str:
    body = mass(kind=kind) if content is None else mass(content, kind=kind)
    template_id: str = approved_template(api, account_id, key, body)
    return template_id


def _headers(token: str, idempotency_key: str | None) -> dict[str, str]:
    headers: dict[str, str] = auth(token)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def post_message(
    api: Api, account_id: str, token: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account_id}/messages", json=body, headers=_headers(token, key)
    )
    return r


def post_send(
    api: Api, account_id: str, token: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    r: httpx.Response = api.client.post(
        f"/v1/accounts/{account_id}/sends", json=body, headers=_headers(token, key)
    )
    return r


def send_ok(api: Api, account_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """A mass send that must be accepted (202); its response body."""
    r = post_send(api, account_id, token, body)
    assert r.status_code == 202, r.text
    out: dict[str, Any] = r.json()
    return out


def get_send(api: Api, send_id: str, token: str = OPERATOR_TOKEN) -> dict[str, Any]:
    r = api.client.get(f"/v1/sends/{send_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def get_message(api: Api, message_id: str, token: str = OPERATOR_TOKEN) -> dict[str, Any]:
    r = api.client.get(f"/v1/messages/{message_id}", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def messages_page(
    api: Api, send_id: str, token: str = OPERATOR_TOKEN, **params: Any
) -> dict[str, Any]:
    r = api.client.get(f"/v1/sends/{send_id}/messages", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def all_messages(
    api: Api, send_id: str, token: str = OPERATOR_TOKEN, **params: Any
) -> list[dict[str, Any]]:
    """Every message of a send (walking the pages), in recipient order."""
    items: list[dict[str, Any]] = []
    cursor: int | None = None
    for _ in range(1000):
        query = dict(params) if cursor is None else {**params, "cursor": cursor}
        page = messages_page(api, send_id, token, **query)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never end")


def list_sends(
    api: Api, account_id: str, token: str = OPERATOR_TOKEN, **params: Any
) -> list[dict[str, Any]]:
    r = api.client.get(f"/v1/accounts/{account_id}/sends", params=params, headers=auth(token))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def dashboard(api: Api, account_id: str, token: str = OPERATOR_TOKEN) -> dict[str, Any]:
    r = api.client.get(f"/v1/accounts/{account_id}/dashboard", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def advance(api: Api, seconds: float) -> str:
    """Move the simulated clock; returns once all that is due has been processed."""
    r = api.client.post("/v1/sim/clock", json={"advance_seconds": seconds}, headers=auth())
    assert r.status_code == 200, r.text
    now: str = r.json()["now"]
    return now


def post_receipts(
    api: Api, receipts: list[dict[str, Any]], token: str | None = CARRIER_TOKEN
) -> httpx.Response:
    headers = auth(token) if token is not None else {}
    r: httpx.Response = api.client.post(
        "/v1/carrier/receipts", json={"receipts": receipts}, headers=headers
    )
    return r


def hand_over(api: Api) -> None:
    """Let the send worker hand over, at the current simulated instant, what was accepted.

    The background worker does this by itself a moment later; moving the clock before it has
    would stamp the hand-over (and so the receipts' due times) at the new time. See
    ``test_S10_moving_the_clock_first_hands_over_what_was_already_accepted``.
    """
    advance(api, 0)


def unit_moves(api: Api, account_id: str) -> tuple[tuple[int, int, int, int, int], list[str]]:
    """The account's balance figures and the kinds of its ledger entries (to prove no change)."""
    api.settle()
    return figures(balance(api, account_id)), [e["kind"] for e in ledger(api, account_id)]


class CarrierSpy:
    """What the send worker hands to the (simulated) carrier: each call (a batch, S5) and
    every message, in order. Batches are claimed before they are handed over, so each message
    appears once here unless a worker died mid-batch."""

    def __init__(self) -> None:
        self.calls: list[list[OutgoingMessage]] = []
        self.handed: list[OutgoingMessage] = []

    def ids(self) -> list[str]:
        """Distinct message ids handed over, in the order first handed."""
        return list(dict.fromkeys(m.message_id for m in self.handed))

    def get(self, message_id: str) -> OutgoingMessage | None:
        return next((m for m in self.handed if m.message_id == message_id), None)


def spy_on_carrier(api: Api, monkeypatch: pytest.MonkeyPatch) -> CarrierSpy:
    """Record what the worker gives the carrier; the carrier still answers as before."""
    spy = CarrierSpy()
    carrier = api.container.carrier
    real_submit = carrier.submit

    def submit(messages: Sequence[OutgoingMessage], at: datetime) -> list[Submission]:
        spy.calls.append(list(messages))
        spy.handed.extend(messages)
        answers: list[Submission] = real_submit(messages, at)
        return answers

    monkeypatch.setattr(carrier, "submit", submit)
    return spy


def carrier_record(api: Api, message_id: str) -> tuple[str | None, str] | None:
    """(phone, text) of a message as the simulated carrier itself recorded it, or None.

    The carrier's own record is read whichever way it keeps it (``text_of`` or ``texts``);
    where it does not keep the phone, the phone is None.
    """
    carrier: Any = api.container.carrier
    if hasattr(carrier, "text_of"):
        found: tuple[str, str] | None = carrier.text_of(message_id)
        return found
    texts: dict[str, str] = carrier.texts
    return (None, texts[message_id]) if message_id in texts else None
