// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SignedMath} from "../libraries/SignedMath.sol";
import {Units} from "../libraries/Units.sol";
import {EngineStorage} from "./EngineStorage.sol";

/// @title PositionMath
/// @notice One position's arithmetic: funding settled into it, equity, margin requirements, the
/// execution price of a trade against the skew, and what a decrease leaves. Reads market
/// parameters and state, writes nothing.
/// @dev `pymodel/engine/position_math.py` mirrors it.
abstract contract PositionMath is EngineStorage {
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @dev A copy of the position with the funding owed since its last settlement moved into
    /// `accruedFunding`. A copy, not an update: callers keep `before` for the aggregates.
    function _settleFunding(Position memory position, int256 index) internal view returns (Position memory settled) {
        settled = Position({
            size: position.size,
            entryPrice: position.entryPrice,
            margin: position.margin,
            accruedFunding: position.accruedFunding
                + Units.fundingCeil(position.size, index - position.fundingIndex, _scale()),
            fundingIndex: index,
            lastLiquidationAt: position.lastLiquidationAt
        });
    }

    /// @dev margin + PnL(price) - accrued funding - funding pending since the last settlement.
    function _equity(Position memory position, uint256 price, int256 index) internal view returns (int256) {
        int256 pnl = Units.pnlFloor(position.size, position.entryPrice, price, _scale());
        int256 pending = Units.fundingCeil(position.size, index - position.fundingIndex, _scale());
        return position.margin.toInt256() + pnl - position.accruedFunding - pending;
    }

    /// @dev The first tier whose cap covers the notional (rounded up) sets the rate for the whole
    /// notional.
    function _maintenanceMargin(MarketParams storage p, int256 size, uint256 price) internal view returns (uint256) {
        return _bpsOfNotionalUp(size, price, _tierBps(p, Units.notionalUp(size, price, _scale())));
    }

    /// @dev `bps` of |size| x price in collateral units, rounded up once on the exact value:
    /// owed to the protocol (fees, penalties, margin requirements).
    function _bpsOfNotionalUp(int256 size, uint256 price, uint256 bps) internal view returns (uint256) {
        return FixedPointMath.mulDivUp(SignedMath.abs(size) * price, bps, _scale() * BPS);
    }

    function _tierBps(MarketParams storage p, uint256 notional) internal view returns (uint256) {
        for (uint256 i = 0; i < 3; ++i) {
            if (notional <= p.tierNotionalCaps[i]) return p.tierMaintenanceBps[i];
        }
        return p.tierMaintenanceBps[3];
    }

    function _isLiquidatable(MarketParams storage p, Position memory position, uint256 price, int256 index)
        internal
        view
        returns (bool)
    {
        return _equity(position, price, index) < _maintenanceMargin(p, position.size, price).toInt256();
    }

    /// @dev A position that stays open keeps at least `minMargin` and `minNotional` (at `price`,
    /// rounded down: the position must clear the minimum on its own).
    function _checkMinimumPosition(MarketParams storage p, Position memory position, uint256 price) internal view {
        if (position.margin < p.minMargin) revert MarginBelowMinimum(position.margin, p.minMargin);
        uint256 notional = Units.notionalDown(position.size, price, notionalScale);
        if (notional < p.minNotional) revert NotionalBelowMinimum(notional, p.minNotional);
    }

    function _checkSlippage(bool isBuy, uint256 executionPrice, uint256 acceptablePrice) internal pure {
        if (isBuy ? executionPrice > acceptablePrice : executionPrice < acceptablePrice) {
            revert SlippageExceeded(executionPrice, acceptablePrice);
        }
    }

    /// @dev Size-weighted entry; rounds against the trader (up for longs, down for shorts).
    function _averageEntryPrice(Position memory position, int256 sizeDelta, uint256 executionPrice, int256 newSize)
        internal
        pure
        returns (uint256)
    {
        if (position.size == 0) return executionPrice;
        uint256 weighted = SignedMath.abs(position.size) * position.entryPrice
            + SignedMath.abs(sizeDelta) * executionPrice;
        if (newSize > 0) return FixedPointMath.mulDivUp(weighted, 1, SignedMath.abs(newSize));
        return FixedPointMath.mulDivDown(weighted, 1, SignedMath.abs(newSize));
    }

    /// @dev Oracle price moved against the trader by `baseBps`, plus the skew impact of the trade
    /// (capped at `maxImpactBps` of the price). Buys round up and sells round down: both against the trader.
    function _executionPrice(
        MarketParams storage p,
        MarketState storage m,
        uint256 price,
        int256 sizeDelta,
        uint256 baseBps
    ) internal view returns (uint256) {
        int256 skewBefore = m.longSize.toInt256() - m.shortSize.toInt256();
        uint256 impact = _impactPrice(p, price, skewBefore, skewBefore + sizeDelta, SignedMath.abs(sizeDelta));
        // Rounds up: the cap is part of what the trader owes.
        uint256 cap = FixedPointMath.mulDivUp(price, p.maxImpactBps, BPS);
        if (impact > cap) impact = cap;
        if (sizeDelta > 0) return FixedPointMath.mulDivUp(price, BPS + baseBps, BPS) + impact;
        uint256 sell = FixedPointMath.mulDivDown(price, BPS - baseBps, BPS);
        return sell > impact ? sell - impact : 0;
    }

    /// @dev Impact per unit of size, from the skew before and after the trade (GMX v2 style): moving
    /// |skew| from `from` to `to` away from zero costs k (to^2 - from^2) / 2 with k = price^2 x
    /// impactBps / (BPS x impactReferenceNotional x notionalScale^2), whatever the steps, so splitting an
    /// order saves nothing; a trade that reduces |skew| pays none. `from` is |skewBefore| when the
    /// skew keeps its side, else 0 (the part that crosses zero is free). Every step rounds up (owed).
    function _impactPrice(MarketParams storage p, uint256 price, int256 skewBefore, int256 skewAfter, uint256 sizeAbs)
        internal
        view
        returns (uint256)
    {
        uint256 to = SignedMath.abs(skewAfter);
        uint256 from = (skewBefore > 0) == (skewAfter > 0) ? SignedMath.abs(skewBefore) : 0;
        if (to <= from) return 0;
        // The mean |skew| over the trade: (to^2 - from^2) / (2 |sizeDelta|).
        uint256 meanSkew = FixedPointMath.mulDivUp(to - from, to + from, 2 * sizeAbs);
        uint256 meanNotional = FixedPointMath.mulDivUp(meanSkew, price, notionalScale);
        return FixedPointMath.mulDivUp(
            FixedPointMath.mulDivUp(meanNotional, price, p.impactReferenceNotional), p.impactBps, BPS
        );
    }

    /// @dev The position after closing `-sizeDelta` of it: PnL, all accrued funding and the fee
    /// are realised against margin. A voluntary close cannot create bad debt (only liquidations
    /// walk the waterfall), and what remains must stay above maintenance margin.
    function _decreased(
        MarketParams storage p,
        Position memory next,
        int256 sizeDelta,
        Trade memory trade,
        int256 index
    ) internal view returns (Position memory, Settlement memory settled) {
        // The closed part keeps the position's sign; PnL is floored (favours the protocol).
        settled.realisedPnl = Units.pnlFloor(-sizeDelta, next.entryPrice, trade.executionPrice, notionalScale);
        settled.fundingPaid = next.accruedFunding;
        int256 marginAfter =
            next.margin.toInt256() + settled.realisedPnl - settled.fundingPaid - trade.fee.toInt256();
        if (marginAfter < 0) revert InsufficientMargin(marginAfter, 0);
        next.size += sizeDelta;
        next.accruedFunding = 0;
        if (next.size == 0) {
            settled.payout = uint256(marginAfter);
            delete next;
            return (next, settled);
        }
        next.margin = uint256(marginAfter);
        int256 equityAfter = _equity(next, trade.price, index);
        uint256 maintenance = _maintenanceMargin(p, next.size, trade.price);
        if (equityAfter < maintenance.toInt256()) revert InsufficientMargin(equityAfter, maintenance);
        return (next, settled);
    }
}
