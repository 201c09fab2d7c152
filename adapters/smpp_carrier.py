"""A carrier over SMPP 3.4: one transceiver bind to an SMSC, on smpplib (synchronous, which
fits the carrier port; see the README for why this client and not others).

- **Bind**: ``bind_transceiver`` on first use and again after a loss, with backoff (1 s
  doubling to 30 s); ``enquire_link`` whenever the line is idle for ``timeout`` seconds. A
  reader thread reads every PDU: ``submit_sm_resp``, receipts and replies (``deliver_sm``).
- **Window and rate**: at most ``window`` ``submit_sm`` await their response; at most ``tps``
  are sent a second. ``ESME_RTHROTTLED`` and ``ESME_RMSGQFUL`` are retried after a pause that
  grows; past ``MAX_THROTTLED`` in a row the bind counts as throttling and the messages not yet
  taken are left for another carrier.
- **Parts**: each part's SMSC id is journalled (``smpp_journal.py``) when its response comes;
  a message refused at submission is answered refused (failed and refunded, Q7).
- **Receipts**: ``deliver_sm`` with the receipt flag; the ``receipted_message_id`` and
  ``message_state`` TLVs when present, else the ``id:… stat:…`` text. ``DELIVRD`` is delivered;
  ``UNDELIV``, ``REJECTD``, ``EXPIRED``, ``DELETED`` failed; ``ACCEPTD`` and ``UNKNOWN`` still
  waiting (Q8 decides). They reach the platform through ``due_receipts``, the same guarded
  path as ``POST /v1/carrier/receipts``.
- **Replies** (MO): any other ``deliver_sm``, handed to ``on_reply``.

SMPP has no field for our message id and an SMSC deduplicates nothing: a ``submit_sm`` sent
twice is two messages to a person. Exactly once is the journal's and the worker's claims',
not the protocol's.
"""

from __future__ import annotations

import itertools
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from ..commands.ports import OutgoingMessage, Submission
from .smpp_encoding import decode, encode
from .smpp_journal import DELIVERED, FAILED, AcceptedPart, SmppJournal

log = logging.getLogger(__name__)

NETWORKS = ("cmcc", "unicom", "telecom")
MAX_THROTTLED = 20  # throttling answers in a row before the bind counts as throttling
RESPONSE_SECONDS = 30.0  # how long a submit_sm may wait for its response
THROTTLED = {smpplib.consts.SMPP_ESME_RTHROTTLED, smpplib.consts.SMPP_ESME_RMSGQFUL}
FINAL_STATES = {"DELIVRD": DELIVERED, "UNDELIV": FAILED, "REJECTD": FAILED,
                "EXPIRED": FAILED, "DELETED": FAILED}  # fmt: skip
MESSAGE_STATES = {2: DELIVERED, 3: FAILED, 4: FAILED, 5: FAILED, 8: FAILED}  # TLV values
RECEIPT_TEXT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)", re.S)
RECEIPT_FLAG = 0x04


class CarrierUnavailable(RuntimeError):
    """The carrier could not take the messages now (not bound, or throttling)."""


@dataclass(frozen=True)
class SmppEndpoint:
    """One entry of ``SMS_CARRIERS``: ``smpp://system_id:password@host:port?source_addr=…``."""

    name: str
    host: str
    port: int
    system_id: str
    password: str
    source_addr: str
    window: int = 16
    tps: float | None = None
    networks: tuple[str, ...] = NETWORKS
    priority: int = 0
    response_seconds: float = RESPONSE_SECONDS  # how long a submit_sm_resp may take

    @classmethod
    def parse(cls, entry: dict[str, Any]) -> SmppEndpoint:
        url = urlsplit(str(entry["url"]))
        if url.scheme != "smpp" or not url.hostname or not url.port:
            raise ValueError(f"carrier {entry.get('name')!r}: url must be smpp://…@host:port")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        networks = tuple(entry.get("networks") or NETWORKS)
        if unknown := set(networks) - set(NETWORKS):
            raise ValueError(f"carrier {entry.get('name')!r}: unknown networks {unknown}")
        return cls(
            name=str(entry["name"]), host=url.hostname, port=url.port,
            system_id=unquote(url.username or ""), password=unquote(url.password or ""),
            source_addr=query.get("source_addr", ""), window=int(query.get("window", 16)),
            tps=float(query["tps"]) if "tps" in query else None, networks=networks,
            priority=int(entry.get("priority", 0)),
            response_seconds=float(query.get("response_timeout", RESPONSE_SECONDS)),
        )  # fmt: skip


