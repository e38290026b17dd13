// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOracleAdapter
/// @notice Reads one Chainlink `AggregatorV3Interface` feed per market, validates it and
/// returns the price as a WAD (18 decimals). Every trigger in the system uses this price.
interface IOracleAdapter {
    /* ERRORS */

    /// @notice No feed is configured for the market.
    error FeedNotSet(uint256 marketId);
    /// @notice The feed answered zero or a negative number.
    error InvalidAnswer(uint256 marketId, int256 answer);
    /// @notice The feed's round has `updatedAt == 0` (incomplete round).
    error MissingTimestamp(uint256 marketId);
    /// @notice The feed's `updatedAt` lies after the current block.
    error FutureTimestamp(uint256 marketId, uint256 updatedAt, uint256 blockTimestamp);
    /// @notice `block.timestamp - updatedAt > maxAge`.
    error StalePrice(uint256 marketId, uint256 updatedAt, uint256 blockTimestamp, uint256 maxAge);
    /// @notice The L2 sequencer-uptime feed reports the sequencer down (answer != 0, or no round).
    error SequencerDown();
    /// @notice The sequencer came back up less than `gracePeriod` seconds ago.
    error SequencerGracePeriod(uint256 restartedAt, uint256 blockTimestamp, uint256 gracePeriod);
    /// @notice `maxAge` must be in [1, MAX_AGE_LIMIT].
    error InvalidMaxAge(uint256 maxAge);
    /// @notice Feeds with more than 36 decimals are not supported.
    error UnsupportedFeedDecimals(uint8 decimals);
    /// @notice The feed address is zero.
    error ZeroFeed();

    /* EVENTS */

    event FeedSet(uint256 indexed marketId, address feed, uint8 decimals, uint256 maxAge);
    event SequencerFeedSet(address feed, uint256 gracePeriod);

    /* FUNCTIONS */

    /// @notice Owner only. Sets (or replaces) the market's feed; reads and stores `feed.decimals()`.
    function setFeed(uint256 marketId, address feed, uint256 maxAge) external;

    /// @notice Owner only. Sets the L2 sequencer-uptime feed; `address(0)` disables the check.
    function setSequencerFeed(address feed, uint256 gracePeriod) external;

    /// @notice The validated price of the market's base asset in USD, 18 decimals.
    /// @dev Checks, in this order: feed set; sequencer up and past its grace period (if a
    /// sequencer feed is set); `answer > 0`; `updatedAt != 0`; `updatedAt <= block.timestamp`;
    /// `block.timestamp - updatedAt <= maxAge`. Scaling from the feed's decimals rounds down.
    function price(uint256 marketId) external view returns (uint256);

    /// @notice `price(marketId)` (same validation, same reverts) and `observedAt`, the oldest
    /// `updatedAt` among the observations that produced it (one feed: its round's `updatedAt`).
    function priceWithTime(uint256 marketId) external view returns (uint256 price, uint256 observedAt);

    /// @notice The market's feed configuration.
    function feedOf(uint256 marketId) external view returns (address feed, uint8 decimals, uint256 maxAge);
}
