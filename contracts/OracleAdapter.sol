// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IOracleAdapter} from "./interfaces/IOracleAdapter.sol";

/// @title OracleAdapter
/// @notice One Chainlink feed per market, validated and scaled to WAD (SPEC §4).
/// @dev Mirrored statement for statement by `pymodel/oracle_adapter.py`. Every check is its own
/// statement, in the order `IOracleAdapter.price` documents, so that both sides revert with the
/// same error and the same arguments.
contract OracleAdapter is IOracleAdapter, Ownable {
    /* CONSTANTS */

    /// @notice Upper bound of a market's `maxAge` (Chainlink heartbeats are at most a day).
    uint256 public constant MAX_AGE_LIMIT = 7 days;
    /// @notice Above this, `10 ** (decimals - 18)` would exceed 1e18 and scale almost every answer to 0.
    uint8 public constant MAX_FEED_DECIMALS = 36;
    uint8 internal constant WAD_DECIMALS = 18;

    /* STORAGE */

    struct FeedConfig {
        AggregatorV3Interface feed;
        uint8 decimals;
        uint256 maxAge;
    }

    mapping(uint256 marketId => FeedConfig) internal _feeds;

    /// @notice L2 sequencer-uptime feed; `address(0)` when the check is off.
    AggregatorV3Interface public sequencerFeed;
    /// @notice Seconds after a sequencer restart during which prices are refused.
    uint256 public sequencerGracePeriod;

    /* CONSTRUCTOR */

    constructor(address initialOwner) Ownable(initialOwner) {}

    /* CONFIGURATION */

    /// @inheritdoc IOracleAdapter
    function setFeed(uint256 marketId, address feed, uint256 maxAge) external onlyOwner {
        if (feed == address(0)) revert ZeroFeed();
        if (maxAge == 0 || maxAge > MAX_AGE_LIMIT) revert InvalidMaxAge(maxAge);
        uint8 decimals = AggregatorV3Interface(feed).decimals();
        if (decimals > MAX_FEED_DECIMALS) revert UnsupportedFeedDecimals(decimals);

        _feeds[marketId] = FeedConfig(AggregatorV3Interface(feed), decimals, maxAge);

        emit FeedSet(marketId, feed, decimals, maxAge);
    }

    /// @inheritdoc IOracleAdapter
    function setSequencerFeed(address feed, uint256 gracePeriod) external onlyOwner {
        sequencerFeed = AggregatorV3Interface(feed);
        sequencerGracePeriod = gracePeriod;

        emit SequencerFeedSet(feed, gracePeriod);
    }

    /* PRICE */

    /// @inheritdoc IOracleAdapter
    function price(uint256 marketId) external view returns (uint256) {
        (uint256 wad,) = _priceWithTime(marketId);
        return wad;
    }

    /// @inheritdoc IOracleAdapter
    function priceWithTime(uint256 marketId) external view returns (uint256, uint256) {
        return _priceWithTime(marketId);
    }

    /// @dev `price` and the feed's `updatedAt` (the one observation that produced it).
    function _priceWithTime(uint256 marketId) internal view returns (uint256, uint256) {
        FeedConfig memory config = _feeds[marketId];
        if (address(config.feed) == address(0)) revert FeedNotSet(marketId);

        _checkSequencer();

        (, int256 answer,, uint256 updatedAt,) = config.feed.latestRoundData();
        if (answer <= 0) revert InvalidAnswer(marketId, answer);
        if (updatedAt == 0) revert MissingTimestamp(marketId);
        if (updatedAt > block.timestamp) revert FutureTimestamp(marketId, updatedAt, block.timestamp);
        if (block.timestamp - updatedAt > config.maxAge) {
            revert StalePrice(marketId, updatedAt, block.timestamp, config.maxAge);
        }

        uint256 wad = _scaleToWadDown(uint256(answer), config.decimals);
        // A tiny answer of a feed with more than 18 decimals can round to 0: never return a zero price.
        if (wad == 0) revert InvalidAnswer(marketId, answer);
        return (wad, updatedAt);
    }

    /// @inheritdoc IOracleAdapter
    function feedOf(uint256 marketId) external view returns (address feed, uint8 decimals, uint256 maxAge) {
        FeedConfig memory config = _feeds[marketId];
        return (address(config.feed), config.decimals, config.maxAge);
    }

    /* INTERNAL */

    /// @dev Chainlink L2 uptime feed: answer 0 = up, 1 = down; `startedAt` is when the status last
    /// changed, and 0 only for a round that does not exist. Off when no sequencer feed is set.
    function _checkSequencer() internal view {
        AggregatorV3Interface sequencer = sequencerFeed;
        if (address(sequencer) == address(0)) return;

        (, int256 status, uint256 startedAt,,) = sequencer.latestRoundData();
        if (status != 0 || startedAt == 0) revert SequencerDown();
        // A restart dated after this block counts as still in its grace period (not an underflow panic).
        if (startedAt > block.timestamp || block.timestamp - startedAt <= sequencerGracePeriod) {
            revert SequencerGracePeriod(startedAt, block.timestamp, sequencerGracePeriod);
        }
    }

    /// @dev Up to 18 decimals the scaling is exact (checked: an absurd answer panics 0x11 rather
    /// than wrap). Above 18 it divides and rounds down, dropping digits finer than 1e-18 USD.
    function _scaleToWadDown(uint256 answer, uint8 decimals) internal pure returns (uint256) {
        if (decimals <= WAD_DECIMALS) return answer * 10 ** (WAD_DECIMALS - uint256(decimals));
        return answer / 10 ** (uint256(decimals) - WAD_DECIMALS);
    }
}