@dataclass
class CarrierCounters:
    submitted: int = 0  # parts the SMSC took
    refused: int = 0  # messages refused at submission
    throttled: int = 0  # throttling answers
    receipts: int = 0
    replies: int = 0
    binds: int = 0
    bind_failures: int = 0


class _Flight:
    """The parts one ``submit_some`` call sent: its caller waits until every one is settled,
    that is answered and (if taken) journalled, or given up with its bind."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open = 0

    def sent(self) -> None:
        with self._changed:
            self._open += 1

    def settled(self) -> None:
        with self._changed:
            self._open -= 1
            if self._open == 0:
                self._changed.notify_all()

    def wait(self, deadline: float) -> bool:
        """Whether every part sent is settled, waiting until ``deadline`` (monotonic)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._open == 0, timeout=max(0.0, deadline - time.monotonic())
            )


@dataclass
class _Pending:
    message_id: str
    part: int
    parts: int
    short_message: bytes
    data_coding: int
    esm_class: int
    flight: _Flight
    status: int | None = None  # the response's command_status; None: no response (yet)
    carrier_id: str | None = None
    journaled: bool = False  # taken and stored in the journal, or refused

    def settle(self, status: int | None, journaled: bool) -> None:
        self.status = status
        self.journaled = journaled
        self.flight.settled()


class _Sequences:
    """``sequence_number``s for one bind, safe to draw from the worker's thread and the
    reader's (which sends ``enquire_link``): smpplib's own generator is not."""

    MAX = 0x7FFFFFFF

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    @property
    def sequence(self) -> int:
        return self._last

    def next_sequence(self) -> int:
        with self._lock:
            self._last = self._last % self.MAX + 1
            return self._last


