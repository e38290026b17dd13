"""Shared model plumbing: the block environment, events and the base of every model contract."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, NamedTuple

from pymodel.errors import Revert

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
        getter = _EVENT_GETTERS.get(type(self))
        if getter is None:
            getter = _EVENT_GETTERS[type(self)] = _values_getter(type(self))
        return getter(self)

    def signature(self) -> tuple[str, tuple[Any, ...]]:
        return type(self).__name__, self.values()


# One getter per event class, built on first emit: `dataclasses.fields()` on every emit cost
# more than the rest of the event's construction.
_EVENT_GETTERS: dict[type, Any] = {}


def _values_getter(cls: type) -> Any:
    names = [f.name for f in fields(cls)]
    if not names:
        return lambda event: ()
    if len(names) == 1:
        single = attrgetter(names[0])
        return lambda event: (single(event),)
    return attrgetter(*names)


class EmittedEvent(NamedTuple):
    """An event as parity compares it: which contract emitted what, with which values.
    (A NamedTuple: built on every emit, and cheaper than a frozen dataclass.)"""

    emitter: str
    name: str
    values: tuple[Any, ...]


class EventLog:
    """The ordered events of the transaction being executed."""

    def __init__(self) -> None:
        self.events: list[EmittedEvent] = []

    def record(self, emitter: str, event: ModelEvent) -> None:
        self.events.append(EmittedEvent(emitter, type(event).__name__, event.values()))

    def take(self) -> list[EmittedEvent]:
        taken, self.events = self.events, []
        return taken


# ---------------------------------------------------------------------------------------------
# The journal: atomic actions without copying the model
# ---------------------------------------------------------------------------------------------
#
# While an action runs (`System.execute`), every write to model state appends how to undo it:
# attribute sets on model contracts and on the plain objects they hold (dataclass instances such
# as positions), and item writes to the dicts, lists and sets among them. A revert undoes the
# entries in reverse order; a success drops them. An action costs what it writes, never the size
# of the state (oracle round history included).
#
# Model modules do nothing for it: `ModelContract` journals its attribute sets, and every
# container or plain object stored in model state is adopted on the way in: a `dict`/`list`/`set`
# becomes a `JournaledDict`/`JournaledList`/`JournaledSet` (equal to it, and a subclass of it),
# and the class of a plain object gets the journaling `__setattr__`. Frozen dataclasses, tuples
# and scalars are immutable and stay as they are. Containers assigned outside an action (in a
# constructor, or by a test) are adopted when the next action starts (`adopt_pending`), so a
# registry shared with the caller (e.g. the oracle adapter's feed models) stays shared until then.

_MISSING: Any = object()
_IMMUTABLE = frozenset({int, str, bool, bytes, tuple, frozenset, type(None)})

# The undo entries of the action being executed, oldest first, or None outside an action.
_journal: list[tuple[Any, Any, Any, Any]] | None = None
# Objects that were given a container outside an action: adopted when the next action starts.
_pending: weakref.WeakSet[Any] = weakref.WeakSet()
_pending_strong: list[Any] = []  # the few that cannot be weakly referenced


def _journaled_setattr(self: Any, name: str, value: Any) -> None:
    """`__setattr__` of model contracts and of the plain objects held in model state."""
    journal = _journal
    if type(value) not in _IMMUTABLE:
        if journal is not None:
            value = _adopt(value)
        else:
            _mark_pending(self)
    if journal is not None:
        state = self.__dict__
        journal.append((_undo_attribute, state, name, state.get(name, _MISSING)))
    object.__setattr__(self, name, value)


def _mark_pending(obj: Any) -> None:
    try:
        _pending.add(obj)
    except TypeError:
        _pending_strong.append(obj)


def _undo_attribute(state: dict[str, Any], name: str, old: Any) -> None:
    if old is _MISSING:
        state.pop(name, None)
    else:
        state[name] = old


def _undo_item(target: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        dict.pop(target, key, None)
    else:
        dict.__setitem__(target, key, old)


def _undo_dict(target: dict[Any, Any], saved: dict[Any, Any], _: Any) -> None:
    """Restores the dict's items and their order (a deleted key would otherwise come back last)."""
    dict.clear(target)
    dict.update(target, saved)


def _undo_append(target: list[Any], _: Any, __: Any) -> None:
    list.pop(target)


def _undo_list(target: list[Any], saved: list[Any], _: Any) -> None:
    list.__setitem__(target, slice(None), saved)


def _undo_set(target: set[Any], saved: set[Any], _: Any) -> None:
    set.clear(target)
    set.update(target, saved)


