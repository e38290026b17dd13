// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPerpEngineTypes} from "../interfaces/IPerpEngine.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";

/// @title MarketParamsValidator
/// @notice The bounds of a market's parameters (SPEC §11), outside `PerpEngine` so the engine stays
/// under the 24 KB runtime-size limit. The engine creates it in its constructor and calls it on every
/// `listMarket` and `setMarketParams`; a broken bound reverts with the engine's own
/// `InvalidParameter(name, value)`, which the engine's call passes on unchanged.
contract MarketParamsValidator {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_TRADING_FEE_BPS = 1_000;
    /// @dev Upper bounds of the market parameters that pay keepers or charge traders (SPEC §11):
    /// even the owner cannot set a reward that drains the backstop layers.
    uint256 internal constant MAX_LIQUIDATION_PENALTY_BPS = 1_000;
    uint256 internal constant MAX_KEEPER_REWARD_BPS = 100;
    /// @dev In whole collateral units.
    uint256 internal constant MAX_KEEPER_FIXED_REWARD = 100;
    uint256 internal constant MAX_KEEPER_REWARD_CAP = 10_000;
    uint256 internal constant MAX_PARTIAL_LIQUIDATION_COOLDOWN = 1 days;
    /// @dev 100% of notional per day.
    uint256 internal constant MAX_FUNDING_RATE_PER_SECOND = WAD / 1 days;

    /// @dev One shared revert site for every bound (smaller code).
    function _requireValid(bool valid, string memory name, uint256 value) internal pure {
        if (!valid) revert IPerpEngineTypes.InvalidParameter(name, value);
    }

    /// @notice Reverts `IPerpEngineTypes.InvalidParameter(name, value)` on the first bound `p` breaks.
    /// @dev The same bounds, in the same order, as `pymodel.engine.market_params_validator.MarketParamsValidator.validate`.
    function validate(IPerpEngineTypes.MarketParams calldata p, uint256 notionalScale) external pure {
        _requireValid(p.initialMarginBps != 0 && p.initialMarginBps <= BPS, "initialMarginBps", p.initialMarginBps);
        for (uint256 i = 0; i < 4; ++i) {
            _requireValid(
                p.tierMaintenanceBps[i] != 0 && p.tierMaintenanceBps[i] < p.initialMarginBps,
                "tierMaintenanceBps",
                p.tierMaintenanceBps[i]
            );
            _requireValid(
                i == 0 || p.tierMaintenanceBps[i] >= p.tierMaintenanceBps[i - 1],
                "tierMaintenanceBps",
                p.tierMaintenanceBps[i]
            );
            _requireValid(
                i == 0 || p.tierNotionalCaps[i] > p.tierNotionalCaps[i - 1],
                "tierNotionalCaps",
                p.tierNotionalCaps[i]
            );
        }
        _requireValid(p.tierNotionalCaps[3] == type(uint256).max, "tierNotionalCaps", p.tierNotionalCaps[3]);
        _requireValid(p.spreadBps < BPS, "spreadBps", p.spreadBps);
        _requireValid(p.impactBps <= BPS, "impactBps", p.impactBps);
        _requireValid(p.liquidationSlippageBps < BPS, "liquidationSlippageBps", p.liquidationSlippageBps);
        uint256 widest = p.spreadBps > p.liquidationSlippageBps ? p.spreadBps : p.liquidationSlippageBps;
        // Sell prices are price * (1 - bps): they must stay positive.
        _requireValid(p.maxImpactBps < BPS - widest, "maxImpactBps", p.maxImpactBps);
        _requireValid(p.impactReferenceNotional != 0, "impactReferenceNotional", 0);
        _requireValid(p.tradingFeeBps <= MAX_TRADING_FEE_BPS, "tradingFeeBps", p.tradingFeeBps);
        _requireValid(
            p.liquidationPenaltyBps <= MAX_LIQUIDATION_PENALTY_BPS,
            "liquidationPenaltyBps",
            p.liquidationPenaltyBps
        );
        // Whole collateral units -> token units.
        uint256 unit = 1e36 / notionalScale;
        _requireValid(p.keeperFixedReward <= MAX_KEEPER_FIXED_REWARD * unit, "keeperFixedReward", p.keeperFixedReward);
        _requireValid(p.keeperRewardBps <= MAX_KEEPER_REWARD_BPS, "keeperRewardBps", p.keeperRewardBps);
        _requireValid(
            p.keeperRewardCap >= p.keeperFixedReward && p.keeperRewardCap <= MAX_KEEPER_REWARD_CAP * unit,
            "keeperRewardCap",
            p.keeperRewardCap
        );
        _requireValid(
            p.partialLiquidationBps != 0 && p.partialLiquidationBps <= BPS,
            "partialLiquidationBps",
            p.partialLiquidationBps
        );
        _requireValid(
            p.partialLiquidationCooldown != 0 && p.partialLiquidationCooldown <= MAX_PARTIAL_LIQUIDATION_COOLDOWN,
            "partialLiquidationCooldown",
            p.partialLiquidationCooldown
        );
        _requireValid(
            p.maxFundingRatePerSecond <= MAX_FUNDING_RATE_PER_SECOND,
            "maxFundingRatePerSecond",
            p.maxFundingRatePerSecond
        );
        _requireValid(p.skewScale != 0, "skewScale", 0);
        _requireValid(p.maxLongOpenInterest != 0, "maxLongOpenInterest", 0);
        _requireValid(p.maxShortOpenInterest != 0, "maxShortOpenInterest", 0);
        // Nobody may profit from being liquidated: the smallest margin pays the fixed keeper reward twice.
        _requireValid(p.minMargin != 0 && p.minMargin >= 2 * p.keeperFixedReward, "minMargin", p.minMargin);
        _requireValid(p.minNotional != 0 && p.minNotional <= p.tierNotionalCaps[0], "minNotional", p.minNotional);
        _validateRelations(p);
    }

    /// @dev Bounds between parameters (SPEC §11, revised). (1) At the trigger, 90% of the lowest maintenance tier
    /// covers what a liquidation can cost beyond the position's equity: the worst slippage (base + the impact cap)
    /// and the keeper reward (its bps, and its fixed part over the smallest notional, rounded up):
    /// `10 * (slippage + maxImpact + rewardBps + ceil(fixedReward * BPS / minNotional)) <= 9 * tier0`. Liquidating
    /// a position that has just become liquidatable then leaves no shortfall, with a tenth of the maintenance
    /// margin to spare (for the price moving before the keeper acts); the penalty is paid only from what is left
    /// (SPEC §6.4), so it never makes a shortfall. Higher tiers and larger notionals only widen the gap. (2) The
    /// smallest partial step, `partialLiquidationBps` of the smallest position liquidated in steps, is at least
    /// `minNotional`, so (1) bounds each step's keeper reward by what the step releases.
    function _validateRelations(IPerpEngineTypes.MarketParams calldata p) internal pure {
        // Rounds the fixed part up: the rule errs towards refusing.
        uint256 costBps = p.liquidationSlippageBps + p.maxImpactBps + p.keeperRewardBps
            + FixedPointMath.mulDivUp(p.keeperFixedReward, BPS, p.minNotional);
        _requireValid(10 * costBps <= 9 * p.tierMaintenanceBps[0], "tierMaintenanceBps", p.tierMaintenanceBps[0]);
        uint256 stepped =
            p.partialLiquidationThreshold > p.minNotional ? p.partialLiquidationThreshold : p.minNotional;
        _requireValid(
            FixedPointMath.mulDivDown(stepped, p.partialLiquidationBps, BPS) >= p.minNotional,
            "partialLiquidationBps",
            p.partialLiquidationBps
        );
    }
}
