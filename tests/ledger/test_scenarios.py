"""Core-ledger scenarios (issue: bad debt lands on the pool exactly as the model predicts).

Every action below runs on the model and on Anvil through `ledger.act`, which already
requires the same return value or revert, the same ordered events and the same full state
after each step, and checks conservation. On top of that, each test asserts the waterfall
numbers it is about, derived by hand from the market parameters.
"""

from __future__ import annotations

from difftest.orders import cancel_reason, execute, submit, trade
from pymodel.config import default_config, default_market
from pymodel.evm import UINT256_MAX

USD = 10**6  # collateral units (6 decimals)
WAD = 10**18
FEED = 10**8  # feed units (8 decimals)
ETH, BTC = 1, 2


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def open_pool(ledger, lps: list[str], amount: int) -> None:
    for lp in lps:
        ledger.mint_and_approve(lp, amount)
        ledger.act(lp, "pool", "deposit", amount, lp)


def trader_with(ledger, trader: str, amount: int) -> None:
    ledger.mint_and_approve(trader, amount)


def balance(ledger, who: str) -> int:
    return ledger.system.c.token.balance_of(who)


def bucket(ledger, market_id: int) -> int:
    return ledger.system.c.insurance_fund.bucket_of(market_id)


def test_liquidate__long_above_bankruptcy__keeper_paid_penalty_to_insurance_rest_to_trader(ledger):
    owner, lp, trader, keeper = ledger.actors[:4]
    open_pool(ledger, [lp], 1_000_000 * USD)
    trader_with(ledger, trader, 10_000 * USD)
    trade(ledger, trader, ETH, 10 * WAD, 3_500 * USD, 3_100 * WAD)

    ledger.advance(60)
    ledger.set_price(ETH, 2_700 * FEED)
    bucket_before, trader_before = bucket(ledger, ETH), balance(ledger, trader)
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)

    liq = out.event("Liquidated")
    assert liq.oracle_price == 2_700 * WAD
    # 50 bps liquidation slippage against the long; closing the only long lowers |skew|: no impact.
    assert liq.execution_price == 2_700 * WAD * (10_000 - 50) // 10_000
    assert liq.execution_price > liq.bankruptcy_price  # closed above bankruptcy: no bad debt
    notional = 27_000 * USD
    reward = 5 * USD + notional * 5 // 10_000
    penalty = ceil_div(notional * 100, 10_000)
    assert (liq.keeper_reward, liq.penalty) == (reward, penalty)
    assert liq.refund == liq.realised - reward - penalty > 0
    assert out.events_named("BadDebtSettled") == []
    assert balance(ledger, keeper) == reward
    assert bucket(ledger, ETH) - bucket_before == penalty
    assert balance(ledger, trader) - trader_before == liq.refund
    assert ledger.system.c.engine.position_of(trader, ETH).size == 0


def test_liquidate__long_past_bankruptcy_after_delayed_oracle__shortfall_covered_by_insurance(ledger):
    owner, lp, trader, keeper, backer = ledger.actors[:5]
    open_pool(ledger, [lp], 1_000_000 * USD)
    trader_with(ledger, trader, 10_000 * USD)
    ledger.mint_and_approve(backer, 50_000 * USD)
    ledger.act(backer, "insuranceFund", "fund", ETH, 50_000 * USD)
    trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)

    # The market gaps 3000 -> 2500; the feed's round, stamped 90 s ago, lands only now.
    ledger.advance(600)
    ledger.set_price(ETH, 2_500 * FEED, updated_at=ledger.now - 90)
    pool_cash_before = ledger.system.c.pool.cash
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)

    liq, debt = out.event("Liquidated"), out.event("BadDebtSettled")
    assert liq.execution_price < liq.bankruptcy_price  # the gap closed it past bankruptcy
    assert liq.realised < liq.keeper_reward
    assert debt.shortfall == liq.keeper_reward - liq.realised
    assert (debt.from_insurance, debt.from_safety_module, debt.from_pool) == (debt.shortfall, 0, 0)
    assert bucket(ledger, ETH) == 50_000 * USD + _insurance_fees(out_history=ledger) - debt.shortfall
    assert balance(ledger, keeper) == liq.keeper_reward
    # As counterparty the pool takes the whole margin plus what insurance put in for the keeper:
    # margin - realised (the trader's loss and funding beyond the margin included).
    assert ledger.system.c.pool.cash - pool_cash_before == _opened_margin(ledger, trader) - liq.realised


