// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {ILPPool} from "../interfaces/ILPPool.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";
import {IPerpEngine} from "../interfaces/IPerpEngine.sol";
import {ISafetyModule} from "../interfaces/ISafetyModule.sol";
import {SignedMath} from "../libraries/SignedMath.sol";
import {Units} from "../libraries/Units.sol";
import {AdlModule} from "./AdlModule.sol";
import {EngineStorage} from "./EngineStorage.sol";
import {LiquidationModule} from "./LiquidationModule.sol";
import {MarketAccounting} from "./MarketAccounting.sol";
import {MarketParamsValidator} from "./MarketParamsValidator.sol";

/// @title PerpEngine
/// @notice Isolated perpetual positions against the LP pool, oracle-priced, with tiered
/// maintenance margin, skew funding, partial liquidations, the four-layer loss waterfall,
/// auto-deleveraging and socialised loss. This contract holds admin, trading and the plain views;
/// liquidation runs in `LiquidationModule`, auto-deleveraging and the bound refresh in `AdlModule`,
/// both by DELEGATECALL in this contract's storage (`EngineStorage`): one address, one layout.
/// @dev `pymodel/engine/perp_engine.py` mirrors this contract statement for statement; the
/// model's engine class is composed from the mirrors of the modules it delegates to.
contract PerpEngine is IPerpEngine, MarketAccounting {
    using SafeCast for uint256;
    using SafeCast for int256;
    using SafeERC20 for IERC20;

    /// @notice Where `liquidate` and the liquidation views run (DELEGATECALL).
    LiquidationModule public immutable liquidationModule;
    /// @notice Where `autoDeleverage`, `syncAdl` and `refreshBankruptcyBound` run (DELEGATECALL).
    AdlModule public immutable adlModule;

    /* CONSTRUCTOR */

    constructor(
        IERC20 collateral_,
        IOracleAdapter oracle_,
        ILPPool pool_,
        IInsuranceFund insuranceFund_,
        ISafetyModule safetyModule_,
        address owner_
    )
        EngineStorage(
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
        liquidationModule = new LiquidationModule(
            collateral_, oracle_, pool_, insuranceFund_, safetyModule_, notionalScale, marketParamsValidator, owner_
        );
        adlModule = new AdlModule(
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

    /* LIQUIDATION (LiquidationModule) */

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `liquidationModule` (DELEGATECALL).
    function liquidate(address, uint256) external {
        _delegate(address(liquidationModule));
    }

    /* AUTO-DELEVERAGING (AdlModule) */

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `adlModule` (DELEGATECALL).
    function autoDeleverage(address, uint256, uint256) external {
        _delegate(address(adlModule));
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `adlModule` (DELEGATECALL).
    function syncAdl(uint256, bool) external {
        _delegate(address(adlModule));
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `adlModule` (DELEGATECALL).
    function refreshBankruptcyBound(uint256, bool, address[] calldata) external {
        _delegate(address(adlModule));
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
    /// @dev Runs in `liquidationModule` (DELEGATECALL).
    function liquidationPrice(address, uint256) external view returns (uint256) {
        _delegateView(address(liquidationModule));
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `liquidationModule` (DELEGATECALL).
    function bankruptcyPrice(address, uint256) external view returns (uint256) {
        _delegateView(address(liquidationModule));
    }

    /// @inheritdoc IPerpEngine
    function sideProfitRatio(uint256 marketId, bool isLong) external view returns (uint256) {
        (, uint256 price,) = _viewContext(marketId);
        return _sideProfitRatio(_markets[marketId], price, isLong);
    }

    /// @inheritdoc IPerpEngine
    /// @dev Runs in `liquidationModule` (DELEGATECALL).
    function previewLiquidation(address, uint256) external view returns (LiquidationPreview memory) {
        _delegateView(address(liquidationModule));
    }

    /// @inheritdoc IPerpEngine
    function reservedCash() external view returns (uint256) {
        return _reservedCash();
    }

    /* INTERNAL: MODULES */

    /// @dev Runs this call's calldata in `target` (a module) in this contract's storage and returns
    /// or reverts with its result. Never returns to Solidity code, so it may overwrite memory from 0.
    function _delegate(address target) internal {
        assembly {
            calldatacopy(0, 0, calldatasize())
            let success := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(success) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @dev `_delegate` for a view: the modules' view functions write nothing, so the function
    /// pointer is cast to `view` (the compiler cannot see through a DELEGATECALL).
    function _delegateView(address target) internal view {
        function(address) internal delegate = _delegate;
        function(address) internal view asView;
        assembly {
            asView := delegate
        }
        asView(target);
    }
}
