// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title FixedPointMath
/// @notice Unsigned multiply-then-divide with a 512-bit intermediate, and WAD (1e18) helpers.
/// @dev The rounding direction is part of every name. Division by zero panics with 0x12 and a
/// result above `type(uint256).max` panics with 0x11; `pymodel/fixed_point.py` mirrors both.
library FixedPointMath {
    uint256 internal constant WAD = 1e18;

    /// @dev floor(x * y / d).
    function mulDivDown(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d);
    }

    /// @dev ceil(x * y / d).
    function mulDivUp(uint256 x, uint256 y, uint256 d) internal pure returns (uint256) {
        return Math.mulDiv(x, y, d, Math.Rounding.Ceil);
    }

    /// @dev floor(x * y / WAD).
    function mulWadDown(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD);
    }

    /// @dev ceil(x * y / WAD).
    function mulWadUp(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD, Math.Rounding.Ceil);
    }

    /// @dev floor(x * WAD / y).
    function divWadDown(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y);
    }

    /// @dev ceil(x * WAD / y).
    function divWadUp(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y, Math.Rounding.Ceil);
    }
}
