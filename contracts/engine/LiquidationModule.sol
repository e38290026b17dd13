// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SignedMath} from "../libraries/SignedMath.sol";
import {Units} from "../libraries/Units.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {ILPPool} from "../interfaces/ILPPool.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {ISafetyModule} from "../interfaces/ISafetyModule.sol";
import {EngineStorage} from "./EngineStorage.sol";
import {MarketAccounting} from "./MarketAccounting.sol";
import {MarketParamsValidator} from "./MarketParamsValidator.sol";

/// @title LiquidationModule
/// @notice Liquidation: the plan (size closed, prices, the split of what it realises), the loss
/// waterfall, the engine's advance, and the views that read the same plan (`previewLiquidation`,
/// the liquidation and bankruptcy prices) — entry points of `PerpEngine` run by DELEGATECALL: the engine's
/// stubs of the same signatures forward their calldata here, so the code runs in the engine's
/// storage with the engine's address as `this` (events, errors and return data are the engine's).
/// Created by the engine's constructor with the engine's own immutables; called directly it only
/// touches its own, unused, storage.
/// @dev `pymodel/engine/liquidation_module.py` mirrors it.
contract LiquidationModule is MarketAccounting {
    using SafeCast for uint256;
    using SafeCast for int256;
    using SafeERC20 for IERC20;

    constructor(
        IERC20 collateral_,
        IOracleAdapter oracle_,
        ILPPool pool_,
        IInsuranceFund insuranceFund_,
        ISafetyModule safetyModule_,
        uint256 notionalScale_,
        MarketParamsValidator marketParamsValidator_,
        address owner_
    )
        EngineStorage(
            collateral_, oracle_, pool_, insuranceFund_, safetyModule_, notionalScale_, marketParamsValidator_, owner_
        )
    {}

    /* LIQUIDATION */

    /// @notice `IPerpEngine.liquidate`, run by `PerpEngine` through DELEGATECALL.
    function liquidate(address account, uint256 marketId) external {
        (MarketParams storage p, MarketState storage m) = _listed(marketId);
        Position memory before = _positions[account][marketId];
        if (before.size == 0) revert NoPosition(account, marketId);

        uint256 price = oracle.price(marketId);
        _accrueFunding(marketId, p, m, price);
        Liquidation memory liq = _planLiquidation(account, marketId, p, before, price, m.fundingIndex);
        Position memory next = _closePart(p, liq, _settleFunding(before, m.fundingIndex));
        // What the pool is owed as counterparty: the trader's loss and funding on the closed part.
        int256 poolClaim = liq.fundingPart - liq.pnl;

        bool covered = liq.realised >= liq.reward.toInt256();
        // Penalty and refund are zero when the reward is not covered.
        if (covered) _splitRemainder(p, liq);
        _replaceInAggregates(m, before, next);
        uint256 unpaid = covered
            ? _settleLiquidationWithPool(poolClaim)
            : _settleBadDebt(account, marketId, uint256(liq.reward.toInt256() - liq.realised), poolClaim);
        if (unpaid > 0) _advance(account, marketId, liq, unpaid);
        // A partial step keeps the refund as margin of the remaining position (more margin: the side's
        // bankruptcy bound, set from the smaller margin, stays conservative).
        if (!liq.full && liq.refund > 0) next.margin += liq.refund;
        _positions[account][marketId] = next;
        collateral.safeTransfer(msg.sender, liq.reward);
        if (liq.penalty > 0) insuranceFund.depositFromEngine(marketId, liq.penalty);
        if (liq.full && liq.refund > 0) collateral.safeTransfer(account, liq.refund);
        emit Liquidated(
            account,
            marketId,
            msg.sender,
            liq.price,
            liq.executionPrice,
            liq.bankruptcyPrice,
            liq.sizeClosed,
            liq.realised,
            liq.reward,
            liq.penalty,
            liq.refund
        );
    }

    /// @dev Checks the position is liquidatable at `price` and fixes the size closed and its prices.
    function _planLiquidation(
        address account,
        uint256 marketId,
        MarketParams storage p,
        Position memory before,
        uint256 price,
        int256 index
    ) internal view returns (Liquidation memory liq) {
        liq.price = price;
        int256 equityNow = _equity(before, price, index);
        uint256 maintenance = _maintenanceMargin(p, before.size, price);
        if (equityNow >= maintenance.toInt256()) revert PositionHealthy(account, marketId, equityNow, maintenance);
        liq.bankruptcyPrice = _bankruptcyPrice(before, index);

        // Large positions close in partial steps, with a cooldown between steps.
        uint256 sizeAbs = SignedMath.abs(before.size);
        uint256 closeAbs = sizeAbs;
        if (Units.notionalUp(before.size, liq.price, _scale()) > p.partialLiquidationThreshold) {
            uint256 readyAt = before.lastLiquidationAt + p.partialLiquidationCooldown;
            if (before.lastLiquidationAt != 0 && block.timestamp < readyAt) {
                revert LiquidationCooldown(account, marketId, readyAt);
            }
            // Rounds up: closes at least the configured fraction.
            closeAbs = FixedPointMath.mulDivUp(sizeAbs, p.partialLiquidationBps, BPS);
        }
        liq.full = closeAbs == sizeAbs;
        liq.sizeClosed = before.size > 0 ? closeAbs.toInt256() : -closeAbs.toInt256();

        // Execution moves against the position: the on-chain stand-in for a book with no depth.
        liq.executionPrice =
            _executionPrice(p, _markets[marketId], liq.price, -liq.sizeClosed, p.liquidationSlippageBps);
        // Unscaled (1e36 units): the penalty and the reward each round once, on the exact value.
        liq.exactNotionalClosed = SignedMath.abs(liq.sizeClosed) * liq.price;
    }

    /// @dev Realises the closed part against its pro-rata margin and funding (rounded toward
    /// the remaining position) and returns what is left of the position.
    function _closePart(MarketParams storage p, Liquidation memory liq, Position memory next)
        internal
        view
        returns (Position memory)
    {
        uint256 sizeAbs = SignedMath.abs(next.size);
        uint256 closeAbs = SignedMath.abs(liq.sizeClosed);
        liq.marginPart = liq.full ? next.margin : FixedPointMath.mulDivDown(next.margin, closeAbs, sizeAbs);
        liq.fundingPart =
            liq.full ? next.accruedFunding : SignedMath.mulDivTowardZero(next.accruedFunding, closeAbs, sizeAbs);
        liq.pnl = Units.pnlFloor(liq.sizeClosed, next.entryPrice, liq.executionPrice, _scale());
        liq.realised = liq.marginPart.toInt256() + liq.pnl - liq.fundingPart;
        // Rounds down: the reward is paid out.
        liq.reward = p.keeperFixedReward
            + FixedPointMath.mulDivDown(liq.exactNotionalClosed, p.keeperRewardBps, _scale() * BPS);
        if (liq.reward > p.keeperRewardCap) liq.reward = p.keeperRewardCap;

        next.size -= liq.sizeClosed;
        next.margin -= liq.marginPart;
        next.accruedFunding -= liq.fundingPart;
        next.lastLiquidationAt = block.timestamp;
        if (next.size == 0) delete next;
        return next;
    }

    /// @dev After the keeper reward: the penalty (rounded up once, on the exact notional: owed to
    /// the protocol; capped by what is left) to insurance, the rest refunded.
    function _splitRemainder(MarketParams storage p, Liquidation memory liq) internal view {
        uint256 rest = uint256(liq.realised) - liq.reward;
        liq.penalty = FixedPointMath.mulDivUp(liq.exactNotionalClosed, p.liquidationPenaltyBps, _scale() * BPS);
        if (liq.penalty > rest) liq.penalty = rest;
        liq.refund = rest - liq.penalty;
    }

    /// @dev The loss waterfall: the market's insurance bucket, then the safety module (capped per
    /// event), then the pool, whose claim as counterparty shrinks by what nobody else covers.
    /// Returns what the pool owed beyond its cash.
    function _settleBadDebt(address account, uint256 marketId, uint256 shortfall, int256 poolClaim)
        internal
        returns (uint256 unpaid)
    {
        uint256 fromInsurance = insuranceFund.cover(marketId, shortfall);
        uint256 fromSafetyModule = shortfall > fromInsurance ? safetyModule.slash(shortfall - fromInsurance) : 0;
        uint256 fromPool = shortfall - fromInsurance - fromSafetyModule;
        if (shortfall != fromInsurance + fromSafetyModule + fromPool) revert WaterfallMismatch();
        unpaid = _settleLiquidationWithPool(poolClaim - fromPool.toInt256());
        emit BadDebtSettled(account, marketId, shortfall, fromInsurance, fromSafetyModule, fromPool);
    }

    /// @dev As `_settleWithPool`, but the pool pays at most the cash it has; returns the rest.
    function _settleLiquidationWithPool(int256 amount) internal returns (uint256 unpaid) {
        if (amount >= 0) {
            _settleWithPool(amount);
            return 0;
        }
        uint256 owed = SignedMath.abs(amount);
        uint256 cash = pool.cash();
        uint256 paid = owed < cash ? owed : cash;
        if (paid > 0) pool.payToEngine(paid);
        return owed - paid;
    }

    /// @dev Never a revert for lack of funds: the engine advances what the pool could not pay out
    /// of its own balance (other traders' margins), recorded as uncovered deficit that the pool
    /// owes back; what even that balance cannot cover is cut from this liquidation's payouts
    /// (refund, then penalty, then keeper reward) and not recorded.
    function _advance(address account, uint256 marketId, Liquidation memory liq, uint256 unpaid) internal {
        unpaid = _cutToBalance(liq, collateral.balanceOf(address(this)), unpaid);
        if (unpaid == 0) return;
        uncoveredDeficit += unpaid;
        emit DeficitUncovered(account, marketId, unpaid, uncoveredDeficit);
    }

    /// @dev `_advance`'s cut, shared with `previewLiquidation`: payouts beyond `balance` (the
    /// engine's, once the pool paid what it could) are cut from the refund, then the penalty, then
    /// the keeper reward; returns what is left of `unpaid` to record as uncovered deficit.
    function _cutToBalance(Liquidation memory liq, uint256 balance, uint256 unpaid) internal pure returns (uint256) {
        uint256 payouts = liq.reward + liq.penalty + liq.refund;
        if (balance >= payouts) return unpaid;
        uint256 cut = payouts - balance;
        unpaid = cut < unpaid ? unpaid - cut : 0;
        uint256 part = cut < liq.refund ? cut : liq.refund;
        liq.refund -= part;
        cut -= part;
        part = cut < liq.penalty ? cut : liq.penalty;
        liq.penalty -= part;
        liq.reward -= cut - part;
        return unpaid;
    }

    /* VIEWS */

    /// @notice `IPerpEngine.previewLiquidation`, run by `PerpEngine` through DELEGATECALL.
    function previewLiquidation(address account, uint256 marketId)
        external
        view
        returns (LiquidationPreview memory preview)
    {
        (MarketParams storage p, uint256 price, int256 index) = _viewContext(marketId);
        Position memory before = _positions[account][marketId];
        if (before.size == 0) revert NoPosition(account, marketId);
        Liquidation memory liq = _planLiquidation(account, marketId, p, before, price, index);
        _closePart(p, liq, _settleFunding(before, index));
        if (liq.realised >= liq.reward.toInt256()) {
            _splitRemainder(p, liq);
        } else {
            preview.shortfall = uint256(liq.reward.toInt256() - liq.realised);
            uint256 bucket = insuranceFund.bucketOf(marketId);
            preview.fromInsurance = preview.shortfall < bucket ? preview.shortfall : bucket;
            uint256 rest = preview.shortfall - preview.fromInsurance;
            uint256 cap = safetyModule.slashCap();
            preview.fromSafetyModule = rest < cap ? rest : cap;
            preview.fromPool = rest - preview.fromSafetyModule;
        }
        // The pool's part beyond its cash, and the cut: `liquidate`'s `_settleLiquidationWithPool`
        // and `_advance` on the balances they would meet (the layers above pay the engine first).
        int256 poolOwes = liq.pnl - liq.fundingPart + preview.fromPool.toInt256();
        if (poolOwes > 0) {
            uint256 cash = pool.cash();
            uint256 paid = uint256(poolOwes) < cash ? uint256(poolOwes) : cash;
            if (uint256(poolOwes) > paid) {
                uint256 balance =
                    collateral.balanceOf(address(this)) + preview.fromInsurance + preview.fromSafetyModule + paid;
                preview.uncovered = _cutToBalance(liq, balance, uint256(poolOwes) - paid);
            }
        }
        preview.oraclePrice = liq.price;
        preview.executionPrice = liq.executionPrice;
        preview.bankruptcyPrice = liq.bankruptcyPrice;
        preview.sizeClosed = liq.sizeClosed;
        preview.realised = liq.realised;
        preview.keeperReward = liq.reward;
        preview.penalty = liq.penalty;
        preview.refund = liq.refund;
    }

    /// @notice `IPerpEngine.liquidationPrice`, run by `PerpEngine` through DELEGATECALL.
    function liquidationPrice(address account, uint256 marketId) external view returns (uint256) {
        (MarketParams storage p,, int256 index) = _viewContext(marketId);
        Position memory position = _positions[account][marketId];
        if (position.size == 0) return 0;
        return _liquidationPrice(p, position, index);
    }

    /// @notice `IPerpEngine.bankruptcyPrice`, run by `PerpEngine` through DELEGATECALL.
    function bankruptcyPrice(address account, uint256 marketId) external view returns (uint256) {
        (,, int256 index) = _viewContext(marketId);
        Position memory position = _positions[account][marketId];
        if (position.size == 0) return 0;
        return _bankruptcyPrice(position, index);
    }

    /// @dev Exact with floored PnL: long -> the lowest price with equity >= 0, short -> the highest.
    function _bankruptcyPrice(Position memory position, int256 index) internal view returns (uint256) {
        int256 funding =
            position.accruedFunding + Units.fundingCeil(position.size, index - position.fundingIndex, _scale());
        int256 cushion = position.margin.toInt256() - funding;
        uint256 sizeAbs = SignedMath.abs(position.size);
        int256 move = position.size > 0
            ? -SignedMath.mulDivFloor(cushion, _scale(), sizeAbs)
            : SignedMath.mulDivFloor(cushion, _scale(), sizeAbs);
        int256 bankruptcy = position.entryPrice.toInt256() + move;
        return bankruptcy > 0 ? uint256(bankruptcy) : 0;
    }

    /// @dev Long: liquidatable below the returned price; short: above it (0: no such price).
    /// Per tier, equity = rate x notional is solved ignoring rounding (longs round up, shorts
    /// down) and clipped to the prices at which that tier applies: the maintenance rate jumps at
    /// each tier boundary, so the liquidatable prices need not be one interval. The region met
    /// first as the price moves against the position wins: longs scan from the top tier down,
    /// shorts from the bottom tier up.
    function _liquidationPrice(MarketParams storage p, Position memory position, int256 index)
        internal
        view
        returns (uint256)
    {
        int256 funding =
            position.accruedFunding + Units.fundingCeil(position.size, index - position.fundingIndex, _scale());
        int256 cushionScaled = (position.margin.toInt256() - funding) * _scale().toInt256();
        uint256 sizeAbs = SignedMath.abs(position.size);
        int256 base = (sizeAbs * position.entryPrice).toInt256();
        bool isLong = position.size > 0;
        int256 numerator = isLong ? base - cushionScaled : base + cushionScaled;
        if (numerator <= 0) return 0;
        for (uint256 k = 0; k < 4; ++k) {
            uint256 i = isLong ? 3 - k : k;
            uint256 rate = p.tierMaintenanceBps[i];
            // The tier applies to prices in (low, high].
            uint256 low = i == 0 ? 0 : FixedPointMath.mulDivDown(p.tierNotionalCaps[i - 1], _scale(), sizeAbs);
            uint256 high =
                i == 3 ? type(uint256).max : FixedPointMath.mulDivDown(p.tierNotionalCaps[i], _scale(), sizeAbs);
            if (isLong) {
                uint256 solution = FixedPointMath.mulDivUp(uint256(numerator), BPS, sizeAbs * (BPS - rate));
                if (solution >= low + 2) return solution <= high ? solution : high + 1;
            } else {
                uint256 solution = FixedPointMath.mulDivDown(uint256(numerator), BPS, sizeAbs * (BPS + rate));
                if (solution < high) return solution > low ? solution : low;
            }
        }
        return 0;
    }
}
