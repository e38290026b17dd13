// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOrderRouter
/// @notice Two-step market orders (SPEC §5a). A trader submits an order (market, signed size
/// delta, margin in, acceptable price) and escrows the margin and the execution fee here; any
/// keeper executes it at the first oracle round observed after the submission (`observedAt >
/// submittedAt` and `observedAt >= submittedAt + minExecutionDelay`), before the order expires
/// (`submittedAt + maxExecutionDelay`). A fill the engine refuses (acceptable price, margin, open
/// interest cap, utilisation, minimum position, pause, ...) cancels the order: the margin goes back
/// to the trader and `OrderCancelled` names the engine's error by its 4-byte selector; the keeper's
/// transaction does not revert. The keeper is paid the execution fee on every fill, cancelled or
/// not. An expired order can only be cancelled, by anyone: margin to the trader, fee to the caller.
interface IOrderRouter {
    /* TYPES */

    /// @notice A pending order; `submittedAt == 0` means none.
    struct Order {
        int256 sizeDelta; // same sign as the position (or none): increase; opposite: decrease
        uint256 marginIn; // escrowed, moved into the position on an increase (0 on a decrease)
        uint256 acceptablePrice; // buys fill at or below it, sells at or above it
        uint256 executionFee; // escrowed, paid to the keeper
        uint256 submittedAt;
    }

    /* ERRORS */

    error ZeroSize();
    /// @notice One pending order per (account, market).
    error OrderPending(address account, uint256 marketId);
    error NoOrder(address account, uint256 marketId);
    /// @notice Execution refused: the order expired at `expiresAt` (cancel it instead).
    error OrderExpired(address account, uint256 marketId, uint256 expiresAt);
    /// @notice Cancellation refused before `expiresAt`.
    error OrderNotExpired(address account, uint256 marketId, uint256 expiresAt);
    /// @notice Only the oracle sends the router value (its refund of unspent update fees).
    error NotOracle(address sender);
    /// @notice The unspent value could not be sent back to the keeper.
    error RefundFailed();
    /// @notice The engine call failed without revert data (out of gas): the keeper must send more gas.
    error ExecutionOutOfGas();
    error InvalidParameter(string name, uint256 value);

    /* EVENTS */

    event OrderSubmitted(
        address indexed account,
        uint256 indexed marketId,
        int256 sizeDelta,
        uint256 marginIn,
        uint256 acceptablePrice,
        uint256 executionFee
    );
    event OrderExecuted(
        address indexed account, uint256 indexed marketId, address indexed keeper, uint256 price, uint256 observedAt
    );
    /// @notice `reason`: the selector of the engine's error for a refused fill, or
    /// `OrderExpired.selector` for an expired order cancelled with `cancelOrder`.
    event OrderCancelled(address indexed account, uint256 indexed marketId, bytes4 reason);
    event ExecutionParamsSet(uint256 executionFee, uint256 minExecutionDelay, uint256 maxExecutionDelay);

    /* ADMIN */

    /// @notice Owner only. Bounds: `executionFee <= maxExecutionFee` (100 collateral units of one
    /// dollar), `minExecutionDelay <= 1 hour`, `minExecutionDelay < maxExecutionDelay <= 1 day`.
    /// Pending orders use the delays in force when they are executed or cancelled.
    function setExecutionParams(uint256 executionFee, uint256 minExecutionDelay, uint256 maxExecutionDelay)
        external;

    /* ORDERS */

    /// @notice Escrows `marginIn + executionFee` from the caller and records the order.
    function submitOrder(uint256 marketId, int256 sizeDelta, uint256 marginIn, uint256 acceptablePrice) external;

    /// @notice Any keeper: fills the order at its pinned mark (`IOracleAdapter.pinFill` with
    /// `readyAt = submittedAt + max(1, minExecutionDelay)`, `fillWindow()`, PULL_FILL_WINDOW; the
    /// keeper's round ids, 0 or none to let the oracle find them, and pull updates, their fee from
    /// `msg.value`, the rest refunded), or cancels it when the engine refuses the fill. Any keeper
    /// at any time gets the same mark. Reverts (order kept) while the fill is not ready or the
    /// oracle refuses it; reverts when the order expired.
    function executeOrder(address account, uint256 marketId, uint80[] calldata roundIds, bytes[] calldata pullUpdates)
        external
        payable;

    /// @notice Seconds after `readyAt` within which each source's first observation belongs to an
    /// order: `(maxExecutionDelay - minExecutionDelay) / 2` (the rest of the order's life it can
    /// still fill on a quorum of them).
    function fillWindow() external view returns (uint256);

    /// @notice Anyone, once the order expired: returns the margin to the trader, the fee to the caller.
    function cancelOrder(address account, uint256 marketId) external;

    /* VIEWS */

    function orderOf(address account, uint256 marketId) external view returns (Order memory);
    function executionFee() external view returns (uint256);
    function minExecutionDelay() external view returns (uint256);
    function maxExecutionDelay() external view returns (uint256);
    function maxExecutionFee() external view returns (uint256);
}
