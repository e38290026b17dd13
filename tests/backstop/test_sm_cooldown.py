"""Issue 10, item 3: the safety-module cooldown could be defeated: escrowed shares never expired and
kept earning fees (one transaction from exit forever), `cooldown()` without stake succeeded, and a
fresh stake rode on an old cooldown. Each attack is replayed on both sides (`ledger.act`)."""

from __future__ import annotations

from pool_support import filled, ok

from difftest.orders import trade
from pymodel.config import default_config

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
DAY = 24 * 3600
COOLDOWN, WINDOW, EXIT = 10 * DAY, 2 * DAY, 3_600  # default_config


def staked(ledger, staker: str, amount: int) -> int:
    ledger.mint_and_approve(staker, amount)
    return ok(ledger.act(staker, "safetyModule", "stake", amount)).return_value


def test_cooldown__without_stake__reverts_no_stake(ledger):
    stranger = ledger.actors[5]
    assert ledger.act(stranger, "safetyModule", "cooldown").error == ("NoStake", (stranger,))


def test_redeem__fresh_stake_on_an_open_window__cannot_exit_one_second_later(ledger):
    staker = ledger.actors[3]
    dust = staked(ledger, staker, 1 * USD)
    out = ok(ledger.act(staker, "safetyModule", "cooldown"))
    assert out.event("CooldownStarted").shares == dust
    ledger.advance(COOLDOWN)  # the window is open for the dust only
    fresh = staked(ledger, staker, 100_000 * USD)
    ledger.advance(1)
    out = ledger.act(staker, "safetyModule", "redeem", dust + fresh)
    assert out.error == ("ExceedsCooldownShares", (staker, dust, dust + fresh))
    ok(ledger.act(staker, "safetyModule", "redeem", dust))  # what the cooldown covered can leave
    assert ledger.act(staker, "safetyModule", "redeem", 1).error == ("ExceedsCooldownShares", (staker, 0, 1))


def test_claim__sixty_days_later__expired_escrow_goes_back_to_the_stake_and_needs_a_new_cooldown(ledger):
    staker = ledger.actors[3]
    shares = staked(ledger, staker, 10_000 * USD)
    ok(ledger.act(staker, "safetyModule", "cooldown"))
    start = ledger.now
    ledger.advance(COOLDOWN)
    escrow = ok(ledger.act(staker, "safetyModule", "redeem", shares)).event("UnstakeRequested")
    assert (escrow.claimable_at, escrow.deadline) == (ledger.now + EXIT, ledger.now + 2 * EXIT)
    ledger.advance(60 * DAY)
    # The claim just before a slash that the issue measured: refused.
    out = ledger.act(staker, "safetyModule", "claim", staker)
    assert out.error == ("UnstakeWindowExpired", (staker, start + COOLDOWN + 2 * EXIT))
    # Back to the stake (on the staker's next call) and a new cooldown is needed to leave.
    out = ok(ledger.act(staker, "safetyModule", "cooldown"))
    back = out.event("UnstakeExpired")
    sm = ledger.system.c.safety_module
    assert back.escrow_shares == escrow.escrow_shares and sm.shares_of(staker) == back.shares > 0
    assert sm.pending_of(staker) == (0, 0, 0) and sm.escrow_assets == 0
    out = ledger.act(staker, "safetyModule", "redeem", back.shares)
    assert out.error == ("NotInUnstakeWindow", (staker, ledger.now + COOLDOWN, ledger.now + COOLDOWN + WINDOW))


def test_escrow__earns_no_fees__stays_slashable_pro_rata(make_ledger):
    ledger = make_ledger(default_config(insurance_share_bps=0, safety_module_share_bps=5_000))
    owner, lp, trader, staying, leaving, keeper = ledger.actors[:6]
    sm = ledger.system.c.safety_module
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ok(ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp))
    staked(ledger, staying, 5_000 * USD)
    leaver_shares = staked(ledger, leaving, 5_000 * USD)
    ok(ledger.act(leaving, "safetyModule", "cooldown"))
    ledger.advance(COOLDOWN)
    escrow = ok(ledger.act(leaving, "safetyModule", "redeem", leaver_shares)).event("UnstakeRequested")
    stay_before = sm.preview_redeem(sm.shares_of(staying))
    escrow_before = sm.preview_claim(escrow.escrow_shares)
    # Trading fees: half go to the module, all of it to the stake.
    ledger.set_price(ETH, 3_000 * FEED)  # a fresh round after the cooldown's ten days
    ledger.mint_and_approve(trader, 100_000 * USD)
    filled(trade(ledger, trader, ETH, 100 * WAD, 31_000 * USD, 3_100 * WAD))
    assert sm.preview_claim(escrow.escrow_shares) == escrow_before
    assert sm.preview_redeem(sm.shares_of(staying)) > stay_before
    # A bankrupt liquidation slashes both pools by the same fraction (the escrow takes the rounding).
    stay_before = sm.preview_redeem(sm.shares_of(staying))
    ledger.advance(60)
    ledger.set_price(ETH, 2_650 * FEED)
    slash = ok(ledger.act(keeper, "engine", "liquidate", trader, ETH)).event("Slashed")
    assert slash.slashed > 0
    stay_after = sm.preview_redeem(sm.shares_of(staying))
    escrow_after = sm.preview_claim(escrow.escrow_shares)
    assert escrow_after < escrow_before
    # (lost / had) for the escrow is at least the stake's, and equal to within two units' rounding.
    assert (escrow_before - escrow_after) * stay_before >= (stay_before - stay_after) * escrow_before - stay_before
    assert (escrow_before - escrow_after) * stay_before <= (stay_before - stay_after + 2) * escrow_before
    ledger.advance(EXIT)
    assert ok(ledger.act(leaving, "safetyModule", "claim", leaving)).return_value == escrow_after
    assert sm.escrow_shares == 0 and sm.escrow_assets == 0
