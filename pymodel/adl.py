"""Auto-deleveraging, keeper side: the ranking the contract expects ADL keepers to follow, a
plan that follows it until the side's profit ratio is back at or under the target, and an audit
that replays ADL steps and reports those that skipped a higher-ranked position.

The contract checks eligibility and that each step lowers the ratio; which positions to close is
the ADL keeper's choice, and each `AutoDeleveraged` event carries the closed position's score so
the choice can be audited. Like major venues, the ranking is profit % x effective leverage:
`(pnl / margin) x (notional / equity)`, highest first, in WAD, integers only, computed by the
engine's own `_adl_score` (PerpEngine._adlScore on chain).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pymodel.core import Env, begin_action, end_action, rollback
from pymodel.engine import AutoDeleveraged, PerpEngine
from pymodel.errors import Revert
from pymodel.signed_math import abs_
from pymodel.units import pnl_floor


@dataclass(frozen=True)
class AdlCandidate:
    account: str
    size: int
    pnl: int
    score: int  # WAD


def adl_ranking(engine: PerpEngine, env: Env, market_id: int, is_long: bool) -> list[AdlCandidate]:
    """Profitable positions on the side, highest profit % x effective leverage first
    (ties: larger profit first, then address)."""
    _, price, index = engine._view_context(env, market_id)
    ranked = []
    for (account, market), position in engine.s.positions.items():
        if market != market_id or (position.size > 0) != is_long:
            continue
        pnl = pnl_floor(position.size, position.entry_price, price, engine.notional_scale)
        if pnl <= 0:
            continue
        score = engine._adl_score(account, market_id, position, price, index)
        ranked.append(AdlCandidate(account, position.size, pnl, score))
    return sorted(ranked, key=lambda c: (-c.score, -c.pnl, c.account))


@dataclass(frozen=True)
class AdlSkip:
    """An ADL step that closed `account` (score `score`) while `skipped` ranked higher
    (`skipped_score`) on the same side; `step` is the step's index in the replay."""

    step: int
    account: str
    score: int
    skipped: str
    skipped_score: int


def audit_adl(steps: list[tuple[PerpEngine, Env, AutoDeleveraged]]) -> list[AdlSkip]:
    """Replays ADL steps, each given with the engine as it stood just before the step and the
    step's block (sender ignored), and reports every step that skipped a higher-ranked position.
    A step's event score that differs from the model's score of that position is reported as a
    skip of the position itself (`skipped == account`): the event cannot be trusted."""
    skips: list[AdlSkip] = []
    for i, (engine, env, event) in enumerate(steps):
        is_long = event.size_closed > 0
        ranking = adl_ranking(engine, env, event.market_id, is_long)
        scores = {c.account: c.score for c in ranking}
        if scores.get(event.account) != event.score:
            skips.append(AdlSkip(i, event.account, event.score, event.account, scores.get(event.account, 0)))
            continue
        for candidate in ranking:
            if candidate.account == event.account or candidate.score <= event.score:
                break
            skips.append(AdlSkip(i, event.account, event.score, candidate.account, candidate.score))
    return skips


@contextmanager
def _undone(engine: PerpEngine) -> Iterator[None]:
    """Whatever runs inside is undone afterwards, events included: the model's journal (the one
    that makes a reverted action leave no trace), so a trial costs what it writes, not a copy of
    the system. Nests inside an action in progress (a batched block's journal)."""
    emitted = len(engine.log.events)
    mark = begin_action()
    try:
        yield
    finally:
        rollback(mark)
        end_action(mark)
        del engine.log.events[emitted:]


def adl_plan(engine: PerpEngine, env: Env, market_id: int, is_long: bool) -> list[tuple[str, int]]:
    """`(account, reduction)` steps, in ranking order, that bring the side's ratio to the target:
    whole positions while that is not enough, then the smallest reduction of the next one that
    is (found by bisection, each trial undone). Empty when ADL is not open on the side. The
    model is left exactly as it was."""
    with _undone(engine):
        return _plan(engine, env, market_id, is_long)


def _plan(trial: PerpEngine, env: Env, market_id: int, is_long: bool) -> list[tuple[str, int]]:
    trial.is_adl_keeper[env.sender] = True  # the plan is for an ADL keeper
    plan: list[tuple[str, int]] = []
    for candidate in adl_ranking(trial, env, market_id, is_long):
        if trial.side_profit_ratio(env, market_id, is_long) <= trial.adl_target_bps:
            break
        whole = abs_(candidate.size)
        after_whole = _ratio_after(trial, env, candidate.account, market_id, whole, is_long)
        if after_whole is None:
            continue
        if after_whole > trial.adl_target_bps:
            trial.auto_deleverage(env, candidate.account, market_id, whole)
            plan.append((candidate.account, whole))
            continue
        low, high = 1, whole  # smallest reduction reaching the target lies in [low, high]
        while low < high:
            middle = (low + high) // 2
            ratio = _ratio_after(trial, env, candidate.account, market_id, middle, is_long)
            if ratio is not None and ratio <= trial.adl_target_bps:
                high = middle
            else:
                low = middle + 1
        trial.auto_deleverage(env, candidate.account, market_id, low)
        plan.append((candidate.account, low))
        break
    return plan


def _ratio_after(
    engine: PerpEngine, env: Env, account: str, market_id: int, reduction: int, is_long: bool
) -> int | None:
    """The side's ratio after this step (undone), or None if the step would revert."""
    with _undone(engine):
        try:
            engine.auto_deleverage(Env(env.sender, env.timestamp), account, market_id, reduction)
        except Revert:
            return None
        return engine.side_profit_ratio(env, market_id, is_long)
