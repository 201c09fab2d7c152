"""The route template a request is for (``/v1/sends/{send_id}``), the bounded label of the
HTTP metrics, and the methods its path takes (a 405's ``Allow``).

The router records the route it ran in the request's scope, but a request answered before the
router runs (an idempotency replay or refusal, by the middleware inside the metrics one) has
none there; its route is then found the way the router finds it, among the same routes.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

UNMATCHED = "unmatched"  # the label of a request whose path no route has


class RouteTemplates:
    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self.routes = [r for r in routes if isinstance(r, Route)]

    def of(self, scope: Scope) -> str:
        """The template of the route that serves (or would serve) the request; for a method
        the path's route does not take (405), that route's; else ``unmatched``."""
        ran = scope.get("route")
        if isinstance(ran, Route):
            return ran.path
        partial = UNMATCHED
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.path
            if match is Match.PARTIAL and partial == UNMATCHED:
                partial = route.path
        return partial

    def methods(self, scope: Scope) -> list[str]:
        """Every method the request's path takes (RFC 9110 ``Allow``): Starlette's 405 names
        only those of the first route matching the path, and a path may have several."""
        found: set[str] = set()
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE and route.methods:
                found |= route.methods - {"HEAD"}  # implied by GET, as the document has it
        return sorted(found)
