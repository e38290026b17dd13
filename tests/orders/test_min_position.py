"""Minimum position (issue 8): per-market `minMargin` and `minNotional`, checked on every fill
that leaves a position open and on margin removal; bounds on both sides (`minMargin` at least
twice the fixed keeper reward, `minNotional` within the first maintenance tier)."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from difftest.orders import cancel_reason, close, decrease, trade
from pymodel.config import default_config, default_market
from pymodel.evm import UINT256_MAX

USD = 10**6
WAD = 10**18
ETH = 1
MIN_MARGIN, MIN_NOTIONAL = 20 * USD, 500 * USD  # default_market


def funded(ledger):
    owner, lp, trader, keeper = ledger.actors[:4]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    ledger.mint_and_approve(trader, 100_000 * USD)
    return owner, trader, keeper


def test_open__below_min_notional__cancelled_notional_below_minimum(ledger):
    _, trader, _ = funded(ledger)
    size = 499 * WAD // 3_000  # $499 at the oracle
    assert cancel_reason(trade(ledger, trader, ETH, size, 100 * USD, UINT256_MAX)) == "NotionalBelowMinimum"
    assert cancel_reason(trade(ledger, trader, ETH, -(-WAD // 6), 100 * USD, UINT256_MAX)) is None  # $500


def test_open__below_min_margin__cancelled_margin_below_minimum(make_ledger):
    # With the default 10% initial margin, $500 of notional already needs $50 (> the $20 minimum):
    # a $100 minimum binds first.
    market = default_market(ETH, "ETH-USD", 3_000, 6, min_margin=100 * USD)
    ledger = make_ledger(default_config(markets=[market]))
    _, trader, _ = funded(ledger)
    out = trade(ledger, trader, ETH, WAD // 5, 80 * USD, UINT256_MAX)  # $600 needs $60
    assert cancel_reason(out) == "MarginBelowMinimum"
    assert cancel_reason(trade(ledger, trader, ETH, WAD // 5, 101 * USD, UINT256_MAX)) is None


def test_open__the_reported_dust_position__refused(ledger):
    """Issue 8's farm: 1 wei of size, 3 wei of margin."""
    _, trader, _ = funded(ledger)
    assert cancel_reason(trade(ledger, trader, ETH, 1, 3, UINT256_MAX)) == "MarginBelowMinimum"


def test_decrease__leaving_dust__cancelled_but_full_close_fills(ledger):
    _, trader, _ = funded(ledger)
    trade(ledger, trader, ETH, WAD, 1_000 * USD, UINT256_MAX)  # $3,000
    rest_dust = decrease(ledger, trader, ETH, WAD - WAD // 10, 0)  # leaves $300
    assert cancel_reason(rest_dust) == "NotionalBelowMinimum"
    assert cancel_reason(decrease(ledger, trader, ETH, WAD // 2, 0)) is None  # leaves $1,500
    assert close(ledger, trader, ETH, 0).events_named("OrderExecuted")
    assert ledger.system.c.engine.position_of(trader, ETH).size == 0


def test_remove_margin__leaving_min_margin__allowed_one_unit_less_refused(make_ledger):
    # A low initial margin (so the minimum margin binds before it) on a small position.
    market = default_market(ETH, "ETH-USD", 3_000, 6, initial_margin_bps=900, min_margin=100 * USD)
    ledger = make_ledger(default_config(markets=[market]))
    _, trader, _ = funded(ledger)
    trade(ledger, trader, ETH, WAD, 400 * USD, UINT256_MAX)  # $3,000 needs $270
    margin = ledger.system.c.engine.position_of(trader, ETH).margin
    too_much = ledger.act(trader, "engine", "removeMargin", ETH, margin - 100 * USD + 1)
    assert too_much.error[0] == "InsufficientMargin"
    ledger.act(
        ledger.actors[0],
        "engine",
        "setMarketParams",
        ETH,
        dataclasses.replace(
            ledger.system.c.engine.market_params(ETH),
            initial_margin_bps=100,
            tier_maintenance_bps=(50, 60, 70, 80),
            # (no liquidation costs, so that tiers this low meet the relational bound, SPEC §11)
            liquidation_slippage_bps=0,
            max_impact_bps=0,
            keeper_reward_bps=0,
            keeper_fixed_reward=0,
        ),
    )
    refused = ledger.act(trader, "engine", "removeMargin", ETH, margin - 100 * USD + 1)
    assert refused.error == ("MarginBelowMinimum", (100 * USD - 1, 100 * USD))
    assert not ledger.act(trader, "engine", "removeMargin", ETH, margin - 100 * USD).reverted


@pytest.mark.parametrize(
    "overrides, name",
    [
        ({"min_margin": 9 * USD}, "minMargin"),  # below 2 x the $5 keeper reward
        ({"min_margin": 0, "keeper_fixed_reward": 0}, "minMargin"),
        ({"min_notional": 0}, "minNotional"),
        ({"min_notional": 100_000 * USD + 1}, "minNotional"),  # above the first tier's cap
    ],
    ids=["min_margin_below_twice_keeper_reward", "min_margin_zero", "min_notional_zero", "min_notional_above_tier"],
)
def test_market_params__minimum_out_of_bounds__config_and_contract_reject(ledger, overrides, name):
    with pytest.raises(ValidationError, match=name):
        default_market(ETH, "ETH-USD", 3_000, 6, **overrides)
    params = dataclasses.replace(ledger.system.c.engine.market_params(ETH), **overrides)
    out = ledger.act(ledger.actors[0], "engine", "setMarketParams", ETH, params)
    assert out.error == ("InvalidParameter", (name, overrides.get("min_margin", overrides.get("min_notional"))))
