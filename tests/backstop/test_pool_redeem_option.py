"""Issue 10, item 2: a redeem request was a free, rolling option. A claim now pays the lower of the
redemption marks at request and at claim, so a standing request gains nothing from a later rise;
and staggered accounts (one always claimable) cannot exit ahead of a visible loss. Replayed on both
sides (`ledger.act`: model == chain)."""

from __future__ import annotations

from pool_support import fee, filled, ok

from difftest.orders import trade
from pymodel.config import default_config
from pymodel.core import Env

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
V = 10**6
COOLDOWN, WINDOW, STAGGER = 600, 600, 150


def setup(make_ledger):
    config = default_config(
        insurance_share_bps=0, safety_module_share_bps=0, redeem_cooldown=COOLDOWN, redeem_window=WINDOW
    )
    ledger = make_ledger(config)
    owner, victim, trader, *attackers = ledger.actors
    for lp, amount in ((victim, 5_000_000 * USD), *((a, 1_000_000 * USD) for a in attackers)):
        ledger.mint_and_approve(lp, amount)
        ok(ledger.act(lp, "pool", "deposit", amount, lp))
    return ledger, owner, victim, trader, attackers


def roll_requests(ledger, attackers: list[str]) -> None:
    """Each attacker account asks to leave with all its shares, STAGGER seconds after the previous."""
    for attacker in attackers:
        ok(ledger.act(attacker, "pool", "requestRedeem", ledger.system.c.pool.balance_of(attacker)))
        ledger.advance(STAGGER)


def claimable(ledger, attackers: list[str]) -> list[str]:
    env = Env(attackers[0], ledger.now)
    return [a for a in attackers if ledger.system.c.pool.max_redeem(env, a) > 0]


def test_pool_claim__after_a_rise__pays_the_value_at_request_not_the_rise(make_ledger):
    ledger, owner, victim, trader, attackers = setup(make_ledger)
    pool = ledger.system.c.pool
    ledger.mint_and_approve(trader, 400_000 * USD + fee(ledger))
    filled(trade(ledger, trader, ETH, -1_000 * WAD, 400_000 * USD, 2_900 * WAD))
    roll_requests(ledger, attackers)
    assert claimable(ledger, attackers)  # staggered: some account can always claim
    # The short loses 2% (the pool gains about $60k); every standing request is still priced as before.
    ledger.set_price(ETH, 3_060 * FEED)
    for attacker in claimable(ledger, attackers):
        shares, _, at_request = pool.redeem_request_of(attacker)
        now_value = pool.preview_redeem(Env(attacker, ledger.now), shares)
        assert now_value > at_request  # the rise is visible ...
        paid = ok(ledger.act(attacker, "pool", "redeem", shares, attacker, attacker)).return_value
        assert paid == at_request  # ... and the claim does not take it


def test_pool_claim__staggered_accounts_before_a_visible_bankruptcy__no_gain_over_the_stayer(make_ledger):
    ledger, owner, victim, trader, attackers = setup(make_ledger)
    pool = ledger.system.c.pool
    ledger.mint_and_approve(trader, 212_000 * USD + fee(ledger))
    filled(trade(ledger, trader, ETH, 666 * WAD, 212_000 * USD, 3_100 * WAD))
    roll_requests(ledger, attackers)
    ledger.advance(COOLDOWN - STAGGER * len(attackers) + STAGGER)
    ready = claimable(ledger, attackers)
    assert ready
    ledger.set_price(ETH, 2_550 * FEED)  # the oracle shows the long bankrupt
    paid_per_share = []
    for attacker in ready:  # they all exit before the keeper
        shares = pool.redeem_request_of(attacker)[0]
        paid = ok(ledger.act(attacker, "pool", "redeem", shares, attacker, attacker)).return_value
        paid_per_share.append((paid, shares))
    while ledger.system.c.engine.position_of(trader, ETH).size != 0:
        ok(ledger.act(owner, "engine", "liquidate", trader, ETH))
        ledger.advance(30)
    shares_v = pool.balance_of(victim)
    value_v = pool.preview_redeem(Env(victim, ledger.now), shares_v)
    for paid, shares in paid_per_share:
        assert paid * shares_v <= value_v * shares + shares + shares_v  # no more per share than the stayer
