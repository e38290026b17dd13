// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "./FixedPointMath.sol";
import {SignedMath} from "./SignedMath.sol";

/// @title Units
/// @notice SPEC §2 conversions between base-asset size (18 decimals), WAD prices and
/// collateral token units (D decimals, 0 <= D <= 18).
/// @dev `scale` is 10**(36 - D): size (1e18) times price (1e18) over `scale` is in 1eD units.
library Units {
    using SafeCast for uint256;

    /// @notice Collateral with more than 18 decimals is not supported.
    error UnsupportedDecimals(uint8 decimals);

    uint8 internal constant MAX_COLLATERAL_DECIMALS = 18;

    /// @dev 10**(36 - decimals).
    function notionalScale(uint8 decimals) internal pure returns (uint256) {
        if (decimals > MAX_COLLATERAL_DECIMALS) revert UnsupportedDecimals(decimals);
        return 10 ** (36 - uint256(decimals));
    }

    /// @dev |size| * price / scale, rounded down: for amounts paid out.
    function notionalDown(int256 size, uint256 price, uint256 scale) internal pure returns (uint256) {
        return FixedPointMath.mulDivDown(SignedMath.abs(size), price, scale);
    }

    /// @dev |size| * price / scale, rounded up: for fees and margin requirements.
    function notionalUp(int256 size, uint256 price, uint256 scale) internal pure returns (uint256) {
        return FixedPointMath.mulDivUp(SignedMath.abs(size), price, scale);
    }

    /// @dev size * (price - entryPrice) / scale, floored: a profit rounds down and a loss
    /// rounds up in magnitude. Rounds in favour of the protocol.
    function pnlFloor(int256 size, uint256 entryPrice, uint256 price, uint256 scale)
        internal
        pure
        returns (int256)
    {
        // Two statements: within one expression solc evaluates the right operand first, and
        // the model must revert on the same cast with the same argument.
        int256 current = price.toInt256();
        int256 move = current - entryPrice.toInt256();
        if (move >= 0) return SignedMath.mulDivFloor(size, uint256(move), scale);
        return SignedMath.mulDivFloor(-size, SignedMath.abs(move), scale);
    }

    /// @dev size * indexDelta / scale rounded up: funding a position owes (negative: earns).
    /// Rounds in favour of the protocol: owed amounts up, earned amounts down.
    function fundingCeil(int256 size, int256 indexDelta, uint256 scale) internal pure returns (int256) {
        if (indexDelta >= 0) return SignedMath.mulDivCeil(size, uint256(indexDelta), scale);
        return SignedMath.mulDivCeil(-size, SignedMath.abs(indexDelta), scale);
    }
}
