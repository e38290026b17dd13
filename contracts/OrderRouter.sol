// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";
import {IOrderRouter} from "./interfaces/IOrderRouter.sol";
import {IPerpEngine} from "./interfaces/IPerpEngine.sol";

/// @title OrderRouter
/// @notice Two-step market orders filled at the next oracle round (SPEC §5a): the escrow, one
/// pending order per (account, market), keeper execution through `PerpEngine.executeTrade`.
/// @dev `pymodel/order_router.py` mirrors this contract statement for statement.
contract OrderRouter is IOrderRouter, Ownable {
    using SafeERC20 for IERC20;

    /* CONSTANTS */

    uint256 public constant MAX_MIN_EXECUTION_DELAY = 1 hours;
    uint256 public constant MAX_MAX_EXECUTION_DELAY = 1 days;
    /// @notice A pull source's pinned print lies in `[readyAt, readyAt + PULL_FILL_WINDOW]`.
    uint256 public constant PULL_FILL_WINDOW = 10 seconds;

    /* STORAGE */

    IERC20 public immutable collateral;
    IOracleAdapter public immutable oracle;
    IPerpEngine public immutable engine;
    /// @inheritdoc IOrderRouter
    uint256 public immutable maxExecutionFee;

    /// @inheritdoc IOrderRouter
    uint256 public executionFee;
    /// @inheritdoc IOrderRouter
    uint256 public minExecutionDelay;
    /// @inheritdoc IOrderRouter
    uint256 public maxExecutionDelay;

    mapping(address account => mapping(uint256 marketId => Order)) internal _orders;

    /* CONSTRUCTOR */

    constructor(IERC20 collateral_, IOracleAdapter oracle_, IPerpEngine engine_, address owner_) Ownable(owner_) {
        collateral = collateral_;
        oracle = oracle_;
        engine = engine_;
        maxExecutionFee = 100 * 10 ** IERC20Metadata(address(collateral_)).decimals();
        // The engine pulls an order's margin from the escrow when it fills.
        collateral_.forceApprove(address(engine_), type(uint256).max);
    }

    /* ADMIN */

    /// @inheritdoc IOrderRouter
    function setExecutionParams(uint256 executionFee_, uint256 minExecutionDelay_, uint256 maxExecutionDelay_)
        external
        onlyOwner
    {
        if (executionFee_ > maxExecutionFee) revert InvalidParameter("executionFee", executionFee_);
        if (minExecutionDelay_ > MAX_MIN_EXECUTION_DELAY) {
            revert InvalidParameter("minExecutionDelay", minExecutionDelay_);
        }
        if (maxExecutionDelay_ <= minExecutionDelay_ || maxExecutionDelay_ > MAX_MAX_EXECUTION_DELAY) {
            revert InvalidParameter("maxExecutionDelay", maxExecutionDelay_);
        }
        executionFee = executionFee_;
        minExecutionDelay = minExecutionDelay_;
        maxExecutionDelay = maxExecutionDelay_;
        emit ExecutionParamsSet(executionFee_, minExecutionDelay_, maxExecutionDelay_);
    }

    /* ORDERS */

    /// @inheritdoc IOrderRouter
    function submitOrder(uint256 marketId, int256 sizeDelta, uint256 marginIn, uint256 acceptablePrice) external {
        if (sizeDelta == 0) revert ZeroSize();
        if (_orders[msg.sender][marketId].submittedAt != 0) revert OrderPending(msg.sender, marketId);
        uint256 fee = executionFee;
        _orders[msg.sender][marketId] = Order(sizeDelta, marginIn, acceptablePrice, fee, block.timestamp);
        uint256 escrow = marginIn + fee;
        if (escrow > 0) collateral.safeTransferFrom(msg.sender, address(this), escrow);
        emit OrderSubmitted(msg.sender, marketId, sizeDelta, marginIn, acceptablePrice, fee);
    }

    /// @inheritdoc IOrderRouter
    function executeOrder(address account, uint256 marketId, uint80[] calldata roundIds, bytes[] calldata pullUpdates)
        external
        payable
    {
        Order memory order = _liveOrder(account, marketId);
        uint256 expiresAt = order.submittedAt + maxExecutionDelay;
        if (block.timestamp >= expiresAt) revert OrderExpired(account, marketId, expiresAt);
        // The fill is pinned to the order: each source's first observation at or after readyAt.
        uint256 readyAt = order.submittedAt + _max(1, minExecutionDelay);
        (uint256 price, uint256 observedAt) =
            oracle.pinFill{value: msg.value}(marketId, readyAt, fillWindow(), PULL_FILL_WINDOW, roundIds, pullUpdates);

        delete _orders[account][marketId];
        try engine.executeTrade(account, marketId, order.sizeDelta, order.marginIn, order.acceptablePrice) {
            emit OrderExecuted(account, marketId, msg.sender, price, observedAt);
        } catch (bytes memory reason) {
            // No revert data means the call ran out of gas, and a source read starved by the caller
            // is not the source's fault: a keeper must not cancel orders by starving them.
            if (reason.length < 4 || bytes4(reason) == IOracleAdapter.SourceReadOutOfGas.selector) {
                revert ExecutionOutOfGas();
            }
            if (order.marginIn > 0) collateral.safeTransfer(account, order.marginIn);
            emit OrderCancelled(account, marketId, bytes4(reason));
        }
        oracle.unpin();
        if (order.executionFee > 0) collateral.safeTransfer(msg.sender, order.executionFee);
        // The pull update fee left over, back to the keeper.
        uint256 refund = address(this).balance;
        if (refund > 0) {
            (bool sent,) = msg.sender.call{value: refund}("");
            if (!sent) revert RefundFailed();
        }
    }

    /// @inheritdoc IOrderRouter
    function fillWindow() public view returns (uint256) {
        return (maxExecutionDelay - minExecutionDelay) / 2;
    }

    /// @notice The oracle's refund of unspent pull update fees.
    receive() external payable {
        if (msg.sender != address(oracle)) revert NotOracle(msg.sender);
    }

    /// @inheritdoc IOrderRouter
    function cancelOrder(address account, uint256 marketId) external {
        Order memory order = _liveOrder(account, marketId);
        uint256 expiresAt = order.submittedAt + maxExecutionDelay;
        if (block.timestamp < expiresAt) revert OrderNotExpired(account, marketId, expiresAt);

        delete _orders[account][marketId];
        if (order.marginIn > 0) collateral.safeTransfer(account, order.marginIn);
        emit OrderCancelled(account, marketId, OrderExpired.selector);
        if (order.executionFee > 0) collateral.safeTransfer(msg.sender, order.executionFee);
    }

    /* VIEWS */

    /// @inheritdoc IOrderRouter
    function orderOf(address account, uint256 marketId) external view returns (Order memory) {
        return _orders[account][marketId];
    }

    /* INTERNAL */

    function _liveOrder(address account, uint256 marketId) internal view returns (Order memory order) {
        order = _orders[account][marketId];
        if (order.submittedAt == 0) revert NoOrder(account, marketId);
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
