"""The model's atomic revert (the journal of `pymodel.core`): a reverted action leaves every
piece of model state exactly as it was, without copying the model per action.

Random actions (most of them revert) run on a model-only deployment; before each one the whole
model is deep-copied, and after each revert the live model must equal that copy field for field,
dict order included, so any state the journal misses is caught. Model contracts added later are
journaled without doing anything: a contract defined here with nested state shows it.
"""

from __future__ import annotations

import copy
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

import pymodel.core as core
import pymodel.system as system_module
from difftest.model_only import ModelDriver, model_system, random_actions
from difftest.profiles import PROFILE
from pymodel.core import (
    EventLog,
    JournaledDict,
    JournaledList,
    ModelContract,
    adopt,
    begin_action,
    end_action,
    rollback,
    try_call,
)
from pymodel.errors import Revert

ACTIONS = {"dev": 300, "ci": 1_500, "deep": 20_000}[PROFILE]


def first_difference(live: Any, saved: Any, path: str = "", seen: set[tuple[int, int]] | None = None) -> str | None:
    """The path of the first difference between two object graphs (types, dict order, fields)."""
    seen = set() if seen is None else seen
    if (id(live), id(saved)) in seen:
        return None
    if type(live) is not type(saved):
        return f"{path}: {type(live).__name__} != {type(saved).__name__}"
    if isinstance(live, dict):
        seen.add((id(live), id(saved)))
        if list(live) != list(saved):
            return f"{path}: keys {list(live)} != {list(saved)}"
        for key in live:
            found = first_difference(live[key], saved[key], f"{path}[{key!r}]", seen)
            if found:
                return found
        return None
    if isinstance(live, (list, tuple, deque)):
        seen.add((id(live), id(saved)))
        if len(live) != len(saved):
            return f"{path}: {len(live)} items != {len(saved)}"
        for i, (a, b) in enumerate(zip(live, saved, strict=True)):
            found = first_difference(a, b, f"{path}[{i}]", seen)
            if found:
                return found
        return None
    if hasattr(live, "__dict__") and not isinstance(live, type):
        seen.add((id(live), id(saved)))
        if sorted(vars(live)) != sorted(vars(saved)):
            return f"{path}: fields {sorted(vars(live))} != {sorted(vars(saved))}"
        for name in sorted(vars(live)):
            found = first_difference(vars(live)[name], vars(saved)[name], f"{path}.{name}", seen)
            if found:
                return found
        return None
    return None if live == saved else f"{path}: {live!r} != {saved!r}"


def test_random_actions__every_revert__leaves_the_model_equal_to_a_deep_copy_taken_before():
    system, actors = model_system()
    driver = ModelDriver(system, actors)
    driver.fund()
    rng = random.Random(12)
    reverts: dict[str, int] = {}
    succeeded = 0
    for action in random_actions(driver, rng, ACTIONS):
        before = copy.deepcopy(system.c)
        outcome = driver.act(*action)
        if outcome.reverted:
            reverts[outcome.error[0]] = reverts.get(outcome.error[0], 0) + 1
            difference = first_difference(system.c, before, "c")
            assert difference is None, f"{action} reverted with {outcome.error} but changed {difference}"
        else:
            succeeded += 1
    # Both kinds happened, and reverts of many kinds (from deep inside the engine too).
    assert succeeded > ACTIONS // 10
    assert sum(reverts.values()) > ACTIONS // 10
    assert len(reverts) >= 10, reverts


