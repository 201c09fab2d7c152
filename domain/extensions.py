"""Extension codes: each account's own digits after the carrier's ``source_addr``.

A message goes out from ``source_addr`` + the account's extension, so a recipient's reply
(MO) to that number names the account it answers (contract: Carriers). Codes are assigned in
order, one per account, when the account is created, by one small registry aggregate saved
in the same transaction as the account: two accounts never share a code, and an account's
code never changes. Four digits (0001–9999), then five, and so on.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

REGISTRY_ID = uuid5(NAMESPACE_URL, "smsplat:extension-registry")
MIN_DIGITS = 4


class ExtensionRegistry(Aggregate):
    class Opened(Aggregate.Created):
        pass

    class Assigned(Aggregate.Event):
        account_id: str
        extension: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ExtensionRegistry)
            aggregate.by_account[self.account_id] = self.extension
            aggregate.by_extension[self.extension] = self.account_id

    def __init__(self) -> None:
        self.by_account: dict[str, str] = {}
        self.by_extension: dict[str, str] = {}

    @classmethod
    def open(cls, at: datetime) -> ExtensionRegistry:
        return cls._create(cls.Opened, id=REGISTRY_ID, timestamp=at)

    def assign(self, account_id: UUID, at: datetime) -> str:
        """The account's code, assigned now if it has none (the next in order)."""
        known = self.by_account.get(str(account_id))
        if known is not None:
            return known
        code = str(len(self.by_account) + 1).zfill(MIN_DIGITS)
        self.trigger_event(self.Assigned, account_id=str(account_id), extension=code,
                           timestamp=at)  # fmt: skip
        return code

    def account_for(self, extension: str) -> UUID | None:
        found = self.by_extension.get(extension)
        return UUID(found) if found else None
