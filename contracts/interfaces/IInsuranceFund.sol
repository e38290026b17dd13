// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEngineGated} from "./IEngineGated.sol";

/// @title IInsuranceFund
/// @notice Per-market reserves: the first layer of the loss waterfall. Fed by liquidation
/// penalties and a share of trading fees; pays shortfalls of its own market only.
interface IInsuranceFund is IEngineGated {
    /* ERRORS */

    /// @notice Amount must be positive.
    error ZeroAmount();

    /* EVENTS */

    /// @notice `from` added `amount` to the market's bucket.
    event BucketFunded(uint256 indexed marketId, address indexed from, uint256 amount);
    /// @notice The engine drew `amount` from the market's bucket to cover a shortfall.
    event BucketDrawn(uint256 indexed marketId, uint256 amount);

    /* FUNCTIONS */

    /// @notice Anyone may top up a market's bucket (pulls `amount` from the caller).
    function fund(uint256 marketId, uint256 amount) external;

    /// @notice Engine only: pulls `amount` from the engine into the market's bucket.
    function depositFromEngine(uint256 marketId, uint256 amount) external;

    /// @notice Engine only: pays `min(amount, bucket)` to the engine and returns it.
    function cover(uint256 marketId, uint256 amount) external returns (uint256 paid);

    /// @notice The market's bucket balance in collateral units.
    function bucketOf(uint256 marketId) external view returns (uint256);
}
