"""The one way into the write side: a typed command in, its result out.

The HTTP routes and the Kafka consumer call ``handle`` alike (cosmicpython's ``bus.handle``).
Each command type has exactly one handler (``commands/handlers.py``); a refusal is a
``DomainError`` raised by the domain, which each entry point turns into its own wire form in
one place (``api/wire.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from .command_types import Command

R = TypeVar("R")
Handler = Callable[[Any], Any]


class UnknownCommand(LookupError):
    """A command type with no handler: a wiring mistake, never a caller's."""


class CommandBus:
    def __init__(self, handlers: Mapping[type[Command[Any]], Handler]) -> None:
        self.handlers = dict(handlers)

    def handle(self, command: Command[R]) -> R:
        handler = self.handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(type(command).__name__)
        return cast(R, handler(command))

    def handles(self) -> list[type[Command[Any]]]:
        return list(self.handlers)
