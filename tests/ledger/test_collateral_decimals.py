"""One complete, short scenario over a 6- and an 18-decimal stablecoin (SPEC §2: everything must
also work with 18): LP deposit, a long and a short, a delayed price gap, a liquidation past
bankruptcy whose shortfall empties the insurance bucket and lands on the pool, the short closing
in profit, and the LP redeeming after the cooldown.

`ledger.act` requires model == chain at every step. The waterfall numbers asserted here are
derived by hand in 1e-6 USD (every amount of this scenario is a whole number of them), so the
same literals hold at both decimals. Trades are orders (submit, a round two seconds later,
execute); funding is off, so the seconds between steps change nothing.
"""

from __future__ import annotations

import pytest

from difftest.orders import close, trade
from pymodel.config import default_config, default_market
from pymodel.evm import UINT256_MAX

WAD = 10**18
FEED = 10**8
ETH = 1
DAY = 24 * 3600


@pytest.mark.parametrize("decimals", [6, 18])
def test_waterfall_scenario__collateral_decimals__same_dollar_amounts_model_equals_chain(make_ledger, decimals):
    market = default_market(ETH, "ETH-USD", 3_000, decimals, max_funding_rate_per_second=0)
    config = default_config(collateral_decimals=decimals, safety_module_share_bps=0, markets=[market])
    ledger = make_ledger(config)

    def usd(whole: int) -> int:
        return whole * 10**decimals

    def usd6(millionths: int) -> int:
        """An amount in 1e-6 USD, in collateral units."""
        return millionths * 10 ** (decimals - 6)

    def ok(sender: str, contract: str, function: str, *args):
        out = ledger.act(sender, contract, function, *args)
        assert not out.reverted, out.error
        return out

    def filled(out):
        assert out.events_named("OrderExecuted"), out
        return out

    owner, lp, long_a, short_b, keeper, backer = ledger.actors[:6]
    ledger.mint_and_approve(lp, usd(1_000_000))
    shares = ok(lp, "pool", "deposit", usd(1_000_000), lp).return_value
    assert shares == usd(1_000_000) * 10**6  # the virtual-share offset: 6 more decimals
    ledger.mint_and_approve(backer, usd(1_000))
    ok(backer, "insuranceFund", "fund", ETH, usd(1_000))
    for trader in (long_a, short_b):
        ledger.mint_and_approve(trader, usd(10_000))

    # The long opens from no skew at 3,001.545 (5 bps spread + 0.045 impact of a 5 ETH mean
    # skew), fee 18.00927; the short brings the skew back to zero: no impact, 2,998.5, fee 17.991.
    opened_long = filled(trade(ledger, long_a, ETH, 10 * WAD, usd(3_100), 3_100 * WAD, keeper=owner))
    opened_short = filled(trade(ledger, short_b, ETH, -10 * WAD, usd(3_100), 2_900 * WAD, keeper=owner))
    assert opened_long.event("PositionIncreased").margin == usd6(3_081_990_730)
    assert opened_short.event("PositionIncreased").margin == usd6(3_082_009_000)
    # Insurance takes 20% of each fee (rounded down; exact here): 3.601854 + 3.5982.
    assert ledger.system.c.insurance_fund.bucket_of(ETH) == usd6(1_007_200_054)

    # ETH gaps 3,000 -> 2,500; the round, stamped 90 s earlier, lands 600 s after the opens.
    ledger.advance(600)
    ledger.set_price(ETH, 2_500 * FEED, updated_at=ledger.now - 90)
    out = ok(keeper, "engine", "liquidate", long_a, ETH)
    liq, debt = out.event("Liquidated"), out.event("BadDebtSettled")
    # 50 bps against the long, and the skew goes from 0 to -10 ETH: a mean skew of 5 ETH at 2,500
    # ($12.5k) adds 0.125 bp (0.03125): 2,487.46875; PnL 10 x (2,487.46875 - 3,001.545) = -5,140.7625.
    assert liq.execution_price == 248_746_875 * WAD // 100_000
    assert liq.bankruptcy_price == 2_693_345_927 * WAD // 1_000_000  # 3,001.545 - 3,081.99073 / 10
    assert liq.realised == usd6(3_081_990_730 - 5_140_762_500)
    assert liq.keeper_reward == usd6(17_500_000)  # 5 + 5 bps of 25,000
    shortfall = usd6(17_500_000 + 2_058_771_770)
    assert debt.values() == (long_a, ETH, shortfall, usd6(1_007_200_054), 0, shortfall - usd6(1_007_200_054))
    assert ledger.system.c.insurance_fund.bucket_of(ETH) == 0
    assert ledger.system.c.token.balance_of(keeper) == usd6(17_500_000)

    # The short buys back at 2,501.25 (lowering |skew|: no impact): +4,972.5 USD, fee 15.0075 USD.
    closed = filled(close(ledger, short_b, ETH, UINT256_MAX, keeper=owner)).event("PositionDecreased")
    assert (closed.realised_pnl, closed.funding_paid, closed.fee) == (usd6(4_972_500_000), 0, usd6(15_007_500))
    assert closed.payout == usd6(3_082_009_000 + 4_972_500_000 - 15_007_500)
    # Pool: 1M + 80% of three fees + the liquidated loss less what insurance did not cover - the profit.
    uncovered = usd6(2_076_271_770 - 1_007_200_054)
    cash = usd(1_000_000) + usd6(14_407_416 + 14_392_800 + 12_006_000 + 5_140_762_500 - 4_972_500_000) - uncovered
    assert ledger.system.c.pool.cash == cash == usd6(999_139_997_000)

    ok(lp, "pool", "requestRedeem", shares)
    ledger.advance(3 * DAY)
    ledger.set_price(ETH, 2_500 * FEED)
    redeemed = ok(lp, "pool", "redeem", shares, lp, lp).return_value
    assert redeemed == shares * (cash + 1) // (shares + 10**6)  # rounds down, for the pool
    assert 0 <= ledger.system.c.pool.cash == cash - redeemed <= 1
