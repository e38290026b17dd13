"""The fuzz machine's engine checks that are not parity: rules written once must agree with
themselves. `previewLiquidation` and `liquidate` share one plan (LiquidationModule's
`_planLiquidation`, `_closePart`, `_splitRemainder`, `_cutToBalance`); here every liquidation the
machine runs is previewed first in the same block (same timestamp, same state) and must do exactly
what its preview said, or revert where the preview does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.system import Outcome


def preview_then_liquidate(act: Callable[..., Outcome], engine: Any, env: Env, trader: str, market: int) -> Outcome:
    """Runs `liquidate(trader, market)` from `env.sender` through `act`, and requires it to match
    the model's `previewLiquidation` taken just before it at `env.timestamp`."""
    try:
        preview = engine.preview_liquidation(env, trader, market)
    except Revert:
        preview = None
    outcome = act(env.sender, "engine", "liquidate", trader, market)
    if preview is None:
        assert outcome.reverted, "previewLiquidation reverted, liquidate in the same block did not"
        return outcome
    assert not outcome.reverted, f"previewLiquidation succeeded, liquidate reverted {outcome.error}"
    done = outcome.event("Liquidated")
    said = (
        preview.oracle_price,
        preview.execution_price,
        preview.bankruptcy_price,
        preview.size_closed,
        preview.realised,
        preview.keeper_reward,
        preview.penalty,
        preview.refund,
    )
    did = (
        done.oracle_price,
        done.execution_price,
        done.bankruptcy_price,
        done.size_closed,
        done.realised,
        done.keeper_reward,
        done.penalty,
        done.refund,
    )
    assert did == said, f"liquidate did {did}, its preview said {said}"
    debts = outcome.events_named("BadDebtSettled")
    split = (preview.shortfall, preview.from_insurance, preview.from_safety_module, preview.from_pool)
    if preview.shortfall == 0:
        assert not debts, "a bad debt the preview did not show"
    else:
        debt = debts[0]
        assert (debt.shortfall, debt.from_insurance, debt.from_safety_module, debt.from_pool) == split
    uncovered = sum(event.amount for event in outcome.events_named("DeficitUncovered"))
    assert uncovered == preview.uncovered, f"uncovered {uncovered}, the preview said {preview.uncovered}"
    return outcome
