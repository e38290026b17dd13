// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

/// @title ChainlinkMockV3Aggregator
/// @notice Chainlink's own `MockV3Aggregator`, unchanged: ape compiles only what `contracts/`
/// imports, so this wrapper is what makes it deployable. SPEC §4 requires the adapter to work
/// against it. Mirrored by `pymodel/mock_price_feed.py`.
contract ChainlinkMockV3Aggregator is MockV3Aggregator {
    constructor(uint8 decimals_, int256 initialAnswer) MockV3Aggregator(decimals_, initialAnswer) {}
}
