"""The platform's notices to an account, as SMS to its verification phone, each once (the
way Q9's low-balance alert goes: ``commands/alert_handover.py``)."""

from __future__ import annotations

from uuid import UUID

from .accounts import AccountsApp
from .alert_handover import AlertHandover, PlatformNotice

WORKER = "notices"


class SmsNotices:
    """``AccountNotices`` by SMS: claimed by the notice's id, so it goes once."""

    def __init__(self, accounts: AccountsApp, alerts: AlertHandover) -> None:
        self.accounts = accounts
        self.alerts = alerts

    def notify(self, account_id: str, notice_id: str, text: str) -> None:
        phone = self.accounts.account(UUID(account_id)).verification_phone
        self.alerts.hand_over_notice(PlatformNotice(notice_id, account_id, phone, text), WORKER)