def test_random_actions__the_state_after_each_action__equals_the_same_run_on_deep_copies():
    """A journaled model and a model deep-copied before every action (the old atomic revert)
    run the same actions to the same state: the journal changes nothing but the cost."""
    journaled, actors = model_system()
    copied, _ = model_system()
    a, b = ModelDriver(journaled, actors), ModelDriver(copied, actors)
    a.fund()
    b.fund()
    rng = random.Random(7)
    for action in random_actions(a, rng, ACTIONS // 3):
        b.now = a.now
        saved = copy.deepcopy(copied.c)
        outcome_b = b.act(*action)
        if outcome_b.reverted:
            copied.c = saved  # the reference: discard everything the action did
        outcome_a = a.act(*action)
        assert (outcome_a.reverted, outcome_a.error, outcome_a.events) == (
            outcome_b.reverted,
            outcome_b.error,
            outcome_b.events,
        ), action
        assert first_difference(journaled.c, copied.c, "c") is None, action


def test_model_actions__after_a_thousand_oracle_rounds__journal_as_much_as_after_ten(monkeypatch):
    """The cost of an action does not grow with history: the journal of the same eight actions (a
    bench round: price, open order, round, execution, add margin, close order, round, execution)
    holds the same entries after 1,000 oracle rounds as after 10 (nothing is copied per round).
    A first bench round runs before either: a trader's first order journals the creation of its
    storage (3 entries for the submission, 82 for the execution, against 13 and 105 afterwards),
    which is not history."""
    system, actors = model_system()
    driver = ModelDriver(system, actors)
    driver.fund()
    sizes: list[int] = []

    def end_action(mark: tuple[bool, int]) -> None:
        sizes.append(len(core._journal or []))
        core.end_action(mark)

    monkeypatch.setattr(system_module, "end_action", end_action)
    driver.bench_round(0)
    journaled = {}
    for rounds in (10, 1_000):
        while system.c.feeds[1].latest_round_id < rounds:
            driver.now += 1
            driver.set_price(1, 2_700 * 10**8)
        sizes.clear()
        driver.bench_round(0)
        journaled[rounds] = list(sizes)
    assert len(journaled[10]) == 8 and min(journaled[10]) > 0
    assert journaled[1_000] == journaled[10]


# A model contract written later (like an order router), with nested state of every kind.


@dataclass
class _Order:
    size: int
    fills: list[int] = field(default_factory=list)


class _Router(ModelContract):
    def __init__(self, address: str, log: EventLog) -> None:
        super().__init__(address, log)
        self.next_id = 1
        self.orders: dict[int, _Order] = {}
        self.by_owner: dict[str, list[int]] = {}
        self.keepers: set[str] = set()

    def place(self, owner: str, size: int, fail: bool) -> None:
        order_id = self.next_id
        self.next_id += 1
        self.orders[order_id] = _Order(size)
        self.by_owner.setdefault(owner, []).append(order_id)
        self.keepers.add(owner)
        if 1 in self.orders:
            self.orders[1].size += size
            self.orders[1].fills.append(size)
        if self.orders.get(2):
            del self.orders[2]
        if fail:
            raise Revert()


def test_new_model_contract__nested_dicts_lists_sets_and_dataclasses__are_restored_on_revert():
    router = adopt(_Router("0x" + "11" * 20, EventLog()))
    for fail in (False, False, False):
        mark = begin_action()
        router.place("alice", 5, fail)
        end_action(mark)
    assert isinstance(router.orders, JournaledDict) and isinstance(router.by_owner["alice"], JournaledList)
    for owner in ("alice", "bob"):
        saved = copy.deepcopy(router)
        mark = begin_action()
        with pytest.raises(Revert):
            router.place(owner, 7, True)
        rollback(mark)
        end_action(mark)
        assert first_difference(router, saved) is None


def test_the_comparison__catches_state_the_journal_cannot_see():
    """The deep-copy comparison is what guards the journal: a container it does not know (a
    deque) changed in a reverted action is reported, so a missed kind of state fails the test."""
    router = adopt(_Router("0x" + "22" * 20, EventLog()))
    router.queue = deque([1, 2])
    adopt(router)
    saved = copy.deepcopy(router)
    mark = begin_action()
    router.queue.append(3)
    router.next_id = 99
    rollback(mark)
    end_action(mark)
    assert first_difference(router, saved) == ".queue: 3 items != 2"


def test_registry_shared_with_the_caller__stays_shared_until_an_action_runs():
    """Containers handed to a model constructor are adopted when the next action starts, not
    before: a registry the caller fills after deployment (the oracle's feed models) is seen."""
    registry: dict[str, Any] = {}

    class _Reader(ModelContract):
        def __init__(self, address: str, log: EventLog, feeds: dict[str, Any]) -> None:
            super().__init__(address, log)
            self.feeds = feeds

    reader = _Reader("0x" + "33" * 20, EventLog(), registry)
    registry["0xfeed"] = 1
    assert reader.feeds["0xfeed"] == 1


def test_try_call__a_reverted_inner_call__is_undone_with_its_events_and_the_action_goes_on():
    """Solidity try/catch in the model: the inner call's writes and events vanish, the outer
    action's stay (and the outer revert still undoes everything)."""
    log = EventLog()
    router = adopt(_Router("0x" + "44" * 20, log))
    mark = begin_action()
    router.next_id = 10
    log.events.append(("outer",))
    saved = copy.deepcopy(router)
    error = try_call(log, lambda: router.place("carol", 3, True))
    assert isinstance(error, Revert)
    assert first_difference(router, saved) is None and log.events == [("outer",)]
    assert try_call(log, lambda: router.place("dave", 4, False)) is None
    assert router.orders[10].size == 4 and router.next_id == 11
    rollback(mark)
    end_action(mark)
    assert router.next_id == 1 and router.orders == {}
