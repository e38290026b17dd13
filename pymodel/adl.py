"""Auto-deleveraging, keeper side: the ranking the contract expects keepers to follow and a
plan that follows it until the side's profit ratio is back at or under the target.

The contract only checks eligibility and that each step lowers the ratio; which positions to
close is the keeper's choice. Like major venues, the ranking is profit % x effective leverage:
`(pnl / margin) x (notional / equity)`, highest first, in WAD, integers only.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.perp_engine import PerpEngine
from pymodel.signed_math import abs_
from pymodel.units import notional_up, pnl_floor

WAD = 10**18


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
        equity = engine._equity(position, price, index)
        if pnl <= 0 or equity <= 0 or position.margin == 0:
            continue
        notional = notional_up(position.size, price, engine.notional_scale)
        score = pnl * notional * WAD // (position.margin * equity)
        ranked.append(AdlCandidate(account, position.size, pnl, score))
    return sorted(ranked, key=lambda c: (-c.score, -c.pnl, c.account))


def adl_plan(engine: PerpEngine, env: Env, market_id: int, is_long: bool) -> list[tuple[str, int]]:
    """`(account, reduction)` steps, in ranking order, that bring the side's ratio to the target:
    whole positions while that is not enough, then the smallest reduction of the next one that
    is (found by bisection on a copy of the model). Empty when ADL is not open on the side."""
    trial = copy.deepcopy(engine)
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
    """The side's ratio after this step on a throwaway copy, or None if the step would revert."""
    scratch = copy.deepcopy(engine)
    try:
        scratch.auto_deleverage(Env(env.sender, env.timestamp), account, market_id, reduction)
    except Revert:
        return None
    return scratch.side_profit_ratio(env, market_id, is_long)
