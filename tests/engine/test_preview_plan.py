"""`previewLiquidation` and `liquidate` share one plan: a preview taken in the block of the
liquidation (same timestamp, same state) says exactly what the liquidation then does — its prices,
size, the split of what it realises, the waterfall and the uncovered advance — on the chain (the
ledger compares the chain's preview with the model's) and in the model (`preview_then_liquidate`,
the fuzz machine's check). One deployment, one crash, three paths of the plan: a partial step, a
full close with a refund, a bad debt."""

from __future__ import annotations

from difftest.engine_rules import preview_then_liquidate
from difftest.orders import trade
from pymodel.config import default_config, default_market
from pymodel.core import Env

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1


def test_preview__equals_the_liquidation_in_the_same_block(make_ledger):
    market = default_market(ETH, "ETH-USD", 3_000, 6, max_funding_rate_per_second=0)
    market = market.model_copy(update={"partial_liquidation_threshold": 10_000 * USD})
    ledger = make_ledger(default_config(markets=[market]))
    lp, keeper = ledger.actors[1], ledger.actors[7]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    # (trader, size in ETH, margin): above the partial threshold at the crash; a full close that
    # keeps a refund; past its bankruptcy price.
    book = [(ledger.actors[4], 10, 7_500), (ledger.actors[5], 3, 2_250), (ledger.actors[6], 2, 700)]
    for trader, size_eth, margin in book:
        ledger.mint_and_approve(trader, margin * USD + 2 * ledger.system.config.execution_fee)
        assert not trade(ledger, trader, ETH, size_eth * WAD, margin * USD, 3_100 * WAD).reverted
    ledger.advance(60)
    ledger.set_price(ETH, 2_300 * FEED)

    outcomes = []
    for trader, _, _ in book:
        env = Env(keeper, ledger.now)
        chain_preview = ledger.deployment.contracts["engine"].call("previewLiquidation", trader, ETH)
        assert ledger.system.c.engine.preview_liquidation(env, trader, ETH).as_tuple() == chain_preview
        outcomes.append(preview_then_liquidate(ledger.act, ledger.system.c.engine, env, trader, ETH))
    partial, full, bad_debt = outcomes
    assert ledger.system.c.engine.position_of(book[0][0], ETH).size != 0  # a step, not the whole
    assert full.event("Liquidated").refund > 0 and not full.events_named("BadDebtSettled")
    assert bad_debt.event("BadDebtSettled").shortfall > 0
    assert not partial.events_named("BadDebtSettled")
