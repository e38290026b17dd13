// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMath} from "../libraries/FixedPointMath.sol";
import {SignedMath} from "../libraries/SignedMath.sol";
import {Units} from "../libraries/Units.sol";

/// @notice Exposes every library function for the model⇄chain differential tests.
contract MathHarness {
    /* FixedPointMath */

    function mulDivDown(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return FixedPointMath.mulDivDown(x, y, d);
    }

    function mulDivUp(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return FixedPointMath.mulDivUp(x, y, d);
    }

    function mulWadDown(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMath.mulWadDown(x, y);
    }

    function mulWadUp(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMath.mulWadUp(x, y);
    }

    function divWadDown(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMath.divWadDown(x, y);
    }

    function divWadUp(uint256 x, uint256 y) external pure returns (uint256) {
        return FixedPointMath.divWadUp(x, y);
    }

    /* SignedMath */

    function abs(int256 x) external pure returns (uint256) {
        return SignedMath.abs(x);
    }

    function negate(uint256 magnitude) external pure returns (int256) {
        return SignedMath.negate(magnitude);
    }

    function mulDivTowardZero(int256 x, uint256 y, uint256 d) external pure returns (int256) {
        return SignedMath.mulDivTowardZero(x, y, d);
    }

    function mulDivFloor(int256 x, uint256 y, uint256 d) external pure returns (int256) {
        return SignedMath.mulDivFloor(x, y, d);
    }

    function mulDivCeil(int256 x, uint256 y, uint256 d) external pure returns (int256) {
        return SignedMath.mulDivCeil(x, y, d);
    }

    function divTowardZero(int256 x, int256 y) external pure returns (int256) {
        return SignedMath.divTowardZero(x, y);
    }

    function divFloor(int256 x, int256 y) external pure returns (int256) {
        return SignedMath.divFloor(x, y);
    }

    /* SafeCast (OpenZeppelin) */

    function toUint256(int256 x) external pure returns (uint256) {
        return SafeCast.toUint256(x);
    }

    function toInt256(uint256 x) external pure returns (int256) {
        return SafeCast.toInt256(x);
    }

    function toUint128(uint256 x) external pure returns (uint128) {
        return SafeCast.toUint128(x);
    }

    function toInt128(int256 x) external pure returns (int128) {
        return SafeCast.toInt128(x);
    }

    /* Units */

    function notionalScale(uint8 decimals) external pure returns (uint256) {
        return Units.notionalScale(decimals);
    }

    function notionalDown(int256 size, uint256 price, uint256 scale) external pure returns (uint256) {
        return Units.notionalDown(size, price, scale);
    }

    function notionalUp(int256 size, uint256 price, uint256 scale) external pure returns (uint256) {
        return Units.notionalUp(size, price, scale);
    }

    function pnlFloor(int256 size, uint256 entryPrice, uint256 price, uint256 scale)
        external
        pure
        returns (int256)
    {
        return Units.pnlFloor(size, entryPrice, price, scale);
    }

    function fundingCeil(int256 size, int256 indexDelta, uint256 scale) external pure returns (int256) {
        return Units.fundingCeil(size, indexDelta, scale);
    }
}
