// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockPyth} from "@pythnetwork/pyth-sdk-solidity/MockPyth.sol";

/// @title MockPythSource
/// @notice Pyth's own `MockPyth` (npm `@pythnetwork/pyth-sdk-solidity`), unchanged: ape compiles
/// only what `contracts/` imports, so this wrapper is what makes it deployable. A price is pushed
/// with `updatePriceFeeds([createPriceFeedUpdateData(...)])`; an update not newer than the stored
/// one is ignored. Mirrored by `pymodel/mock_pyth.py`.
contract MockPythSource is MockPyth {
    constructor(uint256 validTimePeriod, uint256 singleUpdateFeeInWei) MockPyth(validTimePeriod, singleUpdateFeeInWei) {}
}
