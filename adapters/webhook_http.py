"""Webhook receivers over HTTPS (``commands.ports.WebhookReceivers``).

- **Signed** per the Standard Webhooks specification with the maintained ``standardwebhooks``
  package: ``webhook-id`` (the delivery's id, the same on every attempt), ``webhook-timestamp``
  (the attempt's wall-clock time, which receivers check against theirs) and
  ``webhook-signature``, one ``v1,…`` per secret (two during a rotation's overlap).
- **Guarded against SSRF**: the URL's host is resolved at every attempt (a name that once
  resolved to a public address may resolve elsewhere later) and every address must be public;
  a private, loopback, link-local, multicast or reserved one is refused without a request.
  ``SMS_WEBHOOK_ALLOW_PRIVATE=1`` lifts this (and allows http) for development and tests.
- A 10 s timeout; redirects are never followed (a 3xx is a failure).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from math import floor
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from ..commands.ports import ReceiverAnswer

TIMEOUT_SECONDS = 10.0


class BlockedAddress(ValueError):
    """The URL leads to an address webhooks may not reach."""


def check_public(url: str) -> None:
    """Raise ``BlockedAddress`` unless every address ``url``'s host resolves to is public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise BlockedAddress(f"{host} does not resolve ({error})") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise BlockedAddress(f"{host} resolves to {address}, which is not public")


def refusal(url: str) -> str | None:
    """Why webhooks may not call ``url`` (checked when an endpoint is created), or None."""
    try:
        check_public(url)
    except BlockedAddress as why:
        return str(why)
    return None


class HttpReceivers:
    def __init__(self, allow_private: bool = False, timeout: float = TIMEOUT_SECONDS) -> None:
        self.allow_private = allow_private
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, url: str, delivery_id: str, body: str, secrets: Sequence[str]) -> ReceiverAnswer:
        started = time.perf_counter()
        if not self.allow_private:
            try:
                check_public(url)
            except BlockedAddress as why:
                return ReceiverAnswer(None, f"blocked_address: {why}", 0.0)
        if not secrets:
            return ReceiverAnswer(None, "no_secret", 0.0)
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "smsplat-webhooks/1",
            "webhook-id": delivery_id,
            "webhook-timestamp": str(floor(now.timestamp())),
            "webhook-signature": " ".join(Webhook(s).sign(delivery_id, now, body) for s in secrets),
        }
        try:
            answer = self.client.post(url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            return ReceiverAnswer(None, "timeout", _ms(started))
        except httpx.HTTPError as failed:
            return ReceiverAnswer(None, f"{type(failed).__name__}: {failed}"[:200], _ms(started))
        redirect = "redirect_not_followed" if 300 <= answer.status_code < 400 else None
        return ReceiverAnswer(answer.status_code, redirect, _ms(started))

    def close(self) -> None:
        self.client.close()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