def _opened_margin(ledger, trader: str) -> int:
    """Margin of the trader's last opened position, after its fee (from PositionIncreased)."""
    for _, outcome in reversed(ledger.history):
        for event in outcome.events_named("PositionIncreased"):
            if event.account == trader:
                return event.margin
    raise AssertionError("no position opened")


def _insurance_fees(out_history) -> int:
    """Insurance's share of all trading fees so far."""
    return sum(e.to_insurance for _, o in out_history.history for e in o.events_named("FeesSplit"))


def test_liquidate__empty_insurance__pool_total_assets_fall_by_exactly_from_pool(make_ledger):
    # No liquidation slippage, impact or funding: the pool's mark before equals what it realises.
    market = default_market(
        ETH, "ETH-USD", 3_000, 6, liquidation_slippage_bps=0, impact_bps=0, max_funding_rate_per_second=0
    )
    ledger = make_ledger(default_config(markets=[market], insurance_share_bps=0, safety_module_share_bps=0))
    owner, lp1, lp2, trader, keeper = ledger.actors[:5]
    open_pool(ledger, [lp1], 600_000 * USD)
    open_pool(ledger, [lp2], 200_000 * USD)
    trader_with(ledger, trader, 10_000 * USD)
    trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    ledger.advance(300)
    ledger.set_price(ETH, 2_400 * FEED, updated_at=ledger.now - 200)
    pool = ledger.deployment.contracts["pool"]
    total_before = pool.call("totalAssets")
    value_before = {lp: pool.call("previewRedeem", pool.call("balanceOf", lp)) for lp in (lp1, lp2)}

    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)

    debt = out.event("BadDebtSettled")
    assert bucket(ledger, ETH) == 0
    assert debt.from_insurance == 0 and debt.from_pool == debt.shortfall > 0
    total_after = pool.call("totalAssets")
    assert total_before - total_after == debt.from_pool
    supply = pool.call("totalSupply")
    # The redemption mark never counted the loss beyond the trader's margin (SPEC §8): at the
    # liquidation LPs lose only the keeper's reward, pro rata, not the bad debt the pool absorbs.
    reward = out.event("Liquidated").keeper_reward
    assert 0 < reward < debt.from_pool
    for lp in (lp1, lp2):
        shares = pool.call("balanceOf", lp)
        loss = value_before[lp] - pool.call("previewRedeem", shares)
        # Pro rata to shares, up to the rounding of two floor divisions.
        assert abs(loss * supply - reward * shares) <= 2 * supply
    assert value_before[lp1] - pool.call("previewRedeem", pool.call("balanceOf", lp1)) > 0


def test_liquidate__short_squeezed_past_bankruptcy__insurance_then_pool(ledger):
    owner, lp, trader, keeper, backer = ledger.actors[:5]
    open_pool(ledger, [lp], 1_000_000 * USD)
    trader_with(ledger, trader, 10_000 * USD)
    ledger.mint_and_approve(backer, 100 * USD)
    ledger.act(backer, "insuranceFund", "fund", ETH, 100 * USD)
    trade(ledger, trader, ETH, -10 * WAD, 3_200 * USD, 2_900 * WAD)

    ledger.advance(120)
    ledger.set_price(ETH, 3_600 * FEED)  # +20% jump up
    insurance_before = bucket(ledger, ETH)
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)

    liq, debt = out.event("Liquidated"), out.event("BadDebtSettled")
    assert liq.size_closed == -10 * WAD
    assert liq.execution_price == ceil_div(3_600 * WAD * (10_000 + 50), 10_000)  # buying back, against the short
    assert liq.execution_price > liq.bankruptcy_price
    assert debt.from_insurance == insurance_before  # the bucket is emptied first...
    # ...then the safety module (holding only its fee share here), and the pool pays the rest.
    assert debt.from_pool == debt.shortfall - insurance_before - debt.from_safety_module > 0
    assert bucket(ledger, ETH) == 0


