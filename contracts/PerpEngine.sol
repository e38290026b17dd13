// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketParamsValidator} from "./MarketParamsValidator.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {ILPPool} from "./interfaces/ILPPool.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IPerpEngine} from "./interfaces/IPerpEngine.sol";
import {PerpEngineCore} from "./PerpEngineCore.sol";
import {PerpEngineExtension} from "./PerpEngineExtension.sol";
import {ISafetyModule} from "./interfaces/ISafetyModule.sol";
import {FixedPointMath} from "./libraries/FixedPointMath.sol";
import {SignedMath} from "./libraries/SignedMath.sol";
import {Units} from "./libraries/Units.sol";

/// @title PerpEngine
/// @notice Isolated perpetual positions against the LP pool, oracle-priced, with tiered
/// maintenance margin, skew funding, partial liquidations, the four-layer loss waterfall,
/// auto-deleveraging and socialised loss.
/// @dev `pymodel/perp_engine.py` mirrors this contract statement for statement. Storage and the
/// internal functions shared with `PerpEngineExtension` are in `PerpEngineCore`.
contract PerpEngine is IPerpEngine, PerpEngineCore {
    using SafeCast for uint256;
    using SafeCast for int256;
    using SafeERC20 for IERC20;

    /// @notice Where `refreshBankruptcyBound` and the liquidation views run (DELEGATECALL).
    PerpEngineExtension public immutable extension;

    /* CONSTRUCTOR */

    constructor(
        IERC20 collateral_,
        IOracleAdapter oracle_,
        ILPPool pool_,
        IInsuranceFund insuranceFund_,
        ISafetyModule safetyModule_,
        address owner_
    )
        PerpEngineCore(
            collateral_,
            oracle_,
            pool_,
            insuranceFund_,
            safetyModule_,
            Units.notionalScale(IERC20Metadata(address(collateral_)).decimals()),
            new MarketParamsValidator(),
            owner_
        )
    {
        extension = new PerpEngineExtension(
            collateral_, oracle_, pool_, insuranceFund_, safetyModule_, notionalScale, marketParamsValidator, owner_
        );
        // The pool, the insurance fund and the safety module pull what the engine credits to them.
        collateral_.forceApprove(address(pool_), type(uint256).max);
        collateral_.forceApprove(address(insuranceFund_), type(uint256).max);
        collateral_.forceApprove(address(safetyModule_), type(uint256).max);
    }

    /* ADMIN */

    /// @inheritdoc IPerpEngine
    function listMarket(uint256 marketId, MarketParams calldata params) external onlyOwner {
        if (_markets[marketId].listed) revert MarketAlreadyListed(marketId);
        if (_marketIds.length == MAX_MARKETS) revert TooManyMarkets();
        marketParamsValidator.validate(params, notionalScale);
        _params[marketId] = params;
        _markets[marketId].listed = true;
        _markets[marketId].lastFundingAt = block.timestamp;
        _marketIds.push(marketId);
        emit MarketListed(marketId);
    }

    /// @inheritdoc IPerpEngine
    function setMarketParams(uint256 marketId, MarketParams calldata params) external onlyOwner {
        if (!_markets[marketId].listed) revert MarketNotListed(marketId);
        marketParamsValidator.validate(params, notionalScale);
        _params[marketId] = params;
        emit MarketParamsSet(marketId);
    }

    /// @inheritdoc IPerpEngine
    function setFeeShares(uint256 insuranceShareBps_, uint256 safetyModuleShareBps_) external onlyOwner {
        _requireValid(
            insuranceShareBps_ + safetyModuleShareBps_ <= BPS,
            "feeShares",
            insuranceShareBps_ + safetyModuleShareBps_
        );
        insuranceShareBps = insuranceShareBps_;
        safetyModuleShareBps = safetyModuleShareBps_;
        emit FeeSharesSet(insuranceShareBps_, safetyModuleShareBps_);
    }

    /// @inheritdoc IPerpEngine
    function setPoolLimits(uint256 maxUtilisationBps_, uint256 reserveFactorBps_) external onlyOwner {
        _requireValid(maxUtilisationBps_ != 0 && maxUtilisationBps_ <= BPS, "maxUtilisationBps", maxUtilisationBps_);
        _requireValid(reserveFactorBps_ != 0 && reserveFactorBps_ <= BPS, "reserveFactorBps", reserveFactorBps_);
        maxUtilisationBps = maxUtilisationBps_;
        reserveFactorBps = reserveFactorBps_;
        emit PoolLimitsSet(maxUtilisationBps_, reserveFactorBps_);
    }

    /// @inheritdoc IPerpEngine
    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    /// @inheritdoc IPerpEngine
    function setAdlParams(uint256 triggerBps, uint256 targetBps) external onlyOwner {
        _requireValid(triggerBps != 0 && triggerBps <= BPS, "adlTriggerBps", triggerBps);
        _requireValid(targetBps != 0 && targetBps < triggerBps, "adlTargetBps", targetBps);
        adlTriggerBps = triggerBps;
        adlTargetBps = targetBps;
        emit AdlParamsSet(triggerBps, targetBps);
    }

    /// @inheritdoc IPerpEngine
    function setAdlKeeper(address keeper, bool allowed) external onlyOwner {
        isAdlKeeper[keeper] = allowed;
        emit AdlKeeperSet(keeper, allowed);
    }

    /// @inheritdoc IPerpEngine
    function setOrderRouter(address orderRouter_) external onlyOwner {
        if (orderRouter != address(0)) revert OrderRouterAlreadySet();
        orderRouter = orderRouter_;
        emit OrderRouterSet(orderRouter_);
    }

    /// @inheritdoc IPerpEngine
    function setOpensPaused(bool paused) external {
        if (msg.sender != guardian && msg.sender != owner()) revert NotGuardian(msg.sender);
        opensPaused = paused;
        emit OpensPausedSet(paused);
    }

    /// @dev One shared revert site for every parameter bound (smaller code).
    function _requireValid(bool valid, string memory name, uint256 value) internal pure {
        if (!valid) revert InvalidParameter(name, value);
    }


    /* TRADING */

    /// @inheritdoc IPerpEngine
    function executeTrade(
        address account,
        uint256 marketId,
        int256 sizeDelta,
        uint256 marginIn,
        uint256 acceptablePrice
    ) external {
        if (msg.sender != orderRouter) revert NotOrderRouter(msg.sender);
        if (sizeDelta == 0) revert ZeroSize();
        int256 size = _positions[account][marketId].size;
        if (size == 0 || (size > 0) == (sizeDelta > 0)) {
            _increase(account, marketId, sizeDelta, marginIn, acceptablePrice);
        } else {
            if (marginIn > 0) revert MarginInOnDecrease(marginIn);
            _decrease(account, marketId, SignedMath.abs(sizeDelta), acceptablePrice);
        }
    }

    /// @dev Prices of one trade: oracle, execution (checked against the guard) and the fee.
    struct Trade {
        uint256 price;
        uint256 executionPrice;
        uint256 fee;
    }

    /// @dev Opens or increases `account`'s position; the margin comes from the router's escrow.
    function _increase(address account, uint256 marketId, int256 sizeDelta, uint256 marginIn, uint256 acceptablePrice)
        internal
    {
        if (opensPaused) revert OpensPaused();
        (MarketParams storage p, MarketState storage m) = _listed(marketId);
        Position memory before = _positions[account][marketId];

        Trade memory trade = _quote(account, marketId, p, m, before, sizeDelta, acceptablePrice);
        Position memory next = _increased(p, _settleFunding(before, m.fundingIndex), sizeDelta, marginIn, trade);
        _replaceInAggregates(m, before, next);
        _positions[account][marketId] = next;
        _checkOpenInterest(marketId, p, m, sizeDelta > 0);
        _checkUtilisation();

        if (marginIn > 0) collateral.safeTransferFrom(msg.sender, address(this), marginIn);
        _distributeFee(marketId, trade.fee);
        emit PositionIncreased(
            account,
            marketId,
            sizeDelta,
            trade.price,
            trade.executionPrice,
            next.size,
            next.entryPrice,
            next.margin,
            trade.fee
        );
    }

    /// @dev The position after adding `sizeDelta` and `marginIn` and paying the fee; reverts
    /// unless equity at the oracle covers the initial margin.
    function _increased(
        MarketParams storage p,
        Position memory next,
        int256 sizeDelta,
        uint256 marginIn,
        Trade memory trade
    ) internal view returns (Position memory) {
        int256 newSize = next.size + sizeDelta;
        next.entryPrice = _averageEntryPrice(next, sizeDelta, trade.executionPrice, newSize);
        next.size = newSize;
        int256 marginAfter = (next.margin + marginIn).toInt256() - trade.fee.toInt256();
        int256 equityAfter = marginAfter + Units.pnlFloor(newSize, next.entryPrice, trade.price, notionalScale)
            - next.accruedFunding;
        // Rounds up: the requirement is owed to the protocol.
        uint256 required = _bpsOfNotionalUp(newSize, trade.price, p.initialMarginBps);
        if (marginAfter < 0 || equityAfter < required.toInt256()) revert InsufficientMargin(equityAfter, required);
        next.margin = uint256(marginAfter);
        _checkMinimumPosition(p, next, trade.price);
        return next;
    }

    /// @dev Reads the oracle, accrues funding, refuses a liquidatable position, and prices
    /// the trade: execution against the trader, checked against `acceptablePrice`, and the fee.
    function _quote(
        address account,
        uint256 marketId,
        MarketParams storage p,
        MarketState storage m,
        Position memory before,
        int256 sizeDelta,
        uint256 acceptablePrice
    ) internal returns (Trade memory trade) {
        trade.price = oracle.price(marketId);
        _accrueFunding(marketId, p, m, trade.price);
        if (before.size != 0 && _isLiquidatable(p, before, trade.price, m.fundingIndex)) {
            revert PositionLiquidatable(account, marketId);
        }
        trade.executionPrice = _executionPrice(p, m, trade.price, sizeDelta, p.spreadBps);
        _checkSlippage(sizeDelta > 0, trade.executionPrice, acceptablePrice);
        // Rounds up: the fee is owed to the protocol.
        trade.fee = _bpsOfNotionalUp(sizeDelta, trade.executionPrice, p.tradingFeeBps);
    }

    /// @dev What a decrease realises.
    struct Settlement {
        int256 realisedPnl;
        int256 fundingPaid;
        uint256 payout;
    }

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
        uint256 reserved = reservedCash();
        uint256 freeCash = cash > reserved ? cash - reserved : 0;
        uint256 claims = owed + _sideProfit(_markets[marketId], oracle.price(marketId), isLong);
        if (claims <= freeCash) return 0;
        haircut = owed - FixedPointMath.mulDivDown(owed, freeCash, claims);
        if (haircut > room) haircut = room;
    }

    /// @dev Decreases or closes `account`'s (non-zero) position by `reduction`.
    function _decrease(address account, uint256 marketId, uint256 reduction, uint256 acceptablePrice) internal {
        (MarketParams storage p, MarketState storage m) = _listed(marketId);
        Position memory before = _positions[account][marketId];
        if (reduction > SignedMath.abs(before.size)) revert ReductionTooLarge(reduction, SignedMath.abs(before.size));

        int256 sizeDelta = before.size > 0 ? -reduction.toInt256() : reduction.toInt256();
        Trade memory trade = _quote(account, marketId, p, m, before, sizeDelta, acceptablePrice);
        (Position memory next, Settlement memory settled) =
            _decreased(p, _settleFunding(before, m.fundingIndex), sizeDelta, trade, m.fundingIndex);
        // A partial decrease must leave a position above the minimum (close it fully otherwise).
        if (next.size != 0) _checkMinimumPosition(p, next, trade.price);
        _replaceInAggregates(m, before, next);
        next = _settleDecrease(account, marketId, next, settled, trade.fee);
        emit PositionDecreased(
            account,
            marketId,
            sizeDelta,
            trade.price,
            trade.executionPrice,
            settled.realisedPnl,
            settled.fundingPaid,
            trade.fee,
            next.size,
            next.margin,
            settled.payout
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

    /// @inheritdoc IPerpEngine
    function addMargin(uint256 marketId, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _listed(marketId);
        Position storage position = _positions[msg.sender][marketId];
        if (position.size == 0) revert NoPosition(msg.sender, marketId);
        position.margin += amount;
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        emit MarginChanged(msg.sender, marketId, amount.toInt256(), position.margin);
    }

    /// @inheritdoc IPerpEngine
    function removeMargin(uint256 marketId, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        (MarketParams storage p, MarketState storage m) = _listed(marketId);
        Position storage position = _positions[msg.sender][marketId];
        if (position.size == 0) revert NoPosition(msg.sender, marketId);
        if (amount > position.margin) revert InsufficientMargin(position.margin.toInt256() - amount.toInt256(), 0);

        uint256 price = oracle.price(marketId);
        _accrueFunding(marketId, p, m, price);
        position.margin -= amount;
        _includeInBound(m, position);
        int256 equityAfter = _equity(position, price, m.fundingIndex);
        uint256 required = _bpsOfNotionalUp(position.size, price, p.initialMarginBps);
        if (equityAfter < required.toInt256()) revert InsufficientMargin(equityAfter, required);
        _checkMinimumPosition(p, position, price);

        collateral.safeTransfer(msg.sender, amount);
        emit MarginChanged(msg.sender, marketId, -amount.toInt256(), position.margin);
    }

    /* LIQUIDATION */

    /// @inheritdoc IPerpEngine
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

    /* AUTO-DELEVERAGING */

    /// @inheritdoc IPerpEngine
    function autoDeleverage(address account, uint256 marketId, uint256 reduction) external {
        if (!isAdlKeeper[msg.sender]) revert NotAdlKeeper(msg.sender);
        if (account == msg.sender) revert AdlOwnPosition(account);
        if (reduction == 0) revert ZeroSize();
        (MarketParams storage p, MarketState storage m) = _listed(marketId);
        Position memory before = _positions[account][marketId];
        if (before.size == 0) revert NoPosition(account, marketId);
        if (reduction > SignedMath.abs(before.size)) revert ReductionTooLarge(reduction, SignedMath.abs(before.size));

        uint256 price = oracle.price(marketId);
        _accrueFunding(marketId, p, m, price);
        bool isLong = before.size > 0;
        uint256 ratioBefore = _sideProfitRatio(m, price, isLong);
        _checkAdlTriggered(marketId, m, isLong, ratioBefore);
        uint256 score = _adlScore(account, marketId, before, price, m.fundingIndex);

        // At the oracle price, without fees.
        int256 sizeDelta = isLong ? -reduction.toInt256() : reduction.toInt256();
        (Position memory next, Settlement memory settled) = _decreased(
            p, _settleFunding(before, m.fundingIndex), sizeDelta, Trade(price, price, 0), m.fundingIndex
        );
        _replaceInAggregates(m, before, next);
        _settleDecrease(account, marketId, next, settled, 0);

        uint256 ratioAfter = _sideProfitRatio(m, price, isLong);
        if (ratioAfter >= ratioBefore) revert AdlNotImproving(ratioBefore, ratioAfter);
        _setAdlFlag(m, isLong, ratioAfter > adlTargetBps);
        emit AutoDeleveraged(
            account, marketId, msg.sender, -sizeDelta, price, settled.realisedPnl, score, ratioBefore, ratioAfter
        );
    }

    /// @inheritdoc IPerpEngine
    function syncAdl(uint256 marketId, bool isLong) external {
        (, MarketState storage m) = _listed(marketId);
        uint256 ratio = _sideProfitRatio(m, oracle.price(marketId), isLong);
        bool active = ratio > _adlThreshold(m, isLong);
        _setAdlFlag(m, isLong, active);
        emit AdlFlagSynced(marketId, isLong, ratio, active);
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `extension` (DELEGATECALL): moved out for the runtime size limit.
    function refreshBankruptcyBound(uint256, bool, address[] calldata) external {
        _delegate();
    }

    /// @dev ADL opens above the trigger and, once open, stays open down to the target; at or
    /// below the target it is closed, whatever the stored flag says.
    function _checkAdlTriggered(uint256 marketId, MarketState storage m, bool isLong, uint256 ratio) internal view {
        uint256 threshold = _adlThreshold(m, isLong);
        if (ratio <= threshold) revert AdlNotTriggered(marketId, isLong, ratio, threshold);
    }

    /// @dev The ratio above which ADL is open: the target while the side's flag is set (target <
    /// trigger), else the trigger.
    function _adlThreshold(MarketState storage m, bool isLong) internal view returns (uint256) {
        return (isLong ? m.adlLongActive : m.adlShortActive) ? adlTargetBps : adlTriggerBps;
    }

    function _setAdlFlag(MarketState storage m, bool isLong, bool active) internal {
        if (isLong) m.adlLongActive = active;
        else m.adlShortActive = active;
    }

    /// @dev Reverts unless the position is profitable at `price`; returns its ADL ranking score,
    /// WAD: profit % x effective leverage = pnl x notional / (margin x equity), rounded down; 0
    /// when margin or equity is not positive. The formula of `pymodel.adl.adl_ranking`.
    function _adlScore(address account, uint256 marketId, Position memory position, uint256 price, int256 index)
        internal
        view
        returns (uint256)
    {
        int256 pnl = Units.pnlFloor(position.size, position.entryPrice, price, _scale());
        if (pnl <= 0) revert AdlNotProfitable(account, marketId, pnl);
        int256 equityNow = _equity(position, price, index);
        if (equityNow <= 0 || position.margin == 0) return 0;
        return FixedPointMath.mulDivDown(
            uint256(pnl) * Units.notionalUp(position.size, price, _scale()),
            WAD,
            position.margin * uint256(equityNow)
        );
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

    /* INTERNAL: CASH */

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

    /* INTERNAL: MARKET STATE */

    function _accrueFunding(uint256 marketId, MarketParams storage p, MarketState storage m, uint256 price)
        internal
    {
        if (block.timestamp == m.lastFundingAt) return;
        (int256 rate, int256 index) = _currentFundingIndex(p, m, price);
        m.fundingIndex = index;
        m.lastFundingAt = block.timestamp;
        emit FundingAccrued(marketId, rate, index);
    }

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
        uint256 reserved = reservedCash();
        // Rounds down: the limit is what the pool allows.
        uint256 limit = FixedPointMath.mulDivDown(pool.cash(), maxUtilisationBps, BPS);
        if (reserved > limit) revert UtilisationCapExceeded(reserved, limit);
    }

    /* INTERNAL: POSITION MATH */

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

    function _isLiquidatable(MarketParams storage p, Position memory position, uint256 price, int256 index)
        internal
        view
        returns (bool)
    {
        return _equity(position, price, index) < _maintenanceMargin(p, position.size, price).toInt256();
    }

    /* VIEWS */

    /// @inheritdoc IPerpEngine
    function marketParams(uint256 marketId) external view returns (MarketParams memory) {
        return _params[marketId];
    }

    /// @inheritdoc IPerpEngine
    function marketState(uint256 marketId) external view returns (MarketState memory) {
        return _markets[marketId];
    }

    /// @inheritdoc IPerpEngine
    function positionOf(address account, uint256 marketId) external view returns (Position memory) {
        return _positions[account][marketId];
    }

    /// @inheritdoc IPerpEngine
    function marketIds() external view returns (uint256[] memory) {
        return _marketIds;
    }

    /// @inheritdoc IPerpEngine
    function equity(address account, uint256 marketId) external view returns (int256) {
        (, uint256 price, int256 index) = _viewContext(marketId);
        return _equity(_positions[account][marketId], price, index);
    }

    /// @inheritdoc IPerpEngine
    function maintenanceMargin(address account, uint256 marketId) external view returns (uint256) {
        (MarketParams storage p, uint256 price,) = _viewContext(marketId);
        return _maintenanceMargin(p, _positions[account][marketId].size, price);
    }

    /// @inheritdoc IPerpEngine
    function isLiquidatable(address account, uint256 marketId) external view returns (bool) {
        (MarketParams storage p, uint256 price, int256 index) = _viewContext(marketId);
        Position memory position = _positions[account][marketId];
        return position.size != 0 && _isLiquidatable(p, position, price, index);
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `extension` (DELEGATECALL): moved out for the runtime size limit.
    function liquidationPrice(address, uint256) external view returns (uint256) {
        _delegateView();
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `extension` (DELEGATECALL): moved out for the runtime size limit.
    function bankruptcyPrice(address, uint256) external view returns (uint256) {
        _delegateView();
    }

    /// @inheritdoc IPerpEngine
    function sideProfitRatio(uint256 marketId, bool isLong) external view returns (uint256) {
        (, uint256 price,) = _viewContext(marketId);
        return _sideProfitRatio(_markets[marketId], price, isLong);
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `extension` (DELEGATECALL): moved out for the runtime size limit.
    function previewLiquidation(address, uint256) external view returns (LiquidationPreview memory) {
        _delegateView();
    }

    /// @inheritdoc IPerpEngine
    function reservedCash() public view returns (uint256 reserved) {
        for (uint256 i = 0; i < _marketIds.length; ++i) {
            MarketState storage m = _markets[_marketIds[i]];
            // Rounds up: reserves are what the protocol holds back.
            reserved += FixedPointMath.mulDivUp(
                m.longEntryNotional + m.shortEntryNotional, reserveFactorBps, _scale() * BPS
            );
        }
    }

    /* INTERNAL: EXTENSION */

    /// @dev Runs this call's calldata in `extension` in this contract's storage and returns or
    /// reverts with its result. Never returns to Solidity code, so it may overwrite memory from 0.
    function _delegate() internal {
        address target = address(extension);
        assembly {
            calldatacopy(0, 0, calldatasize())
            let success := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(success) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev `_delegate` for a view: the extension's view functions write nothing, so the
    /// function pointer is cast to `view` (the compiler cannot see through a DELEGATECALL).
    function _delegateView() internal view {
        function() internal delegate = _delegate;
        function() internal view asView;
        assembly {
            asView := delegate
        }
        asView();
    }
}
