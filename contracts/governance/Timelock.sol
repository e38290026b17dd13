// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title Timelock
/// @notice OpenZeppelin's `TimelockController`, unchanged, as a project contract so ape compiles
/// and deploys it. On deployed networks it owns every owned contract (oracle adapter, pool,
/// insurance fund, safety module, engine, order router): each parameter, oracle-source, role and
/// fee change is scheduled by a proposer and executable only after `getMinDelay()` seconds. The
/// engine's guardian still pauses opens at once (`PerpEngine.setOpensPaused`), nothing else.
/// @dev No model mirror: the model sees the timelock as the owner address (`pymodel.ownable`).
contract Timelock is TimelockController {
    /// @param minDelay Seconds between scheduling an operation and its earliest execution.
    /// @param proposers May schedule and cancel.
    /// @param executors May execute a ready operation (`address(0)`: anyone).
    /// @param admin An optional extra admin (`address(0)`: the timelock administers itself).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
