"""Shared model plumbing: the block environment, events and the base of every model contract."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@dataclass
class Env:
    """What a transaction sees: `msg.sender` and `block.timestamp`. Never read from a clock."""

    sender: str
    timestamp: int

    def calling(self, caller: str) -> Env:
        """The env of a call that contract `caller` makes within this transaction."""
        return Env(caller, self.timestamp)


@dataclass(frozen=True)
class ModelEvent:
    """Base of every model event: one dataclass per Solidity event, fields in declaration order.
    A trailing underscore (`from_`) stands for a Solidity name that is a Python keyword."""

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def signature(self) -> tuple[str, tuple[Any, ...]]:
        return type(self).__name__, self.values()


@dataclass(frozen=True)
class EmittedEvent:
    """An event as parity compares it: which contract emitted what, with which values."""

    emitter: str
    name: str
    values: tuple[Any, ...]


class EventLog:
    """The ordered events of the transaction being executed."""

    def __init__(self) -> None:
        self.events: list[EmittedEvent] = []

    def record(self, emitter: str, event: ModelEvent) -> None:
        name, values = event.signature()
        self.events.append(EmittedEvent(emitter, name, values))

    def take(self) -> list[EmittedEvent]:
        taken, self.events = self.events, []
        return taken


class ModelContract:
    """A contract at an address that emits into the shared log."""

    def __init__(self, address: str, log: EventLog) -> None:
        self.address = address
        self.log = log

    def emit(self, event: ModelEvent) -> None:
        self.log.record(self.address, event)


def event_class(name: str, arity: int) -> type[ModelEvent]:
    """The model event class with this Solidity name and number of fields."""
    stack: list[type[ModelEvent]] = [ModelEvent]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub.__name__ == name and len(fields(sub)) == arity:
                return sub
            stack.append(sub)
    raise KeyError(f"no model event {name} with {arity} fields")
