"""A recipient's reply to an account (an MO), kept so the account's webhooks are told of it
(``reply.received``), opt-out or not.

One ``ReceivedReply`` per (account, reply): a reply the carrier gives twice is one reply.
It is known by what it is: the carrier's id for it where the carrier gave one, else its
number, time and text (a carrier repeating a reply repeats all three).
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate


def received_reply_id(
    account_id: UUID | str, phone: str, at: datetime, text: str, carrier_reply_id: str | None
) -> UUID:
    """The reply's id for one account (see the module's docstring)."""
    what = carrier_reply_id if carrier_reply_id else f"{phone}:{at.isoformat()}:{text}"
    return uuid5(NAMESPACE_URL, f"smsplat:reply:{account_id}:{what}")


class ReceivedReply(Aggregate):
    class Received(Aggregate.Created):
        account_id: str
        phone: str
        text: str
        replied_at: datetime
        opt_out: bool  # the text is an opt-out keyword
        carrier_reply_id: str | None

    def __init__(
        self,
        account_id: str,
        phone: str,
        text: str,
        replied_at: datetime,
        opt_out: bool,
        carrier_reply_id: str | None,
    ) -> None:
        self.account_id = account_id
        self.phone = phone
        self.text = text
        self.replied_at = replied_at
        self.opt_out = opt_out
        self.carrier_reply_id = carrier_reply_id

    @classmethod
    def receive(
        cls,
        account_id: UUID,
        phone: str,
        text: str,
        replied_at: datetime,
        opt_out: bool,
        carrier_reply_id: str | None,
        at: datetime,
    ) -> ReceivedReply:
        return cls._create(
            cls.Received,
            id=received_reply_id(account_id, phone, replied_at, text, carrier_reply_id),
            account_id=str(account_id), phone=phone, text=text, replied_at=replied_at,
            opt_out=opt_out, carrier_reply_id=carrier_reply_id, timestamp=at,
        )  # fmt: skip
