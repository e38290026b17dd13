// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IEngineGated
/// @notice A contract with hooks only the perp engine may call (the LP pool, the insurance fund
/// and the safety module). The engine is set once, by the owner, at deployment.
interface IEngineGated {
    /// @notice An engine hook was called by someone other than the engine.
    error NotEngine(address caller);
    /// @notice The engine address can be set once.
    error EngineAlreadySet();

    event EngineSet(address engine);

    /// @notice Owner only, once: the engine allowed to call the engine hooks.
    function setEngine(address engine) external;

    /// @notice The engine (zero until set).
    function engine() external view returns (address);
}
