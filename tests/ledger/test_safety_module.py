"""Every SafetyModule function, succeeding and reverting with each reachable error, on both
sides (`ledger.act` compares outcome, events and full state)."""

from __future__ import annotations

from difftest.orders import trade
from pymodel.config import default_config

USD = 10**6
WAD = 10**18
DAY = 24 * 3600
COOLDOWN = 10 * DAY  # default_config
WINDOW = 2 * DAY
EXIT = 3_600  # default_config: safety_module_exit_delay


def staker_with(ledger, staker: str, amount: int) -> None:
    ledger.mint_and_approve(staker, amount)


def test_stake__mints_shares_at_price__zero_amount_reverts(ledger):
    owner, alice, bob = ledger.actors[:3]
    staker_with(ledger, alice, 10_000 * USD)
    out = ledger.act(alice, "safetyModule", "stake", 1_000 * USD)
    assert out.return_value == 1_000 * USD * 10**6  # first stake: 10**6 virtual shares per asset unit
    assert out.event("Staked").shares == out.return_value
    assert ledger.act(alice, "safetyModule", "stake", 0).error == ("ZeroAmount", ())
    staker_with(ledger, bob, 1)
    assert ledger.act(bob, "safetyModule", "stake", 2).error == (
        "ERC20InsufficientBalance",
        (bob, 1, 2),
    )


def test_stake__dust_after_rewards_without_stakers__reverts_zero_shares(make_ledger):
    ledger = make_ledger(default_config(safety_module_share_bps=5_000, insurance_share_bps=0))
    owner, lp, trader, dust = ledger.actors[:4]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    ledger.mint_and_approve(trader, 100_000 * USD)
    trade(ledger, trader, 1, 100 * WAD, 50_000 * USD, 3_100 * WAD)  # fees reward the module
    assert ledger.system.c.safety_module.total_assets > 10**6
    staker_with(ledger, dust, 1)
    assert ledger.act(dust, "safetyModule", "stake", 1).error == ("ZeroShares", ())


def test_redeem__only_inside_unstake_window(ledger):
    owner, alice = ledger.actors[:2]
    staker_with(ledger, alice, 1_000 * USD)
    shares = ledger.act(alice, "safetyModule", "stake", 1_000 * USD).return_value
    no_cooldown = ledger.act(alice, "safetyModule", "redeem", shares)
    assert no_cooldown.error == ("NotInUnstakeWindow", (alice, COOLDOWN, COOLDOWN + WINDOW))
    ledger.act(alice, "safetyModule", "cooldown")
    start = ledger.now
    ledger.advance(COOLDOWN - 1)
    early = ledger.act(alice, "safetyModule", "redeem", shares)
    assert early.error == ("NotInUnstakeWindow", (alice, start + COOLDOWN, start + COOLDOWN + WINDOW))
    ledger.advance(WINDOW + 2)
    late = ledger.act(alice, "safetyModule", "redeem", shares)
    assert late.error == ("NotInUnstakeWindow", (alice, start + COOLDOWN, start + COOLDOWN + WINDOW))
    ledger.act(alice, "safetyModule", "cooldown")  # restart
    ledger.advance(COOLDOWN)
    too_many = ledger.act(alice, "safetyModule", "redeem", shares + 1)
    assert too_many.error == ("InsufficientShares", (alice, shares, shares + 1))
    assert ledger.act(alice, "safetyModule", "redeem", 0).error == ("ZeroShares", ())
    out = ledger.act(alice, "safetyModule", "redeem", shares // 2)
    assert out.event("UnstakeRequested").claimable_at == ledger.now + EXIT


def test_claim__exit_delay_later_pays_at_current_price(ledger):
    owner, alice, bob = ledger.actors[:3]
    assert ledger.act(alice, "safetyModule", "claim", alice).error == ("NothingToClaim", (alice,))
    staker_with(ledger, alice, 1_000 * USD)
    shares = ledger.act(alice, "safetyModule", "stake", 1_000 * USD).return_value
    ledger.act(alice, "safetyModule", "cooldown")
    ledger.advance(COOLDOWN)
    ledger.act(alice, "safetyModule", "redeem", shares)
    assert ledger.act(alice, "safetyModule", "claim", alice).error == ("ClaimTooEarly", (alice, ledger.now + EXIT))
    ledger.advance(EXIT - 1)
    assert ledger.act(alice, "safetyModule", "claim", alice).error == ("ClaimTooEarly", (alice, ledger.now + 1))
    ledger.advance(1)
    out = ledger.act(alice, "safetyModule", "claim", bob)  # to another receiver
    assert out.return_value in (1_000 * USD - 1, 1_000 * USD)  # rounded down, never more than staked
    assert ledger.system.c.token.balance_of(bob) == out.return_value


# (parameter, position in setParams, lowest valid, highest valid): the contract's constants.
SM_BOUNDS = (
    ("cooldownPeriod", 0, 60, 30 * DAY),
    ("unstakeWindow", 1, 60, 30 * DAY),
    ("maxSlashBps", 2, 100, 5_000),
    ("slashWindow", 3, 3_600, 30 * DAY),
    ("exitDelay", 4, 600, 7 * DAY),
)
CONFIG_FIELD = {
    "cooldownPeriod": "safety_module_cooldown",
    "unstakeWindow": "safety_module_unstake_window",
    "maxSlashBps": "max_slash_bps",
    "slashWindow": "slash_window",
    "exitDelay": "safety_module_exit_delay",
}


def test_admin__owner_only_bounds_checked_engine_hooks_guarded(ledger):
    owner, stranger = ledger.actors[0], ledger.actors[4]
    a = ledger.deployment.addresses
    valid = [DAY, DAY, 100, DAY, 600]
    assert ledger.act(stranger, "safetyModule", "setParams", *valid).error == (
        "OwnableUnauthorizedAccount",
        (stranger,),
    )
    for name, position, low, high in SM_BOUNDS:
        for value, ok in ((low - 1, False), (low, True), (high, True), (high + 1, False)):
            args = list(valid)
            args[position] = value
            out = ledger.act(owner, "safetyModule", "setParams", *args)
            assert out.reverted != ok and (ok or out.error == ("InvalidParameter", (name, value)))
            # The pydantic config takes exactly the values the setter takes.
            try:
                default_config(**{CONFIG_FIELD[name]: value})
                accepted = True
            except ValueError:
                accepted = False
            assert accepted == ok, (name, value)
    out = ledger.act(owner, "safetyModule", "setParams", 7 * DAY, DAY, 5_000, 2 * DAY, 7 * DAY)
    assert out.event("ParamsSet").values() == (7 * DAY, DAY, 5_000, 2 * DAY, 7 * DAY)
    assert ledger.act(owner, "safetyModule", "setEngine", stranger).error == ("EngineAlreadySet", ())
    assert ledger.act(stranger, "safetyModule", "slash", 1).error == ("NotEngine", (stranger,))
    assert ledger.act(stranger, "safetyModule", "depositReward", 1).error == ("NotEngine", (stranger,))
    assert a.engine != stranger
