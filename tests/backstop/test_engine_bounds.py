"""Issue 10 item 6: every engine owner-settable parameter is bounded, identically in the contract's
setters and the pydantic config, so even the owner cannot pay the backstop out (the $500k keeper
reward of the issue is refused)."""

from __future__ import annotations

import dataclasses

import pytest
from engine_support import ETH, USD, succeeded
from pydantic import ValidationError

from pymodel.config import default_config, default_market

# (MarketParams field, largest accepted value, first refused value) in 6-decimal collateral.
MARKET_BOUNDS = [
    ("keeper_fixed_reward", 100 * USD, 100 * USD + 1),
    ("keeper_reward_cap", 10_000 * USD, 10_000 * USD + 1),
    ("keeper_reward_bps", 100, 101),
    ("liquidation_penalty_bps", 1_000, 1_001),
    ("partial_liquidation_cooldown", 86_400, 86_401),
    ("impact_bps", 10_000, 10_001),
]


# Room under the relational bounds (SPEC §11, revised: the lowest tier covers slippage and the
# keeper reward over the smallest notional), so that each field's own bound is what an edge meets.
ROOM = dict(initial_margin_bps=5_000, tier_maintenance_bps=(4_000, 4_000, 4_000, 4_000), min_notional=100_000 * USD)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_set_market_params__500k_keeper_reward__refused_and_nothing_paid(make_ledger):
    ledger = make_ledger()
    owner = ledger.actors[0]
    params = ledger.system.c.engine.market_params(ETH)
    drain = dataclasses.replace(params, keeper_fixed_reward=500_000 * USD, keeper_reward_cap=500_000 * USD)
    out = ledger.act(owner, "engine", "setMarketParams", ETH, drain)
    assert out.error == ("InvalidParameter", ("keeperFixedReward", 500_000 * USD))
    assert ledger.system.c.engine.market_params(ETH) == params  # unchanged, on both sides (state parity)
    # A cap alone above its bound, or below the fixed reward, is refused too.
    capped = dataclasses.replace(params, keeper_reward_cap=500_000 * USD)
    assert ledger.act(owner, "engine", "setMarketParams", ETH, capped).error == (
        "InvalidParameter",
        ("keeperRewardCap", 500_000 * USD),
    )
    below = dataclasses.replace(params, keeper_fixed_reward=10 * USD, keeper_reward_cap=9 * USD)
    assert ledger.act(owner, "engine", "setMarketParams", ETH, below).error == (
        "InvalidParameter",
        ("keeperRewardCap", 9 * USD),
    )
    # The config refuses the same values before anything is deployed, naming the field and bound
    # (with a minimum margin of twice the reward, so that the reward's own bound is what fails).
    with pytest.raises(ValidationError, match="keeperFixedReward=500000000000 must be at most 100 whole"):
        default_config(
            markets=[
                default_market(
                    1,
                    "ETH-USD",
                    3_000,
                    6,
                    keeper_fixed_reward=500_000 * USD,
                    keeper_reward_cap=500_000 * USD,
                    min_margin=1_000_000 * USD,
                    # a minimum notional so large that the reward fits the relational bound
                    tier_notional_caps=(10**12 * USD, 2 * 10**12 * USD, 3 * 10**12 * USD, 2**256 - 1),
                    min_notional=10**12 * USD,
                    partial_liquidation_bps=10_000,
                )
            ]
        )


@pytest.mark.parametrize(("field", "largest", "refused"), MARKET_BOUNDS)
def test_market_bounds__contract_and_config_agree_at_the_edge(make_ledger, field, largest, refused):
    ledger = make_ledger()
    owner = ledger.actors[0]
    params = ledger.system.c.engine.market_params(ETH)
    # A larger fixed reward needs a larger minimum margin (at least twice the reward: issue 8).
    extra = {"keeper_reward_cap": 10_000 * USD, "min_margin": 2 * refused} if field == "keeper_fixed_reward" else {}
    extra |= ROOM
    accepted = dataclasses.replace(params, **{field: largest, **extra})
    succeeded(ledger.act(owner, "engine", "setMarketParams", ETH, accepted))
    rejected = dataclasses.replace(params, **{field: refused, **extra})
    assert ledger.act(owner, "engine", "setMarketParams", ETH, rejected).error == (
        "InvalidParameter",
        (camel(field), refused),
    )
    # The same edge in the pydantic config.
    default_config(markets=[default_market(1, "ETH-USD", 3_000, 6, **{field: largest, **extra})])
    # (a field typed as bps is refused by its pydantic type first, with the same bound)
    message = rf"{camel(field)}={refused} must be|{field}\s+Input should be less than or equal to {largest}"
    with pytest.raises(ValidationError, match=message):
        default_config(markets=[default_market(1, "ETH-USD", 3_000, 6, **{field: refused, **extra})])


def test_engine_limits__fee_shares_pool_limits_adl__bounded_in_both(make_ledger):
    ledger = make_ledger()
    owner = ledger.actors[0]
    assert ledger.act(owner, "engine", "setFeeShares", 6_000, 4_001).error == (
        "InvalidParameter",
        ("feeShares", 10_001),
    )
    assert ledger.act(owner, "engine", "setPoolLimits", 10_001, 2_000).error == (
        "InvalidParameter",
        ("maxUtilisationBps", 10_001),
    )
    assert ledger.act(owner, "engine", "setPoolLimits", 8_000, 10_001).error == (
        "InvalidParameter",
        ("reserveFactorBps", 10_001),
    )
    assert ledger.act(owner, "engine", "setAdlParams", 10_001, 1).error == (
        "InvalidParameter",
        ("adlTriggerBps", 10_001),
    )
    with pytest.raises(ValidationError, match="must be at most 10000"):
        default_config(insurance_share_bps=6_000, safety_module_share_bps=4_001)
    with pytest.raises(ValidationError):
        default_config(max_utilisation_bps=10_001)
    with pytest.raises(ValidationError):
        default_config(reserve_factor_bps=10_001)
    with pytest.raises(ValidationError):
        default_config(adl_trigger_bps=10_001)
