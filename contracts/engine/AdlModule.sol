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

/// @title AdlModule
/// @notice Auto-deleveraging (a profitable position closed at the oracle price while its side's
/// open profit is too large for the pool), the side flags, and the keepers' refresh of a side's
/// bankruptcy bound — entry points of `PerpEngine` run by DELEGATECALL: the engine's
/// stubs of the same signatures forward their calldata here, so the code runs in the engine's
/// storage with the engine's address as `this` (events, errors and return data are the engine's).
/// Created by the engine's constructor with the engine's own immutables; called directly it only
/// touches its own, unused, storage.
/// @dev `pymodel/engine/adl_module.py` mirrors it.
contract AdlModule is MarketAccounting {
    using SafeCast for uint256;
    using SafeCast for int256;

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

    /* AUTO-DELEVERAGING */

    /// @notice `IPerpEngine.autoDeleverage`, run by `PerpEngine` through DELEGATECALL.
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

    /// @notice `IPerpEngine.syncAdl`, run by `PerpEngine` through DELEGATECALL.
    function syncAdl(uint256 marketId, bool isLong) external {
        (, MarketState storage m) = _listed(marketId);
        uint256 ratio = _sideProfitRatio(m, oracle.price(marketId), isLong);
        bool active = ratio > _adlThreshold(m, isLong);
        _setAdlFlag(m, isLong, active);
        emit AdlFlagSynced(marketId, isLong, ratio, active);
    }

    /// @notice `IPerpEngine.refreshBankruptcyBound`, run by `PerpEngine` through DELEGATECALL.
    function refreshBankruptcyBound(uint256 marketId, bool isLong, address[] calldata accounts) external {
        (, MarketState storage m) = _listed(marketId);
        uint256 open = isLong ? m.longPositions : m.shortPositions;
        if (accounts.length != open) revert BoundAccountCount(accounts.length, open);
        // Counted again from zero: the first listed position sets the bound, the others widen it.
        if (isLong) m.longPositions = 0;
        else m.shortPositions = 0;
        address previous;
        for (uint256 i = 0; i < accounts.length; ++i) {
            Position memory position = _positions[accounts[i]][marketId];
            if (accounts[i] <= previous || position.size == 0 || (position.size > 0) != isLong) {
                revert BoundAccountInvalid(i, accounts[i]);
            }
            _includeInBound(m, position);
            if (isLong) ++m.longPositions;
            else ++m.shortPositions;
            previous = accounts[i];
        }
        emit BankruptcyBoundRefreshed(marketId, isLong, isLong ? m.longBankruptcyBound : m.shortBankruptcyBound);
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
}
