"""The documented ranges of list and paging parameters (422 outside them, never a 500).

Lists page by ``limit`` and ``offset``; an offset past ``MAX_OFFSET`` is refused (narrow the
list with its filters instead). Cursors are the last row's position: a message's index (a send
has at most 10,000 messages, S2) or a ledger entry's sequence.
"""

MAX_OFFSET = 100_000
MAX_MESSAGE_CURSOR = 10_000
MAX_SEQUENCE = 2**53  # the largest integer every JSON reader keeps exactly
OFFSET_HELP = f"Rows to skip, at most {MAX_OFFSET:,}; narrow the list with its filters beyond."
