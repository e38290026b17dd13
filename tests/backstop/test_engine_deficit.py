"""Issue 10 item 7: a liquidation never reverts for lack of funds in any layer. What the pool owes
beyond its cash is advanced by the engine, recorded and emitted as an uncovered deficit that the
pool's mark (the LP share price) deducts, and repaid first out of the next cash owed to the pool."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import replace

from engine_support import ETH, FEED, USD, WAD, open_position, setup_pool, succeeded

from difftest.orders import close
from pymodel.core import Env


def drained_pool_with_bankrupt_long(make_ledger, bystander: bool = True):
    """A pool with almost no cash (reserve factor 1 bps), a $100 keeper reward (the bound), empty
    insurance bucket and safety module, and a long that a -20% crash leaves bankrupt.

    The minimum margin must be at least twice the keeper reward, so the $80 long is opened under
    the default reward and the owner raises the reward (and the minimum margin with it) afterwards:
    positions already open keep their margin."""
    ledger = make_ledger()
    owner, lp, trader, keeper = ledger.actors[:4]
    params = ledger.system.c.engine.market_params(ETH)
    succeeded(ledger.act(owner, "engine", "setPoolLimits", 8_000, 1))
    succeeded(ledger.act(owner, "engine", "setFeeShares", 0, 0))
    setup_pool(ledger, lp, USD // 5)
    open_position(ledger, trader, WAD // 4, 80 * USD)
    if bystander:  # a healthy short ($600, above the minimum notional): the engine holds its margin
        open_position(ledger, ledger.actors[5], -(WAD // 5), 100 * USD)
    # (a $100k minimum notional keeps the $100 reward within the relational bound, SPEC §11)
    rich = dataclasses.replace(params, keeper_fixed_reward=100 * USD, min_margin=200 * USD, min_notional=100_000 * USD)
    succeeded(ledger.act(owner, "engine", "setMarketParams", ETH, rich))
    ledger.advance(60)
    ledger.set_price(ETH, 2_400 * FEED)
    return ledger, trader, keeper


def chain_preview(ledger, trader: str) -> tuple:
    return tuple(ledger.deployment.contracts["engine"].call("previewLiquidation", trader, ETH))


def test_liquidate__pool_part_beyond_its_cash__no_revert_deficit_recorded(make_ledger):
    ledger, trader, keeper = drained_pool_with_bankrupt_long(make_ledger)
    engine, pool = ledger.system.c.engine, ledger.system.c.pool
    cash = pool.cash
    preview = engine.preview_liquidation(Env(keeper, ledger.now), trader, ETH)
    assert chain_preview(ledger, trader) == preview.as_tuple()
    # The pool's part minus its claim as counterparty (margin - realised): the keeper reward beyond
    # the position's margin, since the insurance bucket and the safety module are empty.
    margin = engine.position_of(trader, ETH).margin
    owed_by_pool = preview.from_pool - (margin - preview.realised)
    assert owed_by_pool == preview.keeper_reward - margin
    assert owed_by_pool > cash > 0  # before the fix: InsufficientPoolCash, the position stays open

    out = succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH))

    debt, uncovered = out.event("BadDebtSettled"), out.event("DeficitUncovered")
    assert debt.shortfall == debt.from_insurance + debt.from_safety_module + debt.from_pool
    assert (uncovered.account, uncovered.market_id) == (trader, ETH)
    assert uncovered.amount == owed_by_pool - cash == uncovered.total == engine.uncovered_deficit
    assert preview.uncovered == uncovered.amount  # the preview said so (the chain's equals the model's)
    assert out.event("Liquidated").keeper_reward == preview.keeper_reward  # paid in full
    assert engine.position_of(trader, ETH).size == 0  # closed: it stops losing
    assert pool.cash == 0
    # The LP share price reflects the deficit: the pool's claim on traders drops by it.
    env = Env(keeper, ledger.now)
    without = copy.deepcopy(pool)  # the pool and the engine it reads, apart from the live model
    without.perp.uncovered_deficit = 0
    claim, stale = pool.pool_claim_on_traders(env, False, True)
    assert not stale
    assert claim == without.pool_claim_on_traders(env, False, True)[0] - uncovered.total
    assert tuple(ledger.deployment.contracts["pool"].call("poolClaimOnTraders", False, True)) == (claim, False)
    assert pool.total_assets_for_redeem(env) == 0  # no cash, a debt: nothing to redeem


def test_uncovered_deficit__repaid_first_from_cash_owed_to_pool(make_ledger):
    ledger, trader, keeper = drained_pool_with_bankrupt_long(make_ledger)
    engine, pool = ledger.system.c.engine, ledger.system.c.pool
    succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH))
    deficit = engine.uncovered_deficit
    assert deficit > 0
    # A deposit restores cash; a losing close then owes the pool: the deficit is repaid first.
    setup_pool(ledger, ledger.actors[1], 10_000 * USD)
    small = {"keeper_fixed_reward": 5 * USD, "min_margin": 20 * USD, "min_notional": 500 * USD}  # back to $500
    succeeded(
        ledger.act(ledger.actors[0], "engine", "setMarketParams", ETH, replace(engine.market_params(ETH), **small))
    )
    loser = ledger.actors[4]
    open_position(ledger, loser, WAD, 400 * USD)
    cash = pool.cash
    closed = succeeded(close(ledger, loser, ETH, 0))
    decreased = closed.event("PositionDecreased")
    # What the close owes the pool: the loss and the funding the long paid while open (the close
    # order fills a round after the open one, so a few seconds of funding accrued).
    owed = decreased.funding_paid - decreased.realised_pnl
    assert decreased.realised_pnl < 0 and owed > 0
    repaid = closed.event("DeficitRepaid")
    assert repaid.amount == min(owed, deficit) and repaid.remaining == deficit - repaid.amount
    assert engine.uncovered_deficit == repaid.remaining
    # The pool got what was owed minus the repayment, plus its fee share.
    assert pool.cash == cash + owed - repaid.amount + closed.event("FeesSplit").to_pool


def test_liquidate__nothing_anywhere_to_advance__keeper_reward_cut_no_revert(make_ledger):
    """The degenerate case: the bankrupt long is the engine's only margin and every layer is empty.
    The liquidation still goes through; the keeper gets what exists (the margin and the pool's
    cash) and nothing is recorded as owed."""
    ledger, trader, keeper = drained_pool_with_bankrupt_long(make_ledger, bystander=False)
    engine, pool = ledger.system.c.engine, ledger.system.c.pool
    margin, cash = engine.position_of(trader, ETH).margin, pool.cash
    full = ledger.system.c.engine.market_params(ETH).keeper_fixed_reward  # what it would be with funds
    preview = engine.preview_liquidation(Env(keeper, ledger.now), trader, ETH)
    assert chain_preview(ledger, trader) == preview.as_tuple()
    wallet = ledger.system.c.token.balance_of(keeper)

    out = succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH))

    paid = out.event("Liquidated").keeper_reward
    assert paid == margin + cash < full
    # The preview shows the cut reward a keeper would really get, and nothing left to record.
    assert (preview.keeper_reward, preview.penalty, preview.refund, preview.uncovered) == (paid, 0, 0, 0)
    assert ledger.system.c.token.balance_of(keeper) - wallet == paid
    assert not out.events_named("DeficitUncovered") and engine.uncovered_deficit == 0
    assert engine.position_of(trader, ETH).size == 0
    assert ledger.system.c.token.balance_of(engine.address) == 0
