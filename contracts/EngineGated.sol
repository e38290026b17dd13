// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IEngineGated} from "./interfaces/IEngineGated.sol";

/// @title EngineGated
/// @notice The engine address, set once by the owner, and the `onlyEngine` guard.
abstract contract EngineGated is IEngineGated, Ownable {
    /// @inheritdoc IEngineGated
    address public engine;

    modifier onlyEngine() {
        if (msg.sender != engine) revert NotEngine(msg.sender);
        _;
    }

    /// @inheritdoc IEngineGated
    function setEngine(address engine_) external onlyOwner {
        if (engine != address(0)) revert EngineAlreadySet();
        engine = engine_;
        emit EngineSet(engine_);
    }
}
