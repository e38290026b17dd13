// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "./SignedMath.sol";

/// @title Funding
/// @notice The skew funding rule (SPEC §4, docs/DESIGN.md "Funding"), written once: the engine
/// accrues a market's index with it and the LP pool marks pending funding with it.
/// @dev `pymodel/funding.py` mirrors it. Both truncate toward zero (the index is state, not owed).
library Funding {
    using SafeCast for uint256;

    uint256 internal constant WAD = 1e18;

    /// @dev rate = skew / skewScale x maxRate, clamped to +/- maxRate (WAD per second); longs pay
    /// when the skew is long.
    function rate(uint256 longSize, uint256 shortSize, uint256 maxFundingRatePerSecond, uint256 skewScale)
        internal
        pure
        returns (int256 r)
    {
        int256 skew = longSize.toInt256() - shortSize.toInt256();
        int256 maxRate = maxFundingRatePerSecond.toInt256();
        r = SignedMath.mulDivTowardZero(skew, maxFundingRatePerSecond, skewScale);
        if (r > maxRate) r = maxRate;
        if (r < -maxRate) r = -maxRate;
    }

    /// @dev The index `elapsed` seconds at `rate_` after `index`, at `price` (truncated toward zero).
    function indexAfter(int256 index, int256 rate_, uint256 elapsed, uint256 price) internal pure returns (int256) {
        return index + SignedMath.mulDivTowardZero(rate_ * elapsed.toInt256(), price, WAD);
    }
}
