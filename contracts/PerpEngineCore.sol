// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MarketParamsValidator} from "./MarketParamsValidator.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {ILPPool} from "./interfaces/ILPPool.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IPerpEngineTypes} from "./interfaces/IPerpEngine.sol";
import {ISafetyModule} from "./interfaces/ISafetyModule.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";
import {SignedMath} from "./libraries/SignedMath.sol";
import {Units} from "./libraries/Units.sol";

/// @title PerpEngineCore
/// @notice `PerpEngine`'s storage, immutables and the internal functions that its extension
/// (`PerpEngineExtension`, run by DELEGATECALL in the engine's storage) shares with it. Split out
/// only to keep the engine under the 24,576-byte runtime limit: one engine, one storage layout
/// (declared here only; neither contract adds a state variable), two code halves.
/// @dev `pymodel/perp_engine.py` mirrors both halves as one contract.
abstract contract PerpEngineCore is IPerpEngineTypes, Ownable {
    using SafeCast for uint256;
    using SafeCast for int256;

    /* CONSTANTS */

    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_MARKETS = 16;

    /* STORAGE */

    IERC20 public immutable collateral;
    IOracleAdapter public immutable oracle;
    ILPPool public immutable pool;
    IInsuranceFund public immutable insuranceFund;
    ISafetyModule public immutable safetyModule;
    /// @dev 10**(36 - collateral decimals): size x price / notionalScale is in collateral units.
    uint256 public immutable notionalScale;
    /// @notice The market parameters' bounds, in a contract of their own (this one is at the
    /// 24 KB runtime limit); created by the constructor.
    MarketParamsValidator public immutable marketParamsValidator;

    address public guardian;
    /// @notice The only caller of `executeTrade`: every trade is a two-step order (SPEC §5a).
    address public orderRouter;
    bool public opensPaused;
    uint256 public insuranceShareBps;
    uint256 public safetyModuleShareBps;
    uint256 public maxUtilisationBps;
    uint256 public reserveFactorBps;
    uint256 public adlTriggerBps;
    uint256 public adlTargetBps;
    /// @notice Realised profit the pool could not pay, summed over all haircuts.
    uint256 public socialisedLoss;
    /// @notice What the pool owed in liquidations beyond its cash: advanced by the engine, owed
    /// back by the pool (deducted from its mark), repaid first out of cash the engine owes it.
    uint256 public uncoveredDeficit;
    mapping(address keeper => bool) public isAdlKeeper;

    uint256[] internal _marketIds;
    mapping(uint256 marketId => MarketParams) internal _params;
    mapping(uint256 marketId => MarketState) internal _markets;
    mapping(address account => mapping(uint256 marketId => Position)) internal _positions;

    /* CONSTRUCTOR */

    constructor(
        IERC20 collateral_,
        IOracleAdapter oracle_,
        ILPPool pool_,
        IInsuranceFund insuranceFund_,
        ISafetyModule safetyModule_,
        uint256 notionalScale_,
        MarketParamsValidator marketParamsValidator_,
        address owner_
    ) Ownable(owner_) {
        collateral = collateral_;
        oracle = oracle_;
        pool = pool_;
        insuranceFund = insuranceFund_;
        safetyModule = safetyModule_;
        notionalScale = notionalScale_;
        marketParamsValidator = marketParamsValidator_;
    }

    /* INTERNAL */

    /// @dev Working values of one liquidation (kept in memory: too many for the stack).
    struct Liquidation {
        uint256 price;
        uint256 executionPrice;
        uint256 bankruptcyPrice;
        bool full;
        int256 sizeClosed;
        uint256 exactNotionalClosed;
        uint256 marginPart;
        int256 fundingPart;
        int256 pnl;
        int256 realised;
        uint256 reward;
        uint256 penalty;
        uint256 refund;
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

    /// @dev The immutable behind one jump: each inline read of an immutable costs 33 bytes of code.
    function _scale() internal view returns (uint256) {
        return notionalScale;
    }

    function _listed(uint256 marketId) internal view returns (MarketParams storage p, MarketState storage m) {
        m = _markets[marketId];
        if (!m.listed) revert MarketNotListed(marketId);
        p = _params[marketId];
    }

    /// @dev rate = skew / skewScale x maxRate, clamped; longs pay when the skew is long.
    function _fundingRate(MarketParams storage p, MarketState storage m) internal view returns (int256 rate) {
        int256 skew = m.longSize.toInt256() - m.shortSize.toInt256();
        int256 maxRate = p.maxFundingRatePerSecond.toInt256();
        rate = SignedMath.mulDivTowardZero(skew, p.maxFundingRatePerSecond, p.skewScale);
        if (rate > maxRate) rate = maxRate;
        if (rate < -maxRate) rate = -maxRate;
    }

    /// @dev The market's funding index at `block.timestamp` (truncated toward zero).
    function _currentFundingIndex(MarketParams storage p, MarketState storage m, uint256 price)
        internal
        view
        returns (int256 rate, int256 index)
    {
        rate = _fundingRate(p, m);
        uint256 elapsed = block.timestamp - m.lastFundingAt;
        index = m.fundingIndex + SignedMath.mulDivTowardZero(rate * elapsed.toInt256(), price, WAD);
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

    /// @dev After the keeper reward: the penalty (rounded up once, on the exact notional: owed to
    /// the protocol; capped by what is left) to insurance, the rest refunded.
    function _splitRemainder(MarketParams storage p, Liquidation memory liq) internal view {
        uint256 rest = uint256(liq.realised) - liq.reward;
        liq.penalty = FixedPointMath.mulDivUp(liq.exactNotionalClosed, p.liquidationPenaltyBps, _scale() * BPS);
        if (liq.penalty > rest) liq.penalty = rest;
        liq.refund = rest - liq.penalty;
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
