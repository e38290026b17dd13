// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SignedMath} from "../libraries/SignedMath.sol";
import {Units} from "../libraries/Units.sol";
import {Funding} from "../libraries/Funding.sol";
import {PositionMath} from "./PositionMath.sol";

/// @title MarketAccounting
/// @notice A market's books: funding accrual, the side aggregates and bankruptcy bounds, the open
/// interest and utilisation caps, the sides' open profit, and the cash between engine, pool,
/// insurance and safety module (a decrease's settlement with its pro-rata haircut, the fee split).
/// @dev `pymodel/engine/market_accounting.py` mirrors it.
abstract contract MarketAccounting is PositionMath {
    using SafeCast for uint256;
    using SafeCast for int256;
    using SafeERC20 for IERC20;

    /* FUNDING */

    /// @dev The market's funding rate and index at `block.timestamp` (the rule is `Funding`'s).
    function _currentFundingIndex(MarketParams storage p, MarketState storage m, uint256 price)
        internal
        view
        returns (int256 rate, int256 index)
    {
        rate = Funding.rate(m.longSize, m.shortSize, p.maxFundingRatePerSecond, p.skewScale);
        uint256 elapsed = block.timestamp - m.lastFundingAt;
        index = Funding.indexAfter(m.fundingIndex, rate, elapsed, price);
    }

    /// @dev A listed market's oracle price and funding index as of this block.
    function _viewContext(uint256 marketId)
        internal
        view
        returns (MarketParams storage p, uint256 price, int256 index)
    {
        MarketState storage m;
        (p, m) = _listed(marketId);
        price = oracle.price(marketId);
        (, index) = _currentFundingIndex(p, m, price);
    }

    function _accrueFunding(uint256 marketId, MarketParams storage p, MarketState storage m, uint256 price)
        internal
    {
        if (block.timestamp == m.lastFundingAt) return;
        (int256 rate, int256 index) = _currentFundingIndex(p, m, price);
        m.fundingIndex = index;
        m.lastFundingAt = block.timestamp;
        emit FundingAccrued(marketId, rate, index);
    }

    /* AGGREGATES */

    function _replaceInAggregates(MarketState storage m, Position memory before, Position memory next) internal {
        _removeFromAggregates(m, before);
        _addToAggregates(m, next);
    }

    function _addToAggregates(MarketState storage m, Position memory position) internal {
        if (position.size > 0) {
            m.longSize += uint256(position.size);
            m.longEntryNotional += uint256(position.size) * position.entryPrice;
            _includeInBound(m, position);
            ++m.longPositions;
        } else if (position.size < 0) {
            m.shortSize += SignedMath.abs(position.size);
            m.shortEntryNotional += SignedMath.abs(position.size) * position.entryPrice;
            _includeInBound(m, position);
            ++m.shortPositions;
        }
        m.sumSizeTimesIndex += position.size * position.fundingIndex;
        m.accruedFundingTotal += position.accruedFunding;
    }

    function _removeFromAggregates(MarketState storage m, Position memory position) internal {
        if (position.size > 0) {
            m.longSize -= uint256(position.size);
            m.longEntryNotional -= uint256(position.size) * position.entryPrice;
            --m.longPositions;
        } else if (position.size < 0) {
            m.shortSize -= SignedMath.abs(position.size);
            m.shortEntryNotional -= SignedMath.abs(position.size) * position.entryPrice;
            --m.shortPositions;
        }
        m.sumSizeTimesIndex -= position.size * position.fundingIndex;
        m.accruedFundingTotal -= position.accruedFunding;
    }

    /// @dev Widens the side's bankruptcy bound to cover `position` (the side's first position sets
    /// it). A long's loss plus funding exceeds its margin exactly when size x (k + index - price) /
    /// scale > 0, k = entry - fundingIndex - scale x (margin - accruedFunding) / size: k rounds up
    /// for a long (the bound is a maximum), down for a short (mirror image, a minimum).
    function _includeInBound(MarketState storage m, Position memory position) internal {
        int256 base = position.entryPrice.toInt256() - position.fundingIndex;
        int256 cushion = SignedMath.mulDivFloor(
            position.margin.toInt256() - position.accruedFunding, _scale(), SignedMath.abs(position.size)
        );
        if (position.size > 0) {
            if (m.longPositions == 0 || base - cushion > m.longBankruptcyBound) m.longBankruptcyBound = base - cushion;
        } else if (m.shortPositions == 0 || base + cushion < m.shortBankruptcyBound) {
            m.shortBankruptcyBound = base + cushion;
        }
    }

    function _checkOpenInterest(uint256 marketId, MarketParams storage p, MarketState storage m, bool isLong)
        internal
        view
    {
        if (isLong && m.longSize > p.maxLongOpenInterest) {
            revert OpenInterestCapExceeded(marketId, m.longSize, p.maxLongOpenInterest);
        }
        if (!isLong && m.shortSize > p.maxShortOpenInterest) {
            revert OpenInterestCapExceeded(marketId, m.shortSize, p.maxShortOpenInterest);
        }
    }

    function _checkUtilisation() internal view {
        uint256 reserved = _reservedCash();
        // Rounds down: the limit is what the pool allows.
        uint256 limit = FixedPointMath.mulDivDown(pool.cash(), maxUtilisationBps, BPS);
        if (reserved > limit) revert UtilisationCapExceeded(reserved, limit);
    }

    /// @dev What open interest holds back of the pool's cash, over every market.
    function _reservedCash() internal view returns (uint256 reserved) {
        for (uint256 i = 0; i < _marketIds.length; ++i) {
            MarketState storage m = _markets[_marketIds[i]];
            // Rounds up: reserves are what the protocol holds back.
            reserved += FixedPointMath.mulDivUp(
                m.longEntryNotional + m.shortEntryNotional, reserveFactorBps, _scale() * BPS
            );
        }
    }

    /// @dev The side's net unrealised profit at `price`, in collateral units (rounded down; 0
    /// when the side is at a loss).
    function _sideProfit(MarketState storage m, uint256 price, bool isLong) internal view returns (uint256) {
        int256 numerator = isLong
            ? m.longSize.toInt256() * price.toInt256() - m.longEntryNotional.toInt256()
            : m.shortEntryNotional.toInt256() - m.shortSize.toInt256() * price.toInt256();
        if (numerator <= 0) return 0;
        return FixedPointMath.mulDivDown(uint256(numerator), 1, _scale());
    }

    /// @dev The side's net unrealised profit at `price` over the pool's redemption mark, in bps
    /// (rounded down; no assets at all reads as the maximum).
    function _sideProfitRatio(MarketState storage m, uint256 price, bool isLong) internal view returns (uint256) {
        uint256 profit = _sideProfit(m, price, isLong);
        if (profit == 0) return 0;
        uint256 assets = pool.totalAssetsForRedeem();
        if (assets == 0) return type(uint256).max;
        return FixedPointMath.mulDivDown(profit, BPS, assets);
    }

    /* CASH */

    /// @dev Stores the decreased position and moves the cash: the pool, as counterparty, receives
    /// the trader's loss and funding or pays the profit — out of its free cash only: the rest of
    /// the profit is cut from the payout (or the remaining margin), recorded and emitted.
    function _settleDecrease(
        address account,
        uint256 marketId,
        Position memory next,
        Settlement memory settled,
        uint256 fee
    ) internal returns (Position memory) {
        int256 poolDelta = settled.fundingPaid - settled.realisedPnl;
        if (poolDelta < 0) {
            uint256 owed = SignedMath.abs(poolDelta);
            uint256 haircut = _haircut(
                marketId, _positions[account][marketId].size > 0, owed, next.size == 0 ? settled.payout : next.margin
            );
            if (haircut > 0) {
                if (next.size == 0) {
                    settled.payout -= haircut;
                } else {
                    // Cut from the remaining position's margin: its side's bankruptcy bound follows.
                    next.margin -= haircut;
                    _includeInBound(_markets[marketId], next);
                }
                poolDelta += haircut.toInt256();
                socialisedLoss += haircut;
                emit ProfitHaircut(account, marketId, owed, owed - haircut, haircut);
            }
        }
        _positions[account][marketId] = next;
        _settleWithPool(poolDelta);
        _distributeFee(marketId, fee);
        if (settled.payout > 0) collateral.safeTransfer(account, settled.payout);
        return next;
    }

    /// @dev Pro rata, not first come, first served: when the pool's free cash (cash above what
    /// open interest reserves) is short of the side's open profit plus `owed` (the side is
    /// already without the closed part), `owed` is paid in the proportion free cash / claims,
    /// rounded down (paid out); the haircut is the rest, at most `room` (what the trader has left).
    function _haircut(uint256 marketId, bool isLong, uint256 owed, uint256 room)
        internal
        view
        returns (uint256 haircut)
    {
        uint256 cash = pool.cash();
        uint256 reserved = _reservedCash();
        uint256 freeCash = cash > reserved ? cash - reserved : 0;
        uint256 claims = owed + _sideProfit(_markets[marketId], oracle.price(marketId), isLong);
        if (claims <= freeCash) return 0;
        haircut = owed - FixedPointMath.mulDivDown(owed, freeCash, claims);
        if (haircut > room) haircut = room;
    }

    /// @dev Positive: the engine pays the pool, repaying the uncovered deficit first; negative:
    /// the pool pays the engine.
    function _settleWithPool(int256 amount) internal {
        if (amount > 0) {
            uint256 credit = uint256(amount);
            uint256 repaid = credit < uncoveredDeficit ? credit : uncoveredDeficit;
            if (repaid > 0) {
                uncoveredDeficit -= repaid;
                emit DeficitRepaid(repaid, uncoveredDeficit);
            }
            if (credit > repaid) pool.creditFromEngine(credit - repaid);
        } else if (amount < 0) {
            pool.payToEngine(SignedMath.abs(amount));
        }
    }

    /// @dev Shares round down (paid out); the pool takes the remainder.
    function _distributeFee(uint256 marketId, uint256 fee) internal {
        if (fee == 0) return;
        uint256 toInsurance = FixedPointMath.mulDivDown(fee, insuranceShareBps, BPS);
        uint256 toSafetyModule = FixedPointMath.mulDivDown(fee, safetyModuleShareBps, BPS);
        uint256 toPool = fee - toInsurance - toSafetyModule;
        if (toPool > 0) pool.creditFromEngine(toPool);
        if (toInsurance > 0) insuranceFund.depositFromEngine(marketId, toInsurance);
        if (toSafetyModule > 0) safetyModule.depositReward(toSafetyModule);
        emit FeesSplit(marketId, toPool, toInsurance, toSafetyModule);
    }
}
