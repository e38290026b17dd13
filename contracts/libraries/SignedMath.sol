// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title SignedMath
/// @notice Signed multiply-then-divide with the rounding direction in the name.
/// @dev The rule: `...TowardZero` truncates like the EVM's `sdiv`; `...Floor` rounds toward
/// negative infinity. Trader PnL uses `Floor`, so a profit rounds down and a loss rounds up
/// in magnitude: both in favour of the protocol. Magnitudes go through the unsigned 512-bit
/// `Math.mulDiv`, so only a result that does not fit int256 reverts (SafeCast error).
library SignedMath {
    /// @dev |x| as uint256 (defined for type(int256).min too).
    function abs(int256 x) internal pure returns (uint256) {
        unchecked {
            return x >= 0 ? uint256(x) : uint256(-(x + 1)) + 1;
        }
    }

    /// @dev -magnitude; reverts (SafeCast) unless it fits int256, whose minimum is -2**255.
    function negate(uint256 magnitude) internal pure returns (int256) {
        if (magnitude == uint256(type(int256).max) + 1) return type(int256).min;
        return -SafeCast.toInt256(magnitude);
    }

    /// @dev x * y / d truncated toward zero.
    function mulDivTowardZero(int256 x, uint256 y, uint256 d) internal pure returns (int256) {
        uint256 magnitude = Math.mulDiv(abs(x), y, d);
        return x >= 0 ? SafeCast.toInt256(magnitude) : negate(magnitude);
    }

    /// @dev floor(x * y / d), i.e. rounded toward negative infinity.
    function mulDivFloor(int256 x, uint256 y, uint256 d) internal pure returns (int256) {
        if (x >= 0) return SafeCast.toInt256(Math.mulDiv(uint256(x), y, d));
        return negate(Math.mulDiv(abs(x), y, d, Math.Rounding.Ceil));
    }

    /// @dev ceil(x * y / d), i.e. rounded toward positive infinity.
    function mulDivCeil(int256 x, uint256 y, uint256 d) internal pure returns (int256) {
        if (x >= 0) return SafeCast.toInt256(Math.mulDiv(uint256(x), y, d, Math.Rounding.Ceil));
        return negate(Math.mulDiv(abs(x), y, d));
    }

    /// @dev x / y truncated toward zero (plain `sdiv`; panics 0x12 on y == 0, 0x11 on min / -1).
    function divTowardZero(int256 x, int256 y) internal pure returns (int256) {
        return x / y;
    }

    /// @dev floor(x / y) (panics 0x12 on y == 0, 0x11 on min / -1).
    function divFloor(int256 x, int256 y) internal pure returns (int256 q) {
        q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) q -= 1;
    }
}
