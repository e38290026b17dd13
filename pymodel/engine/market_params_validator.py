"""Mirrors contracts/engine/MarketParamsValidator.sol: the bounds of a market's parameters (SPEC §11),
the same bounds in the same order."""

from __future__ import annotations

from pymodel import evm
from pymodel.engine.types import MarketParams
from pymodel.errors import InvalidParameter
from pymodel.fixed_point import WAD, mul_div_down, mul_div_up

BPS = 10_000
MAX_TRADING_FEE_BPS = 1_000
# Upper bounds of the market parameters that pay keepers or charge traders (SPEC §11): even the
# owner cannot set a reward that drains the backstop layers.
MAX_LIQUIDATION_PENALTY_BPS = 1_000
MAX_KEEPER_REWARD_BPS = 100
# In whole collateral units.
MAX_KEEPER_FIXED_REWARD = 100
MAX_KEEPER_REWARD_CAP = 10_000
MAX_PARTIAL_LIQUIDATION_COOLDOWN = 86_400
MAX_FUNDING_RATE_PER_SECOND = WAD // 86_400
UINT256_MAX = evm.UINT256_MAX


class MarketParamsValidator:
    """Mirrors MarketParamsValidator (pure: the engine creates it and calls it on every
    listMarket and setMarketParams)."""

    @staticmethod
    def validate(p: MarketParams, scale: int) -> None:
        """Mirrors MarketParamsValidator.validate: the same bounds, in the same order (`scale`: the
        engine's notional scale, 10**(36 - collateral decimals))."""
        if p.initial_margin_bps == 0 or p.initial_margin_bps > BPS:
            raise InvalidParameter("initialMarginBps", p.initial_margin_bps)
        for i in range(4):
            if p.tier_maintenance_bps[i] == 0 or p.tier_maintenance_bps[i] >= p.initial_margin_bps:
                raise InvalidParameter("tierMaintenanceBps", p.tier_maintenance_bps[i])
            if i > 0 and p.tier_maintenance_bps[i] < p.tier_maintenance_bps[i - 1]:
                raise InvalidParameter("tierMaintenanceBps", p.tier_maintenance_bps[i])
            if i > 0 and p.tier_notional_caps[i] <= p.tier_notional_caps[i - 1]:
                raise InvalidParameter("tierNotionalCaps", p.tier_notional_caps[i])
        if p.tier_notional_caps[3] != UINT256_MAX:
            raise InvalidParameter("tierNotionalCaps", p.tier_notional_caps[3])
        if p.spread_bps >= BPS:
            raise InvalidParameter("spreadBps", p.spread_bps)
        if p.impact_bps > BPS:
            raise InvalidParameter("impactBps", p.impact_bps)
        if p.liquidation_slippage_bps >= BPS:
            raise InvalidParameter("liquidationSlippageBps", p.liquidation_slippage_bps)
        widest = p.spread_bps if p.spread_bps > p.liquidation_slippage_bps else p.liquidation_slippage_bps
        # Sell prices are price * (1 - bps): they must stay positive.
        if p.max_impact_bps >= BPS - widest:
            raise InvalidParameter("maxImpactBps", p.max_impact_bps)
        if p.impact_reference_notional == 0:
            raise InvalidParameter("impactReferenceNotional", 0)
        if p.trading_fee_bps > MAX_TRADING_FEE_BPS:
            raise InvalidParameter("tradingFeeBps", p.trading_fee_bps)
        if p.liquidation_penalty_bps > MAX_LIQUIDATION_PENALTY_BPS:
            raise InvalidParameter("liquidationPenaltyBps", p.liquidation_penalty_bps)
        # Whole collateral units -> token units.
        unit = 10**36 // scale
        if p.keeper_fixed_reward > MAX_KEEPER_FIXED_REWARD * unit:
            raise InvalidParameter("keeperFixedReward", p.keeper_fixed_reward)
        if p.keeper_reward_bps > MAX_KEEPER_REWARD_BPS:
            raise InvalidParameter("keeperRewardBps", p.keeper_reward_bps)
        if p.keeper_reward_cap < p.keeper_fixed_reward or p.keeper_reward_cap > MAX_KEEPER_REWARD_CAP * unit:
            raise InvalidParameter("keeperRewardCap", p.keeper_reward_cap)
        if p.partial_liquidation_bps == 0 or p.partial_liquidation_bps > BPS:
            raise InvalidParameter("partialLiquidationBps", p.partial_liquidation_bps)
        if p.partial_liquidation_cooldown == 0 or p.partial_liquidation_cooldown > MAX_PARTIAL_LIQUIDATION_COOLDOWN:
            raise InvalidParameter("partialLiquidationCooldown", p.partial_liquidation_cooldown)
        if p.max_funding_rate_per_second > MAX_FUNDING_RATE_PER_SECOND:
            raise InvalidParameter("maxFundingRatePerSecond", p.max_funding_rate_per_second)
        if p.skew_scale == 0:
            raise InvalidParameter("skewScale", 0)
        if p.max_long_open_interest == 0:
            raise InvalidParameter("maxLongOpenInterest", 0)
        if p.max_short_open_interest == 0:
            raise InvalidParameter("maxShortOpenInterest", 0)
        # Nobody may profit from being liquidated: the smallest margin pays the fixed keeper reward twice.
        if p.min_margin == 0 or p.min_margin < evm.mul(2, p.keeper_fixed_reward):
            raise InvalidParameter("minMargin", p.min_margin)
        if p.min_notional == 0 or p.min_notional > p.tier_notional_caps[0]:
            raise InvalidParameter("minNotional", p.min_notional)
        MarketParamsValidator._validate_relations(p)

    @staticmethod
    def _validate_relations(p: MarketParams) -> None:
        """Mirrors MarketParamsValidator._validateRelations: (1) at the trigger 90% of the lowest
        maintenance tier covers the worst liquidation slippage (base + impact cap) and the keeper
        reward (its fixed part over `min_notional`); (2) the smallest partial step is at least
        `min_notional`."""
        # Rounds the fixed part up: the rule errs towards refusing.
        cost_bps = p.liquidation_slippage_bps + p.max_impact_bps + p.keeper_reward_bps
        cost_bps = evm.add(cost_bps, mul_div_up(p.keeper_fixed_reward, BPS, p.min_notional))
        if evm.mul(10, cost_bps) > evm.mul(9, p.tier_maintenance_bps[0]):
            raise InvalidParameter("tierMaintenanceBps", p.tier_maintenance_bps[0])
        stepped = (
            p.partial_liquidation_threshold if p.partial_liquidation_threshold > p.min_notional else p.min_notional
        )
        if mul_div_down(stepped, p.partial_liquidation_bps, BPS) < p.min_notional:
            raise InvalidParameter("partialLiquidationBps", p.partial_liquidation_bps)


validate_market_params = MarketParamsValidator.validate