def test_liquidate__large_position__partial_steps_with_cooldown(ledger):
    owner, lp, trader, keeper = ledger.actors[:4]
    open_pool(ledger, [lp], 5_000_000 * USD)
    trader_with(ledger, trader, 200_000 * USD)
    trade(ledger, trader, ETH, 600 * WAD, 190_000 * USD, 3_100 * WAD)  # $1.8M
    ledger.advance(60)
    ledger.set_price(ETH, 2_750 * FEED)  # notional $1.65M > $1M threshold; equity < 6% of it

    first = ledger.act(keeper, "engine", "liquidate", trader, ETH).event("Liquidated")
    assert first.size_closed == 120 * WAD  # 20% per step
    assert ledger.system.c.engine.position_of(trader, ETH).size == 480 * WAD

    blocked = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert blocked.error == ("LiquidationCooldown", (trader, ETH, ledger.now + 30))

    ledger.advance(30)
    second = ledger.act(keeper, "engine", "liquidate", trader, ETH).event("Liquidated")
    assert second.size_closed == 96 * WAD
    assert ledger.system.c.engine.position_of(trader, ETH).size == 384 * WAD


def test_redeem__requested_while_loss_visible__still_bears_it(make_ledger):
    ledger = make_ledger(default_config(insurance_share_bps=0))
    owner, lp1, lp2, trader, keeper = ledger.actors[:5]
    open_pool(ledger, [lp1, lp2], 500_000 * USD)
    trader_with(ledger, trader, 10_000 * USD)
    trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_400 * FEED)  # the oracle already shows the position bankrupt
    pool = ledger.deployment.contracts["pool"]
    shares = pool.call("balanceOf", lp1)
    value_at_request = pool.call("previewRedeem", shares)
    ledger.act(lp1, "pool", "requestRedeem", shares)

    ledger.act(keeper, "engine", "liquidate", trader, ETH)  # bad debt lands on the pool

    too_early = ledger.act(lp1, "pool", "redeem", shares, lp1, lp1)
    assert too_early.error == ("ERC4626ExceededMaxRedeem", (lp1, shares, 0))
    ledger.advance(3 * 24 * 3600)
    out = ledger.act(lp1, "pool", "redeem", shares, lp1, lp1)
    assert out.return_value < value_at_request
    lp2_value = pool.call("previewRedeem", pool.call("balanceOf", lp2))
    assert abs(out.return_value - lp2_value) <= 1  # both LPs bore the same loss


def test_bad_debt__two_markets__never_touches_other_markets_bucket(ledger):
    owner, lp, trader, keeper, backer = ledger.actors[:5]
    open_pool(ledger, [lp], 2_000_000 * USD)
    trader_with(ledger, trader, 20_000 * USD)
    ledger.mint_and_approve(backer, 20_000 * USD)
    ledger.act(backer, "insuranceFund", "fund", ETH, 10 * USD)
    ledger.act(backer, "insuranceFund", "fund", BTC, 10_000 * USD)
    trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    btc_bucket = bucket(ledger, BTC)

    ledger.advance(60)
    ledger.set_price(ETH, 2_300 * FEED)
    debt = ledger.act(keeper, "engine", "liquidate", trader, ETH).event("BadDebtSettled")

    assert debt.market_id == ETH
    assert debt.from_insurance == bucket(ledger, ETH) + debt.from_insurance and bucket(ledger, ETH) == 0
    assert debt.from_pool == debt.shortfall - debt.from_insurance - debt.from_safety_module > 0
    assert bucket(ledger, BTC) == btc_bucket


