"""Issue 10, item 1: the redemption mark counted a bankrupt position's whole loss as a pool asset,
so an LP with an open claim window redeemed before the keeper finished and took part of the bad
debt from the other LP. The attack is replayed on both sides (`ledger.act`: model == chain)."""

from __future__ import annotations

from pool_support import fee, filled, ok

from difftest.orders import trade
from pymodel.config import default_config
from pymodel.core import Env

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
V = 10**6  # virtual shares


def fund(ledger, who: str, amount: int) -> None:
    ledger.mint_and_approve(who, amount)


def liquidate_fully(ledger, keeper: str, trader: str) -> int:
    """The keeper's partial steps, 30 s apart, until the position is closed; returns the steps."""
    steps = 0
    while ledger.system.c.engine.position_of(trader, ETH).size != 0:
        ok(ledger.act(keeper, "engine", "liquidate", trader, ETH))
        steps += 1
        ledger.advance(30)
    return steps


def bankrupt_long_setup(make_ledger):
    """$10M pool (attacker 6M with a claimable request, victim 4M), a $2M long with $212k margin,
    then the oracle shows -15%: equity about -$90k, the position bankrupt, the keeper not yet there."""
    config = default_config(insurance_share_bps=0, safety_module_share_bps=0, redeem_cooldown=60, redeem_window=3_600)
    ledger = make_ledger(config)
    owner, attacker, victim, trader, keeper = ledger.actors[:5]
    for lp, amount in ((attacker, 6_000_000 * USD), (victim, 4_000_000 * USD)):
        fund(ledger, lp, amount)
        ok(ledger.act(lp, "pool", "deposit", amount, lp))
    pool = ledger.system.c.pool
    ok(ledger.act(attacker, "pool", "requestRedeem", pool.balance_of(attacker)))
    fund(ledger, trader, 212_000 * USD + fee(ledger))
    filled(trade(ledger, trader, ETH, 666 * WAD, 212_000 * USD, 3_100 * WAD))
    ledger.advance(60)  # the attacker's claim window is open
    ledger.set_price(ETH, 2_550 * FEED)
    env = Env(keeper, ledger.now)
    assert ledger.system.c.engine.equity(env, trader, ETH) < -80_000 * USD
    return ledger, attacker, victim, trader, keeper


def test_pool_mark__bankrupt_long__counts_its_loss_only_up_to_its_margin(make_ledger):
    ledger, attacker, victim, trader, keeper = bankrupt_long_setup(make_ledger)
    c, env = ledger.system.c, Env(keeper, ledger.now)
    m = c.engine.market_state(ETH)
    position = c.engine.position_of(trader, ETH)
    # The per-side bound the mark uses: this long's own k (alone on its side).
    assert m.long_positions == 1
    k = position.entry_price - position.funding_index - position.margin * 10**30 // position.size
    assert m.long_bankruptcy_bound == k
    loss = (m.long_entry_notional - m.long_size * 2_550 * WAD) // 10**30
    assert loss > position.margin + 80_000 * USD
    claim_redeem, stale = c.pool.pool_claim_on_traders(env, False, True)
    claim_deposit, _ = c.pool.pool_claim_on_traders(env, True, True)
    assert not stale
    # The bankrupt loss is not an asset: the claim is its margin, less under 3 units of rounding (the
    # loss floored, the bound's price rounded up, its deduction rounded up) ...
    assert position.margin - 2 <= claim_redeem <= position.margin
    assert claim_deposit >= loss  # ... while the deposit mark (pool-favoured) still counts it all


def test_pool_exit__before_keeper_finishes_a_bankrupt_long__takes_no_part_of_the_bad_debt(make_ledger):
    ledger, attacker, victim, trader, keeper = bankrupt_long_setup(make_ledger)
    c = ledger.system.c
    shares_a, shares_b = c.pool.redeem_request_of(attacker)[0], c.pool.balance_of(victim)
    # What the old mark (the whole loss counted) would have paid: the issue's $36k windfall.
    old_mark = c.pool.total_assets_for_deposit(Env(attacker, ledger.now))
    old_paid = shares_a * (old_mark + 1) // (c.pool.total_supply + V)

    paid = ok(ledger.act(attacker, "pool", "redeem", shares_a, attacker, attacker)).return_value
    steps = liquidate_fully(ledger, keeper, trader)
    assert steps >= 2  # the keeper needed several partial steps: the window the attack used

    value_b = c.pool.preview_redeem(Env(victim, ledger.now), shares_b)
    # Per share, the early leaver got no more than the LP who stayed through the liquidation.
    assert paid * shares_b <= value_b * shares_a + shares_a + shares_b
    assert old_paid - paid > 30_000 * USD  # the attack paid before; it does not now
