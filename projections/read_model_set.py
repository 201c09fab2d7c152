"""The read models of one application as one handler of its log follower
(``adapters/log_follower.py``).

Each batch is one transaction: every read model's tracking row is moved first (compare-and-set)
and its tables changed after, so competing followers never apply an event twice and a follower
killed anywhere resumes exactly where its last committed batch ended.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..adapters import tracking
from ..adapters.sql import SqlDatabase
from ..commands.ports import Notified
from .read_model import ReadModel


class ReadModelSet:
    topics = None  # every event of the application

    def __init__(self, application: str, read_models: Sequence[ReadModel], db: SqlDatabase):
        assert all(m.application == application for m in read_models)
        self.name = "read_models"
        self.application = application
        self.read_models = list(read_models)
        self.db = db

    # -- setup and maintenance ----------------------------------------------------------

    def create_tables(self) -> None:
        with self.db.transaction() as tx:
            for model in self.read_models:
                model.create_tables(tx, self.db.dialect)
                tracking.ensure(tx, model.name, model.application)

    def reset(self) -> None:
        """Drop every read model and recreate it empty, at position 0 (then catch up: a
        rebuild)."""
        with self.db.transaction() as tx:
            for model in self.read_models:
                model.drop_tables(tx)
                model.create_tables(tx, self.db.dialect)
                tracking.ensure(tx, model.name, model.application)
                tracking.reset(tx, model.name)

    # -- the handler ----------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self.db.reading() as tx:
            return {m.name: tracking.position(tx, m.name) for m in self.read_models}

    def position(self) -> int:
        """The lowest position among the read models (the next batch starts after it)."""
        return min(self.positions().values(), default=0)

    def process(self, start: int, batch: Sequence[Notified]) -> None:
        """Apply ``batch`` in one transaction to each read model whose tracking row is still
        within ``[start, last)``."""
        if not batch:
            return
        last = batch[-1].position
        try:
            with self.db.transaction() as tx:
                for model in self.read_models:
                    current = tracking.position(tx, model.name)
                    if current >= last:
                        continue  # another follower got there first
                    if current < start:
                        # The row went back (a rebuild reset it) after the batch was read from
                        # `start`: the events between are not in it, so leave it for a re-read.
                        continue
                    tracking.advance(tx, model.name, current, last)
                    model.apply_batch(tx, [item for item in batch if item.position > current])
        except tracking.StaleTracking:
            return  # another follower did it; the next read starts from there
