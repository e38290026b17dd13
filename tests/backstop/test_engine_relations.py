"""Issue 19, item 5: the owner's bounds now bound relations (SPEC §11, revised).

Replayed on both sides (`setMarketParams` through the ledger) and in the pydantic config: the
one-transaction attack (maintenance 9.99%, liquidation slippage 99.99%, penalty 10%) and the
insurance drain (`partialLiquidationBps = 1` with a $100 keeper reward) are refused with
`InvalidParameter(name, value)`; the relation's edge is exact; and a position liquidated the
moment it becomes liquidatable, under parameters one bps inside the edge, leaves no shortfall."""

from __future__ import annotations

import dataclasses

import pytest
from pool_support import fee, filled, ok

from difftest.orders import trade
from pymodel.config import default_config, default_market
from pymodel.core import Env
from pymodel.engine import validate_market_params
from pymodel.errors import InvalidParameter

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
SCALE = 10**30  # 6-decimal collateral


def params(ledger):
    return ledger.system.c.engine.market_params(ETH)


def set_params(ledger, p):
    return ledger.act(ledger.actors[0], "engine", "setMarketParams", ETH, p)


def cost_bps(p) -> int:
    """What a liquidation can cost beyond the equity: slippage, impact cap, keeper reward (bps)."""
    fixed = -(-p.keeper_fixed_reward * 10_000 // p.min_notional)
    return p.liquidation_slippage_bps + p.max_impact_bps + p.keeper_reward_bps + fixed


def edge_tier(p) -> int:
    """The lowest first tier the relation accepts: 10 x cost <= 9 x tier."""
    return -(-10 * cost_bps(p) // 9)


def test_owner_attack__maintenance_9_99_slippage_99_99_penalty_10__refused(ledger):
    p = params(ledger)
    attack = dataclasses.replace(
        p,
        initial_margin_bps=1_000,
        tier_maintenance_bps=(999, 999, 999, 999),
        liquidation_slippage_bps=9_999,
        max_impact_bps=0,
        liquidation_penalty_bps=1_000,
    )
    assert set_params(ledger, attack).error == ("InvalidParameter", ("tierMaintenanceBps", 999))
    with pytest.raises(ValueError, match="tierMaintenanceBps=999 .*no shortfall"):
        default_config(markets=[default_market(1, "ETH-USD", 3_000, 6, **_fields(attack))])


def test_owner_attack__partial_step_of_one_bps_with_a_100_dollar_reward__refused(ledger):
    p = params(ledger)
    drain = dataclasses.replace(
        p, partial_liquidation_bps=1, keeper_fixed_reward=100 * USD, keeper_reward_cap=100 * USD, min_margin=200 * USD
    )
    # $100 of fixed reward on a $500 position is 20% of it: refused before the step size is.
    assert set_params(ledger, drain).error == ("InvalidParameter", ("tierMaintenanceBps", 250))
    roomy = dataclasses.replace(drain, min_notional=100_000 * USD)  # the reward fits: the step does not
    assert set_params(ledger, roomy).error == ("InvalidParameter", ("partialLiquidationBps", 1))
    # The step alone: 0.01% of a $1M position is a $100 step, under the $1,000 minimum.
    tiny_step = dataclasses.replace(p, partial_liquidation_bps=1)
    assert set_params(ledger, tiny_step).error == ("InvalidParameter", ("partialLiquidationBps", 1))
    with pytest.raises(ValueError, match="partialLiquidationBps=1 .*at least min_notional"):
        default_market(1, "ETH-USD", 3_000, 6, partial_liquidation_bps=1)


def test_relations__edges_exact_on_chain_and_in_the_model(ledger):
    p = params(ledger)
    edge = edge_tier(p)
    tiers = lambda first: (first, *p.tier_maintenance_bps[1:])  # noqa: E731
    outside = dataclasses.replace(p, tier_maintenance_bps=tiers(edge - 1))
    inside = dataclasses.replace(p, tier_maintenance_bps=tiers(edge))
    assert set_params(ledger, outside).error == ("InvalidParameter", ("tierMaintenanceBps", edge - 1))
    ok(set_params(ledger, inside))
    # The smallest step: exactly min_notional passes, one bps less is refused.
    threshold = p.min_notional * 10
    step_ok = dataclasses.replace(inside, partial_liquidation_threshold=threshold, partial_liquidation_bps=1_000)
    step_short = dataclasses.replace(step_ok, partial_liquidation_bps=999)
    ok(set_params(ledger, step_ok))
    assert set_params(ledger, step_short).error == ("InvalidParameter", ("partialLiquidationBps", 999))
    validate_market_params(step_ok, SCALE)
    with pytest.raises(InvalidParameter):
        validate_market_params(step_short, SCALE)


def test_relations__liquidated_the_moment_it_becomes_liquidatable__no_shortfall(make_ledger):
    """At the edge, a near-minimal position (a $1,000 long at 10x) liquidated at one wei below
    its liquidation price pays the keeper in full from its own margin."""
    base = default_market(1, "ETH-USD", 3_000, 6)
    edge = edge_tier(base.params())
    market = default_market(1, "ETH-USD", 3_000, 6, tier_maintenance_bps=(edge, 400, 600, 800))
    ledger = make_ledger(default_config(markets=[market, default_market(2, "BTC-USD", 60_000, 6)]))
    owner, lp, trader, keeper = ledger.actors[:4]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ok(ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp))
    size = 1_001 * USD * SCALE // (3_000 * WAD) + 1  # just above $1,000 after the spread
    margin = 110 * USD
    ledger.mint_and_approve(trader, margin + fee(ledger))
    filled(trade(ledger, trader, ETH, size, margin, 3_100 * WAD))
    engine = ledger.system.c.engine
    trigger = engine.liquidation_price(Env(keeper, ledger.now), trader, ETH)
    ledger.advance(60)
    ledger.set_price(ETH, (trigger - 1) * FEED // WAD)  # 8-decimal feed, rounded down: just liquidatable
    out = ok(ledger.act(keeper, "engine", "liquidate", trader, ETH))
    assert not out.events_named("BadDebtSettled")
    liquidated = out.event("Liquidated")
    assert liquidated.realised >= liquidated.keeper_reward


def _fields(p) -> dict:
    return {name: getattr(p, name) for name in p.__dataclass_fields__}