class _Client(smpplib.client.Client):  # type: ignore[misc]
    """smpplib's client with one lock around writes: the worker sends ``submit_sm`` while the
    reader thread answers ``deliver_sm`` and ``enquire_link`` on the same socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.write_lock = threading.Lock()

    def send_pdu(self, p: Any) -> bool:
        with self.write_lock:
            return bool(super().send_pdu(p))


class SmppCarrier:
    def __init__(
        self,
        endpoint: SmppEndpoint,
        journal: SmppJournal,
        on_reply: Callable[[str, str, str], None] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.endpoint = endpoint
        self.name = endpoint.name
        self.journal = journal
        # (from, to, text) of a recipient's reply; kept in the journal unless told otherwise
        self.on_reply = on_reply or (
            lambda source, destination, text: journal.reply(
                endpoint.name, source, destination, text,
                destination.removeprefix(endpoint.source_addr),
            )
        )  # fmt: skip
        self.timeout = timeout
        self.counters = CarrierCounters()
        self.state = "unbound"  # unbound | bound | down | refused | throttling
        self.last_error: str | None = None
        self._client: _Client | None = None
        self._lock = threading.Lock()  # the bind and the pending responses
        self._pending: dict[int, _Pending] = {}
        self._window = threading.BoundedSemaphore(endpoint.window)
        self._retry_at = 0.0
        self._backoff = 1.0
        self._sent_at: list[float] = []
        self._stopping = False
        self._reader: threading.Thread | None = None
        # the reader thread never waits on the database: what it learns goes to the writer
        self._writes: queue.Queue[_Pending | tuple[str, str, datetime]] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name=f"smpp-journal-{self.name}",
                                        daemon=True)  # fmt: skip
        self._writer.start()

    # -- the carrier port ----------------------------------------------------------------

    def submit_some(self, messages: Sequence[OutgoingMessage]) -> list[Submission | None]:
        """One answer per message, or None for a message this carrier did not take (it went
        down or is throttling): the router offers those to the next carrier. Every part of
        the call is sent before any response is waited for (the window pipelines them)."""
        done = self.journal.submitted([m.message_id for m in messages])
        flight = _Flight()
        parts: dict[str, list[_Pending]] = {}
        deadline = time.monotonic() + self.endpoint.response_seconds
        try:
            for message in messages:
                if message.message_id not in done:
                    parts[message.message_id] = self._send_message(message, flight)
            deadline = self._settle_throttled(messages, parts, flight)
        except CarrierUnavailable as why:
            self.last_error = str(why)
        if not flight.wait(deadline):
            # an SMSC that keeps the line open but stops answering: the bind is not trusted
            self._lost(TimeoutError(f"no response in {self.endpoint.response_seconds} s"))
        return [self._answer(m, done, parts) for m in messages]

    def _answer(
        self, message: OutgoingMessage, done: dict[str, str], parts: dict[str, list[_Pending]]
    ) -> Submission | None:
        ident = message.message_id
        if ident in done:  # taken before a crash: never twice
            return Submission(ident, True, done[ident])
        sent = parts.get(ident)
        if not sent or any(p.status is None or not p.journaled for p in sent):
            return None  # not taken, its fate unknown, or not journalled: offered again
        refused = [p.status for p in sent if p.status]
        if any(status in THROTTLED for status in refused):
            return None
        if refused:
            self.counters.refused += 1
            return Submission(ident, False, None, f"carrier_refused_{refused[0]:#x}")
        return Submission(ident, True, sent[0].carrier_id)

    def _send_message(self, message: OutgoingMessage, flight: _Flight) -> list[_Pending]:
        encoded = encode(message.text, _reference(message.message_id))
        return [
            self._send_part(
                _Pending(message.message_id, index, len(encoded.parts), short_message,
                         encoded.data_coding, encoded.esm_class, flight),
                message.phone, message.extension,
            )
            for index, short_message in enumerate(encoded.parts, start=1)
        ]  # fmt: skip

    def _settle_throttled(
        self,
        messages: Sequence[OutgoingMessage],
        parts: dict[str, list[_Pending]],
        flight: _Flight,
    ) -> float:
        """Send again, after a growing pause, every part answered ESME_RTHROTTLED or
        ESME_RMSGQFUL; past ``MAX_THROTTLED`` rounds the bind counts as throttling. Returns
        the deadline of the last round's responses (one deadline per round, not per part)."""
        phones = {m.message_id: m.phone for m in messages}
        extensions = {m.message_id: m.extension for m in messages}
        deadline = time.monotonic() + self.endpoint.response_seconds
        for attempt in range(MAX_THROTTLED):
            if not flight.wait(deadline):
                return deadline  # a silent bind: the caller gives it up
            again = [
                (ident, i, p)
                for ident, sent in parts.items()
                for i, p in enumerate(sent)
                if p.status in THROTTLED
            ]
            if not again:
                self._backoff = 1.0
                return deadline
            self.counters.throttled += len(again)
            time.sleep(min(0.05 * 2**attempt, 2.0))
            for ident, i, p in again:
                retry = _Pending(ident, p.part, p.parts, p.short_message, p.data_coding,
                                 p.esm_class, flight)  # fmt: skip
                parts[ident][i] = self._send_part(retry, phones[ident], extensions[ident])
            deadline = time.monotonic() + self.endpoint.response_seconds
        self.state = "throttling"
        self._retry_at = time.monotonic() + 5.0
        raise CarrierUnavailable(f"{self.name}: throttling")

    @property
    def up(self) -> bool:
        """Bound, or due to try binding again."""
        return self.state == "bound" or time.monotonic() >= self._retry_at

    def close(self) -> None:
        """Unbind and disconnect. The reader thread takes the ``unbind_resp`` (or the server
        just closes the line, which some do without answering): neither is an error."""
        self._stopping = True
        with self._lock:
            client, self._client = self._client, None
        if client is None:
            return
        try:
            client.send_pdu(smpplib.smpp.make_pdu("unbind", client=client))
        except Exception:
            log.debug("%s: the line was gone before unbind", self.name)
        reader = self._reader
        if reader is not None:
            reader.join(timeout=2.0)
        client.disconnect()
        self.state = "unbound"
        deadline = time.monotonic() + 10.0  # what the reader learnt reaches the journal
        while self._writes.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    # -- submitting ----------------------------------------------------------------------

    def _send_part(self, part: _Pending, phone: str, extension: str = "") -> _Pending:
        """Send one part once the window has room; its response comes to ``_response``."""
        client = self._bound()
        if not self._window.acquire(timeout=self.endpoint.response_seconds):
            raise CarrierUnavailable(f"{self.name}: the window did not open")
        self._pace()
        try:
            pdu = smpplib.smpp.make_pdu(
                "submit_sm", client=client,
                source_addr_ton=smpplib.consts.SMPP_TON_UNK,
                source_addr=self.endpoint.source_addr + extension,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                destination_addr=f"86{phone}",
                short_message=part.short_message, data_coding=part.data_coding,
                esm_class=part.esm_class, registered_delivery=True,
            )  # fmt: skip
        except Exception as error:
            self._window.release()
            raise CarrierUnavailable(f"{self.name}: {error}") from error
        with self._lock:  # known before its response can come
            if self._client is not client:  # lost while we waited for the window
                self._window.release()
                raise CarrierUnavailable(f"{self.name}: {self.state}")
            self._pending[pdu.sequence] = part
            part.flight.sent()
        try:
            client.send_pdu(pdu)
        except Exception as error:
            self._lost(error)  # gives back the window of every part pending, this one's too
            raise CarrierUnavailable(f"{self.name}: {error}") from error
        return part

    def _pace(self) -> None:
        """At most ``tps`` submit_sm a second."""
        if not self.endpoint.tps:
            return
        now = time.monotonic()
        self._sent_at = [t for t in self._sent_at if now - t < 1.0]
        if len(self._sent_at) >= self.endpoint.tps:
            time.sleep(max(0.0, 1.0 - (now - self._sent_at[0])))
        self._sent_at.append(time.monotonic())

    # -- the bind ------------------------------------------------------------------------

    def _bound(self) -> _Client:
        client = self._client
        if client is not None and self.state == "bound":  # the usual case, without the lock
            return client
        with self._lock:
            if self._client is not None:  # bound, or throttling on a line still open
                if self.state == "throttling" and time.monotonic() >= self._retry_at:
                    self.state = "bound"
                if self.state == "bound":
                    return self._client
                raise CarrierUnavailable(f"{self.name}: {self.state}")
            if time.monotonic() < self._retry_at:
                raise CarrierUnavailable(f"{self.name}: {self.state} ({self.last_error})")
            return self._bind()

    def _bind(self) -> _Client:
        client = _Client(self.endpoint.host, self.endpoint.port, timeout=self.timeout,
                         sequence_generator=_Sequences(),
                         allow_unknown_opt_params=True)  # fmt: skip
        client.set_message_sent_handler(self._response)
        client.set_message_received_handler(self._delivered)
        client.set_error_pdu_handler(lambda pdu: None)  # submit_sm_resp errors: _response
        try:
            client.connect()
            client.bind_transceiver(system_id=self.endpoint.system_id,
                                    password=self.endpoint.password)  # fmt: skip
        except smpplib.exceptions.PDUError as refused:
            client.disconnect()
            self.counters.bind_failures += 1
            self._down("refused", f"bind refused: {refused}")
            raise CarrierUnavailable(f"{self.name}: bind refused") from refused
        except Exception as error:
            client.disconnect()
            self.counters.bind_failures += 1
            self._down("down", f"{type(error).__name__}: {error}")
            raise CarrierUnavailable(f"{self.name}: cannot connect ({error})") from error
        self._client = client
        self.state = "bound"
        self.counters.binds += 1
        self._reader = threading.Thread(target=self._read, args=(client,),
                                        name=f"smpp-{self.name}", daemon=True)  # fmt: skip
        self._reader.start()
        return client

    def _read(self, client: _Client) -> None:
        while not self._stopping:
            try:
                client.read_once()
            except Exception as error:
                if not self._stopping and self._client is client:
                    self._lost(error)
                return

    def _lost(self, error: BaseException) -> None:
        """The bind is gone: close it before anything else can be sent on it, then give
        back the window of every part still unanswered (their fate is unknown: offered
        again, at least once; so a loss sends at most a window's worth twice)."""
        with self._lock:
            client, self._client = self._client, None
            stranded = list(self._pending.values())
            self._pending.clear()
            self._down("down", f"{type(error).__name__}: {error}")
            if client is not None:
                client.disconnect()
        for part in stranded:
            self._window.release()
            part.settle(None, False)
        if client is not None:
            log.warning("%s: bind lost (%s); %d parts unanswered", self.name, error,
                        len(stranded))  # fmt: skip

    def _down(self, state: str, why: str) -> None:
        self.state = state
        self.last_error = why
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, 30.0)

    # -- what the reader thread gets -----------------------------------------------------

    def _response(self, pdu: Any, **_: Any) -> None:
        with self._lock:
            part = self._pending.pop(pdu.sequence, None)
        if part is None:
            return
        status = int(pdu.status)
        if status == 0:
            part.carrier_id = _text(pdu.message_id)
            part.status = status
            # journalled by the writer thread, in batches; its window slot is given back
            # only then, so the parts taken but not journalled never exceed the window
            self._writes.put(part)
            self.counters.submitted += 1
        else:
            self._window.release()
            part.settle(status, True)

    def _write(self) -> None:
        """Journal what the reader learnt, in batches: each a transaction (parts taken, then
        receipts); a part's ``journaled`` is set once it is stored. A failed write (the
        database away) is tried again; nothing is dropped."""
        while True:
            batch = [self._writes.get()]
            while len(batch) < 2000:
                try:
                    batch.append(self._writes.get_nowait())
                except queue.Empty:
                    break
            parts = [p for p in batch if isinstance(p, _Pending)]
            receipts = [r for r in batch if not isinstance(r, _Pending)]
            accepted = [AcceptedPart(p.message_id, p.part, p.parts, p.carrier_id or "")
                        for p in parts]  # fmt: skip
            for attempt in itertools.count():
                try:
                    self.journal.record(self.name, accepted, receipts)
                    break
                except Exception:
                    log.exception("%s: journal write failed; trying again", self.name)
                    time.sleep(min(0.1 * 2**attempt, 5.0))
            for part in parts:
                self._window.release()
                part.settle(part.status, True)
            for _ in batch:
                self._writes.task_done()

    def _delivered(self, pdu: Any, **_: Any) -> int:
        if int(getattr(pdu, "esm_class", 0) or 0) & RECEIPT_FLAG:
            self._receipt(pdu)
        else:
            self.counters.replies += 1
            text = decode(int(pdu.data_coding or 0), bytes(pdu.short_message or b""))
            self.on_reply(_text(pdu.source_addr), _text(pdu.destination_addr), text)
        return int(smpplib.consts.SMPP_ESME_ROK)

    def _receipt(self, pdu: Any) -> None:
        body = _text(pdu.short_message)
        matched = RECEIPT_TEXT.search(body)
        carrier_id = _text(getattr(pdu, "receipted_message_id", None)) or (
            matched.group("id") if matched else ""
        )
        state_tlv = getattr(pdu, "message_state", None)
        state = MESSAGE_STATES.get(int(state_tlv)) if state_tlv else None
        if state is None and matched:
            state = FINAL_STATES.get(matched.group("stat"))
        if not carrier_id or state is None:  # ACCEPTD, UNKNOWN, or unreadable: Q8 decides
            return
        self.counters.receipts += 1
        self._writes.put((carrier_id, state, datetime.now(UTC)))


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return "" if value is None else str(value)


def _reference(message_id: str) -> int:
    """The UDH reference of a message's parts (the same on a retry)."""
    return sum(message_id.encode()) % 256