def test_bad_inputs__named_reverts_mirrored__state_untouched(make_ledger):
    small_oi = default_market(ETH, "ETH-USD", 3_000, 6, max_long_open_interest=100 * WAD)
    ledger = make_ledger(default_config(markets=[small_oi, default_market(BTC, "BTC-USD", 60_000, 6)]))
    owner, lp, trader, keeper, stranger = ledger.actors[:5]
    open_pool(ledger, [lp], 1_000_000 * USD)
    trader_with(ledger, trader, 1_000_000 * USD)
    trade(ledger, trader, ETH, 1 * WAD, 1_000 * USD, 3_100 * WAD)

    def reverts(expected: tuple, sender: str, contract: str, function: str, *args) -> None:
        before = ledger.chain_state()
        out = ledger.act(sender, contract, function, *args)
        assert out.error == expected
        after = ledger.chain_state()
        assert {k: v for k, v in after.items()} == before

    def cancelled(expected: str, market_id: int, size_delta: int, margin_in: int, acceptable_price: int) -> None:
        """The fill is refused with `expected`: positions and markets untouched, margin returned."""
        engine_before = {k: v for k, v in ledger.chain_state().items() if k.startswith("engine.")}
        wallet = ledger.system.c.token.balance_of(trader)
        out = trade(ledger, trader, market_id, size_delta, margin_in, acceptable_price)
        assert cancel_reason(out) == expected
        engine_after = {k: v for k, v in ledger.chain_state().items() if k.startswith("engine.")}
        market_states = [k for k in engine_after if k.startswith("engine.marketState")]
        for key in market_states:  # funding may accrue: only the sizes are compared
            engine_after[key], engine_before[key] = engine_after[key][:5], engine_before[key][:5]
        assert engine_after == engine_before
        assert ledger.system.c.token.balance_of(trader) == wallet - ledger.system.config.execution_fee

    now = ledger.now
    reverts(("ZeroSize", ()), trader, "orderRouter", "submitOrder", BTC, 0, 1_000 * USD, UINT256_MAX)
    cancelled("SlippageExceeded", BTC, WAD, 7_000 * USD, 60_000 * WAD)
    over = trade(ledger, trader, BTC, 10 * WAD, 10_000 * USD, UINT256_MAX)
    assert cancel_reason(over) == "InsufficientMargin"  # 10 BTC = $600k needs $60k initial margin
    cancelled("OpenInterestCapExceeded", ETH, 100 * WAD, 40_000 * USD, UINT256_MAX)
    health = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert health.error[0] == "PositionHealthy"
    reverts(("OwnableUnauthorizedAccount", (stranger,)), stranger, "engine", "setFeeShares", 0, 0)
    reverts(("OwnableUnauthorizedAccount", (stranger,)), stranger, "oracle", "setFeed", ETH, stranger, 60)
    reverts(("NotGuardian", (stranger,)), stranger, "engine", "setOpensPaused", True)

    # Utilisation: reserved (20% of open notional) may not exceed 80% of pool cash.
    util = trade(ledger, trader, BTC, 70 * WAD, 450_000 * USD, UINT256_MAX)
    assert cancel_reason(util) == "UtilisationCapExceeded"

    # Paused opens: closes still work.
    ledger.act(owner, "engine", "setOpensPaused", True)
    cancelled("OpensPaused", BTC, WAD, 10_000 * USD, UINT256_MAX)

    # Oracle: stale, zero and negative answers, a round from the future: the keeper's call
    # reverts with the adapter's error and the order waits.
    last_round = ledger.system.c.feeds[ETH].latest_round_data()[3]
    ledger.advance(4_200 + 1)
    submit(ledger, trader, ETH, -WAD, 0, 0)
    ledger.advance(2)
    # Pinned fills (issue 17): the order's first round at or after readyAt is its observation; a
    # refused one (zero, negative, future) is none, and later rounds are not the order's.
    assert last_round < ledger.now
    router = ledger.system.c.order_router
    closes_at = ledger.now + router.fill_window()
    assert execute(ledger, trader, ETH).error == ("FillNotReady", (ETH, 0, closes_at))
    ledger.set_price(ETH, 0)
    assert execute(ledger, trader, ETH).error == ("FillNotReady", (ETH, 0, closes_at))
    ledger.set_price(ETH, 3_000 * FEED)
    assert execute(ledger, trader, ETH).error == ("FillNotReady", (ETH, 0, closes_at))
    ledger.advance(router.max_execution_delay)
    ledger.act(trader, "orderRouter", "cancelOrder", trader, ETH)
    submit(ledger, trader, ETH, -WAD, 0, 0)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED, updated_at=ledger.now + 1)
    assert execute(ledger, trader, ETH).error == ("FillNotReady", (ETH, 0, ledger.now + router.fill_window()))
    ledger.advance(1)
    assert execute(ledger, trader, ETH).events_named("OrderExecuted")
    assert now < ledger.now
