"""A message's text as SMPP 3.4 carries it: GSM 7-bit where the text allows it, else UCS2,
split into parts with an 8-bit concatenation UDH when it is long.

- One part holds 160 GSM characters or 70 UCS2 ones; a long message is cut into parts of 153
  or 67, each after a six-octet UDH (``05 00 03 ref total index``). A GSM extension character
  (``€``, ``[`` …) takes two septets and an astral character (an emoji) two UCS2 units: a part
  never ends between the two.
- GSM text goes unpacked, one septet per octet, ``data_coding`` 0 (what SMSCs expect over
  SMPP); UCS2 is UTF-16BE, ``data_coding`` 8.

Units stay the platform's rule (Q6) whatever the part count: this is the carrier's framing.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
                 "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
GSM_CODES = {c: i for i, c in enumerate(GSM_BASIC) if c != "\x1b"}
ESCAPE = 0x1B

GSM_7BIT = 0x00
UCS2 = 0x08
UDHI = 0x40  # esm_class: the short message starts with a user data header

SINGLE = {GSM_7BIT: 160, UCS2: 70}  # characters (septets, UTF-16 units) in one part
MULTI = {GSM_7BIT: 153, UCS2: 67}  # per part of a long message, after its UDH


@dataclass(frozen=True)
class EncodedMessage:
    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]  # each part's short_message, its UDH first when there are several


def encode(text: str, reference: int) -> EncodedMessage:
    """``text`` ready for submit_sm; ``reference`` (0–255) ties the parts of one message."""
    if all(c in GSM_CODES or c in GSM_EXTENSION for c in text):
        units = [_gsm(c) for c in text]
        coding = GSM_7BIT
    else:
        units = [text[i : i + 1].encode("utf-16-be") for i in range(len(text))]
        coding = UCS2
    width = 1 if coding == GSM_7BIT else 2
    size = sum(len(u) for u in units) // width
    if size <= SINGLE[coding]:
        return EncodedMessage(coding, 0, (b"".join(units),))
    chunks = _chunks(units, MULTI[coding] * width)
    if len(chunks) > 255:
        raise ValueError("a message of more than 255 parts")
    header = bytes([0x05, 0x00, 0x03, reference & 0xFF, len(chunks)])
    parts = tuple(header + bytes([i]) + chunk for i, chunk in enumerate(chunks, start=1))
    return EncodedMessage(coding, UDHI, parts)


def _gsm(c: str) -> bytes:
    if c in GSM_EXTENSION:
        return bytes([ESCAPE, GSM_EXTENSION[c]])
    return bytes([GSM_CODES[c]])


def _chunks(units: list[bytes], limit: int) -> list[bytes]:
    """Whole characters per chunk, at most ``limit`` octets each (a character's octets are
    never split: an escape and its code, or both halves of a surrogate pair)."""
    chunks: list[bytes] = []
    current = b""
    for unit in units:
        if len(current) + len(unit) > limit:
            chunks.append(current)
            current = b""
        current += unit
    if current:
        chunks.append(current)
    return chunks


def decode(data_coding: int, payload: bytes) -> str:
    """The text of a short message we received (a reply): GSM unpacked, UCS2, or Latin-1."""
    if data_coding == UCS2:
        return payload.decode("utf-16-be", errors="replace")
    if data_coding == GSM_7BIT:
        reverse = {i: c for c, i in GSM_CODES.items()}
        extension = {code: c for c, code in GSM_EXTENSION.items()}
        out, escaped = [], False
        for octet in payload:
            if escaped:
                out.append(extension.get(octet, " "))
                escaped = False
            elif octet == ESCAPE:
                escaped = True
            else:
                out.append(reverse.get(octet, "?"))
        return "".join(out)
    return payload.decode("latin-1")
