"""The read models of every application, as the CLI, health, metrics and tests see them:
caught up, waited for, rebuilt."""

from __future__ import annotations

from ..adapters.log_follower import LogFollower
from ..projections.read_model_set import ReadModelSet


class ReadModels:
    def __init__(self, followers: list[LogFollower]) -> None:
        assert all(isinstance(f.handler, ReadModelSet) for f in followers)
        self.followers = followers

    def catch_up(self) -> int:
        """Apply every stored event now, in this thread (safe beside the background loops)."""
        return sum(f.catch_up() for f in self.followers)

    def wait_until_current(self, timeout: float = 10.0) -> bool:
        """Block until every read model has applied every stored event."""
        return all(f.wait_until_current(timeout) for f in self.followers)

    def rebuild(self) -> int:
        """Drop every read model and replay every application's events into it."""
        for follower in self.followers:
            self.handler_of(follower).reset()
        return self.catch_up()

    def positions(self) -> dict[str, tuple[int, int]]:
        """Each read model's position, beside its application's head."""
        return {
            name: (position, f.head())
            for f in self.followers
            for name, position in self.handler_of(f).positions().items()
        }

    def of(self, application: str) -> LogFollower:
        return next(f for f in self.followers if f.app.name == application)

    @staticmethod
    def handler_of(follower: LogFollower) -> ReadModelSet:
        handler = follower.handler
        assert isinstance(handler, ReadModelSet)
        return handler
