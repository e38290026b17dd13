"""Issue 8's two exploits replayed against the new rules (model and chain through `Ledger.act`):
the latency arbitrage on a stale oracle round, splitting an order to dodge impact, and the dust
positions that farmed the keeper reward. Each asserts the attacker ends with less than he
started with (net of fees, with the attacker also running the keeper: he gets the execution
fees back, the protocol's worst case)."""

from __future__ import annotations

import pytest

from difftest.attacks import latency_arbitrage, trader_as_keeper_straddle
from difftest.orders import cancel_reason, three_source_config, trade
from pymodel.config import default_config
from pymodel.core import Env
from pymodel.evm import UINT256_MAX

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
SCALE = 10**30  # size x price / SCALE = collateral units (6 decimals)


def pool_with(ledger, usd: int) -> str:
    lp = ledger.actors[1]
    ledger.mint_and_approve(lp, usd * USD)
    ledger.act(lp, "pool", "deposit", usd * USD, lp)
    return lp


@pytest.mark.parametrize("notional_usd", [10_000, 100_000, 1_000_000])
@pytest.mark.parametrize("move_bps", [100, 300])
def test_latency_arbitrage__real_price_away_from_the_round__attacker_loses(ledger, notional_usd, move_bps):
    pool_with(ledger, 5_000_000)
    attacker = ledger.actors[2]
    ledger.mint_and_approve(attacker, 1_000_000 * USD)
    pool_cash = ledger.system.c.pool.cash

    result = latency_arbitrage(ledger, attacker, ETH, notional_usd, move_bps=move_bps)

    # Filled at the round after the order (the real price): spread, impact and fee, twice, lost.
    assert result.profit < 0
    assert result.profit_per_notional_ppm <= -(2 * 5 + 2 * 6) * 100  # at least 2 x (5 bps spread + 6 bps fee)
    assert ledger.system.c.pool.cash > pool_cash  # the pool earned its fee share, paid nothing


def test_latency_arbitrage__orders_split_into_ten__pay_the_same_impact_or_more(make_ledger):
    """A $1M long at once, or ten $100k longs (one after the other, each at its own round, the
    price unchanged): the impact is on the skew, so the pieces pay what the whole pays."""
    impacts = {}
    for pieces in (1, 10):
        ledger = make_ledger(default_config())
        pool_with(ledger, 10_000_000)
        trader = ledger.actors[2]
        ledger.mint_and_approve(trader, 1_000_000 * USD)
        size = 1_000_000 * USD * SCALE // (3_000 * WAD)
        paid = 0
        for _ in range(pieces):
            margin = 110_000 * USD // pieces
            fill = trade(ledger, trader, ETH, size // pieces, margin, UINT256_MAX).event("PositionIncreased")
            spread_only = -(-fill.oracle_price * 10_005 // 10_000)
            paid += (size // pieces) * (fill.execution_price - spread_only)  # 1e36 units
        impacts[pieces] = paid
        ledger.rpc.request("evm_revert", [ledger.rpc.request("evm_snapshot")])
    single, split = impacts[1], impacts[10]
    assert single > 0
    # Equal up to rounding, which is against the trader in every piece; the whole's nested
    # round-ups can cost it a fraction of one collateral unit more (here 9e-10 USD on $1M).
    assert split // SCALE >= single // SCALE - 1
    # Per-order impact (before issue 8): the ten pieces paid a tenth of the single order's bps.
    assert split * 10 > single * 9


def test_dust_farm__twenty_positions__refused_and_the_legal_minimum_farm_loses(make_ledger, accounts):
    """Issue 8: twenty 1-wei positions with 3 wei of margin, liquidatable a second later, paid
    their opener $99.99994 in keeper rewards. Now every such open is refused; the cheapest farm
    still allowed (minimum notional at maximum leverage, pushed to liquidation by a price move)
    pays the attacker-keeper less than it costs him, and no shortfall reaches the waterfall when
    the round that makes them liquidatable is at their liquidation price (a larger gap is the
    ordinary gap risk of a 10x position, not a farm)."""
    ledger = make_ledger(default_config())
    pool_with(ledger, 1_000_000)
    farmers = ledger.actors[2:8]
    start = {}
    for farmer in farmers:
        ledger.mint_and_approve(farmer, 10_000 * USD)
    for farmer in farmers:
        start[farmer] = ledger.system.c.token.balance_of(farmer)
    dust = [trade(ledger, farmers[i % len(farmers)], 1 + i % 2, 1, 3, UINT256_MAX) for i in range(20)]
    assert {cancel_reason(out) for out in dust} == {"MarginBelowMinimum"}
    assert not ledger.system.c.engine.s.positions

    # The legal farm: $500 (the minimum notional) at 10x on both markets for every farmer.
    for farmer in farmers:
        for market, price in ((1, 3_000), (2, 60_000)):
            size = -(-500 * USD * SCALE // (price * WAD))
            assert trade(ledger, farmer, market, size, 50 * USD + 1 * USD, UINT256_MAX).events_named("OrderExecuted")
    ledger.advance(60)
    engine, env = ledger.system.c.engine, Env(farmers[0], ledger.now)
    for market in (1, 2):
        edge = min(engine.liquidation_price(env, farmer, market) for farmer in farmers)
        # 10 cents below (the view is exact to ~2 cents for a size this small; 8-decimal feeds).
        ledger.set_price(market, (edge - 10**17) // 10**10)
    keeper = farmers[0]
    for farmer in farmers:
        for market in (1, 2):
            out = ledger.act(keeper, "engine", "liquidate", farmer, market)
            assert out.events_named("Liquidated") and not out.events_named("BadDebtSettled")
    end = sum(ledger.system.c.token.balance_of(f) for f in farmers)
    assert end < sum(start.values())


# Issue 17, item 1: the trader who runs its own keeper straddles (a long and a short from two
# accounts), keeps the leg in the money at the pinned price just before expiry, closes it, and
# lets the other expire (margin and fee back to itself). The pinned price does not depend on when
# it calls; what is left is the choice of leg, an option on the move over the order's life, which
# the short life and the round trip's costs bound (model only; `make bench` prints the rows).
STRADDLE_SEEDS = range(8)


@pytest.mark.parametrize("seed", STRADDLE_SEEDS)
def test_attack__straddle_two_minute_orders__each_seeded_path_loses(seed):
    config = default_config().model_copy(update={"max_execution_delay": 120})
    result = trader_as_keeper_straddle(config, seed, trips=10)
    assert result.end < result.start, result


def test_attack__straddle_five_minute_orders__the_attacker_ends_with_less_over_the_paths():
    config = default_config().model_copy(update={"max_execution_delay": 300})
    runs = [trader_as_keeper_straddle(config, seed, trips=10) for seed in STRADDLE_SEEDS]
    assert sum(r.end for r in runs) < sum(r.start for r in runs), runs


def test_attack__straddle_on_three_sources__same_bound():
    config = three_source_config().model_copy(update={"max_execution_delay": 120})
    for seed in range(3):
        result = trader_as_keeper_straddle(config, seed, trips=5)
        assert result.end < result.start, result