def _record(undo: Any, target: Any, a: Any = None, b: Any = None) -> None:
    journal = _journal
    if journal is not None:
        journal.append((undo, target, a, b))


class JournaledDict(dict):  # type: ignore[type-arg]
    """A dict in model state: equal to (and a subclass of) dict; writes are journaled."""

    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(value) not in _IMMUTABLE:
            value = _adopt(value)
        journal = _journal
        if journal is not None:
            journal.append((_undo_item, self, key, dict.get(self, key, _MISSING)))
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        _record(_undo_dict, self, dict.copy(self))
        dict.__delitem__(self, key)

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            _record(_undo_dict, self, dict.copy(self))
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[Any, Any]:
        _record(_undo_dict, self, dict.copy(self))
        return dict.popitem(self)

    def clear(self) -> None:
        _record(_undo_dict, self, dict.copy(self))
        dict.clear(self)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> JournaledDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __copy__(self) -> JournaledDict:
        copied = JournaledDict()
        dict.update(copied, self)
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> JournaledDict:
        copied = JournaledDict()
        memo[id(self)] = copied
        for key, value in dict.items(self):
            dict.__setitem__(copied, copy.deepcopy(key, memo), copy.deepcopy(value, memo))
        return copied

    def __reduce__(self) -> Any:
        return JournaledDict, (dict(self),)


