// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MarketParamsValidator} from "./MarketParamsValidator.sol";
import {PerpEngineCore} from "./PerpEngineCore.sol";
import {IInsuranceFund} from "./interfaces/IInsuranceFund.sol";
import {ILPPool} from "./interfaces/ILPPool.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {ISafetyModule} from "./interfaces/ISafetyModule.sol";
import {SignedMath} from "./libraries/SignedMath.sol";

/// @title PerpEngineExtension
/// @notice Entry points of `PerpEngine` whose code lives here, only to keep the engine under the
/// 24,576-byte runtime limit. The engine's stubs of the same signatures DELEGATECALL this contract,
/// so the code runs in the engine's storage, with the engine's address as `this` (events, errors
/// and return data are the engine's). Created by the engine's constructor with the engine's own
/// immutables. Called directly it only touches its own, unused, storage.
contract PerpEngineExtension is PerpEngineCore {
    using SafeCast for uint256;

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
        PerpEngineCore(
            collateral_, oracle_, pool_, insuranceFund_, safetyModule_, notionalScale_, marketParamsValidator_, owner_
        )
    {}

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
}
