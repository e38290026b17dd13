"""One complete, short scenario over a 6- and an 18-decimal stablecoin (SPEC §2: everything must
also work with 18): LP deposit, a long and a short, a delayed price gap, a liquidation past
bankruptcy whose shortfall empties the insurance bucket and lands on the pool, the short closing
in profit, and the LP redeeming after the cooldown.

`ledger.act` requires model == chain at every step. The waterfall numbers asserted here are
derived by hand in 1e-4 USD (every amount of this scenario is a whole number of them), so the
same literals hold at both decimals; the long and the short are the same size, so the skew is
zero and no funding accrues until the liquidation, after which nothing waits a second.
"""

from __future__ import annotations

import pytest

from pymodel.config import default_config
from pymodel.evm import UINT256_MAX

WAD = 10**18
FEED = 10**8
ETH = 1
DAY = 24 * 3600


@pytest.mark.parametrize("decimals", [6, 18])
def test_waterfall_scenario__collateral_decimals__same_dollar_amounts_model_equals_chain(make_ledger, decimals):
    ledger = make_ledger(default_config(collateral_decimals=decimals, safety_module_share_bps=0))

    def usd(whole: int) -> int:
        return whole * 10**decimals

    def usd4(ten_thousandths: int) -> int:
        """An amount in 1e-4 USD, in collateral units."""
        return ten_thousandths * 10 ** (decimals - 4)

    def ok(sender: str, contract: str, function: str, *args):
        out = ledger.act(sender, contract, function, *args)
        assert not out.reverted, out.error
        return out

    owner, lp, long_a, short_b, keeper, backer = ledger.actors[:6]
    ledger.mint_and_approve(lp, usd(1_000_000))
    shares = ok(lp, "pool", "deposit", usd(1_000_000), lp).return_value
    assert shares == usd(1_000_000) * 10**6  # the virtual-share offset: 6 more decimals
    ledger.mint_and_approve(backer, usd(1_000))
    ok(backer, "insuranceFund", "fund", ETH, usd(1_000))
    for trader in (long_a, short_b):
        ledger.mint_and_approve(trader, usd(10_000))

    # Opens at 3,001.8 / 2,998.2 (5 bps spread + 1 bp impact); fees 18.0108 and 17.9892 USD.
    opened_long = ok(long_a, "engine", "openPosition", ETH, 10 * WAD, usd(3_100), 3_100 * WAD)
    opened_short = ok(short_b, "engine", "openPosition", ETH, -10 * WAD, usd(3_100), 2_900 * WAD)
    assert opened_long.event("PositionIncreased").margin == usd4(30_819_892)
    assert opened_short.event("PositionIncreased").margin == usd4(30_820_108)
    # Insurance takes 20% of each fee (rounded down; exact here): 3.60216 + 3.59784.
    assert ledger.system.c.insurance_fund.bucket_of(ETH) == usd4(10_072_000)

    # ETH gaps 3,000 -> 2,500; the round, stamped 90 s earlier, lands 600 s after the opens.
    ledger.advance(600)
    ledger.set_price(ETH, 2_500 * FEED, updated_at=ledger.now - 90)
    out = ok(keeper, "engine", "liquidate", long_a, ETH)
    liq, debt = out.event("Liquidated"), out.event("BadDebtSettled")
    # 51 bps against the long: 2,487.25; PnL 10 x (2,487.25 - 3,001.8) = -5,145.5 USD.
    assert liq.execution_price == 248_725 * WAD // 100
    assert liq.bankruptcy_price == 269_360_108 * WAD // 100_000  # 3,001.8 - 3,081.9892 / 10
    assert liq.realised == usd4(30_819_892 - 51_455_000)
    assert liq.keeper_reward == usd4(175_000)  # 5 + 5 bps of 25,000
    shortfall = usd4(175_000 + 20_635_108)
    assert debt.values() == (long_a, ETH, shortfall, usd4(10_072_000), 0, shortfall - usd4(10_072_000))
    assert ledger.system.c.insurance_fund.bucket_of(ETH) == 0
    assert ledger.system.c.token.balance_of(keeper) == usd4(175_000)

    # The short buys back at 2,501.5 in the same block: +4,967 USD, fee 15.009 USD.
    closed = ok(short_b, "engine", "closePosition", ETH, UINT256_MAX).event("PositionDecreased")
    assert (closed.realised_pnl, closed.funding_paid, closed.fee) == (usd(4_967), 0, usd4(150_090))
    assert closed.payout == usd4(30_820_108 + 49_670_000 - 150_090)
    # Pool: 1M + 80% of three fees + margin it kept beyond what insurance did not cover - the profit.
    cash = usd4(10_000_000_000 + 288_000 + 40_716_892 - 49_670_000 + 120_072)
    assert ledger.system.c.pool.cash == cash == usd4(9_991_454_964)

    ok(lp, "pool", "requestRedeem", shares)
    ledger.advance(3 * DAY)
    ledger.set_price(ETH, 2_500 * FEED)
    redeemed = ok(lp, "pool", "redeem", shares, lp, lp).return_value
    assert redeemed == shares * (cash + 1) // (shares + 10**6)  # rounds down, for the pool
    assert 0 <= ledger.system.c.pool.cash == cash - redeemed <= 1