class JournaledList(list):  # type: ignore[type-arg]
    """A list in model state: equal to (and a subclass of) list; writes are journaled."""

    __slots__ = ()

    def _save(self) -> None:
        _record(_undo_list, self, list(self))

    def append(self, value: Any) -> None:
        _record(_undo_append, self)
        list.append(self, _adopt(value))

    def extend(self, values: Any) -> None:
        self._save()
        list.extend(self, [_adopt(v) for v in values])

    def insert(self, index: Any, value: Any) -> None:
        self._save()
        list.insert(self, index, _adopt(value))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._save()
        value = [_adopt(v) for v in value] if isinstance(index, slice) else _adopt(value)
        list.__setitem__(self, index, value)

    def __delitem__(self, index: Any) -> None:
        self._save()
        list.__delitem__(self, index)

    def __iadd__(self, values: Any) -> JournaledList:  # type: ignore[override,misc]
        self.extend(values)
        return self

    def __imul__(self, times: Any) -> JournaledList:  # type: ignore[override,misc]
        self._save()
        list.__imul__(self, times)
        return self

    def pop(self, *index: Any) -> Any:
        self._save()
        return list.pop(self, *index)

    def remove(self, value: Any) -> None:
        self._save()
        list.remove(self, value)

    def clear(self) -> None:
        self._save()
        list.clear(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._save()
        list.sort(self, *args, **kwargs)

    def reverse(self) -> None:
        self._save()
        list.reverse(self)

    def __copy__(self) -> JournaledList:
        return JournaledList(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> JournaledList:
        copied = JournaledList()
        memo[id(self)] = copied
        list.extend(copied, [copy.deepcopy(v, memo) for v in self])
        return copied

    def __reduce__(self) -> Any:
        return JournaledList, (list(self),)


class JournaledSet(set):  # type: ignore[type-arg]
    """A set in model state: equal to (and a subclass of) set; writes are journaled."""

    __slots__ = ()

    def _save(self) -> None:
        _record(_undo_set, self, set(self))

    def add(self, value: Any) -> None:
        if value not in self:
            self._save()
            set.add(self, value)

    def discard(self, value: Any) -> None:
        if value in self:
            self._save()
            set.discard(self, value)

    def remove(self, value: Any) -> None:
        self._save()
        set.remove(self, value)

    def pop(self) -> Any:
        self._save()
        return set.pop(self)

    def clear(self) -> None:
        self._save()
        set.clear(self)

    def update(self, *others: Any) -> None:
        self._save()
        set.update(self, *others)

    def difference_update(self, *others: Any) -> None:
        self._save()
        set.difference_update(self, *others)

    def intersection_update(self, *others: Any) -> None:
        self._save()
        set.intersection_update(self, *others)

    def symmetric_difference_update(self, other: Any) -> None:
        self._save()
        set.symmetric_difference_update(self, other)

    def __ior__(self, other: Any) -> JournaledSet:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __iand__(self, other: Any) -> JournaledSet:  # type: ignore[override,misc]
        self.intersection_update(other)
        return self

    def __isub__(self, other: Any) -> JournaledSet:  # type: ignore[override,misc]
        self.difference_update(other)
        return self

    def __ixor__(self, other: Any) -> JournaledSet:  # type: ignore[override,misc]
        self.symmetric_difference_update(other)
        return self

    def __copy__(self) -> JournaledSet:
        return JournaledSet(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> JournaledSet:
        copied = JournaledSet()
        memo[id(self)] = copied
        set.update(copied, [copy.deepcopy(v, memo) for v in self])
        return copied

    def __reduce__(self) -> Any:
        return JournaledSet, (set(self),)


_JOURNALED = frozenset({JournaledDict, JournaledList, JournaledSet})


def _adopt(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """`value` as model state: containers journaled (converted, contents adopted), plain objects'
    classes given the journaling `__setattr__` (their fields adopted in place)."""
    cls = type(value)
    if cls in _IMMUTABLE or cls in _JOURNALED:
        return value
    if memo is None:
        memo = {}
    elif id(value) in memo:
        return memo[id(value)]
    if cls is dict:
        adopted: Any = JournaledDict()
        memo[id(value)] = adopted
        for key, item in value.items():
            dict.__setitem__(adopted, key, _adopt(item, memo))
        return adopted
    if cls is list:
        adopted = JournaledList()
        memo[id(value)] = adopted
        list.extend(adopted, [_adopt(item, memo) for item in value])
        return adopted
    if cls is set:
        adopted = JournaledSet(value)
        memo[id(value)] = adopted
        return adopted
    if isinstance(value, (ModelContract, EventLog, Env, type, tuple, frozenset, int, str, bytes)):
        return value  # contracts journal themselves; the rest is plumbing or immutable
    if cls.__setattr__ is object.__setattr__ and hasattr(value, "__dict__"):
        try:
            cls.__setattr__ = _journaled_setattr  # type: ignore[method-assign,assignment]
        except TypeError:
            return value  # a built-in type (functions, methods): not state
    if cls.__setattr__ is _journaled_setattr:
        memo[id(value)] = value
        _adopt_fields(value, memo)
    return value


def _adopt_fields(obj: Any, memo: dict[int, Any] | None = None) -> None:
    state = obj.__dict__
    for name, item in list(state.items()):
        if type(item) not in _IMMUTABLE:
            adopted = _adopt(item, memo)
            if adopted is not item:
                state[name] = adopted


def adopt_pending() -> None:
    """Adopts what was given to model objects outside an action (constructors, tests)."""
    if not _pending and not _pending_strong:
        return
    pending = [*_pending, *_pending_strong]
    _pending.clear()
    _pending_strong.clear()
    memo: dict[int, Any] = {}
    for obj in pending:
        _adopt_fields(obj, memo)


def adopt(value: Any) -> Any:
    """`value` with everything reachable from it adopted as model state (see above)."""
    adopt_pending()
    if isinstance(value, ModelContract):
        _adopt_fields(value)
        return value
    return _adopt(value)


def begin_action() -> tuple[bool, int]:
    """Starts journaling (or nests in the action already journaling); returns the mark to pass to
    `rollback` and `end_action`."""
    global _journal
    adopt_pending()
    if _journal is None:
        _journal = []
        return True, 0
    return False, len(_journal)


def rollback(mark: tuple[bool, int]) -> None:
    """Undoes every write since `mark`, newest first."""
    journal = _journal
    assert journal is not None, "rollback outside an action"
    stop = mark[1]
    while len(journal) > stop:
        undo, target, a, b = journal.pop()
        undo(target, a, b)


def end_action(mark: tuple[bool, int]) -> None:
    """Ends the action started at `mark`: its writes stand (an outer action may still undo them)."""
    global _journal
    if mark[0]:
        _journal = None


def try_call(log: EventLog, call: Callable[[], Any]) -> Revert | None:
    """Solidity's `try target.f() {} catch (bytes memory reason) {}` inside an action: runs
    `call`; if it reverts, every write it made and every event it emitted are undone and the
    error comes back (None on success), and the caller carries on. No copy of the model."""
    emitted = len(log.events)
    mark = begin_action()
    try:
        call()
    except Revert as error:
        rollback(mark)
        del log.events[emitted:]
        return error
    finally:
        end_action(mark)
    return None


# ---------------------------------------------------------------------------------------------
# Model contracts
# ---------------------------------------------------------------------------------------------


class ModelContract:
    """A contract at an address that emits into the shared log. Its state is journaled (above):
    an action that reverts leaves it exactly as it was."""

    __setattr__ = _journaled_setattr

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
