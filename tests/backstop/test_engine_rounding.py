"""Issue 10 item 8: what is owed to the protocol rounds up once, on the exact value; what is paid
out rounds down once. Fractional notionals, model == chain on Anvil."""

from __future__ import annotations

from engine_support import BPS, ETH, FEED, SCALE, USD, ceil_div, open_position, setup_pool, succeeded

# 2.65477635025 ETH closed at 2,000: a notional of 5,309,552,700.5 units (the numbers).
SIZE = 2_654_776_350_250_000_000
LIQUIDATION_PRICE = 2_000 * FEED


def test_liquidation_penalty__fractional_notional__rounded_up_once_on_exact_value(make_ledger):
    ledger = make_ledger()
    owner, lp, trader, keeper = ledger.actors[:4]
    setup_pool(ledger, lp, 1_000_000 * USD)
    ledger.set_price(ETH, 2_170 * FEED)
    open_position(ledger, trader, SIZE, 584 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, LIQUIDATION_PRICE)

    out = succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH))

    liquidated = out.event("Liquidated")
    exact = SIZE * liquidated.oracle_price  # 1e36 units
    assert exact * 2 == 10_619_105_401 * SCALE  # 5,309,552,700.5 units: fractional
    # Exact penalty 53,095,527.005: the attack's 53,095,527 (floored notional, then ceil) is one unit low.
    assert liquidated.penalty == 53_095_528 == ceil_div(exact * 100, SCALE * BPS)
    assert liquidated.penalty != ceil_div((exact // SCALE) * 100, BPS)
    # The keeper reward is paid out: the exact value rounded down once.
    params = ledger.system.c.engine.market_params(ETH)
    assert liquidated.keeper_reward == params.keeper_fixed_reward + exact * params.keeper_reward_bps // (SCALE * BPS)
    # Nothing went missing: realised = reward + penalty + refund, the refund one unit lower than before.
    assert liquidated.realised == liquidated.keeper_reward + liquidated.penalty + liquidated.refund


def test_trading_fee_and_margin__fractional_notional__each_rounded_up_once(make_ledger):
    ledger = make_ledger()
    owner, lp, trader = ledger.actors[:3]
    setup_pool(ledger, lp, 1_000_000 * USD)
    ledger.set_price(ETH, 2_000 * FEED)
    opened = open_position(ledger, trader, SIZE, 600 * USD).event("PositionIncreased")

    params = ledger.system.c.engine.market_params(ETH)
    exact = SIZE * opened.execution_price
    assert exact % SCALE  # a fractional notional at the execution price
    assert opened.fee == ceil_div(exact * params.trading_fee_bps, SCALE * BPS)
    # Maintenance and initial margin: one ceil on the exact notional at the oracle price.
    engine = ledger.system.c.engine
    from pymodel.core import Env

    env = Env(trader, ledger.now)
    at_oracle = SIZE * 2_000 * 10**18
    tier = params.tier_maintenance_bps[0]
    assert engine.maintenance_margin(env, trader, ETH) == ceil_div(at_oracle * tier, SCALE * BPS)
    assert ledger.deployment.contracts["engine"].call("maintenanceMargin", trader, ETH) == ceil_div(
        at_oracle * tier, SCALE * BPS
    )
    # removeMargin checks the initial margin rounded once: removing down to exactly it succeeds,
    # one unit more reverts with the exact requirement.
    required = ceil_div(at_oracle * params.initial_margin_bps, SCALE * BPS)
    equity = engine.equity(env, trader, ETH)
    refused = ledger.act(trader, "engine", "removeMargin", ETH, equity - required + 1)
    assert refused.error == ("InsufficientMargin", (required - 1, required))
    succeeded(ledger.act(trader, "engine", "removeMargin", ETH, equity - required))
