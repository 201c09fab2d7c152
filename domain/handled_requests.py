"""Requests an aggregate already carried out, by their id.

A client that lost an answer retries with the same ``Idempotency-Key`` (or Kafka delivers a
command again). When the first attempt's record of its answer was lost too (a crash between
the commit and the record), the retry runs the command again: the events a request makes
carry its id (derived from the key), so the aggregate sees the request was carried out and
the command answers as the first time did, changing nothing, instead of refusing a cancel of
a cancelled send or a decision on a decided template.
"""

from __future__ import annotations


class HandledRequests:
    """Mixin for aggregates: ``handled`` holds the ids of the requests that changed it."""

    handled: set[str]

    def already_handled(self, request_id: str | None) -> bool:
        return request_id is not None and request_id in self.handled

    def _handled(self, request_id: str | None) -> None:
        if request_id is not None:
            self.handled.add(request_id)
