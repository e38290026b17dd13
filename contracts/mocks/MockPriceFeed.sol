// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title MockPriceFeed
/// @notice A settable Chainlink `AggregatorV3Interface` for local chains and testnets. Anyone may
/// start a round with any `updatedAt` (delayed, future-dated or zero), which is how tests put an
/// oracle delay on chain. With 0 decimals and answers 0 (up) / 1 (down) it is also the L2
/// sequencer-uptime feed.
/// @dev Mirrored by `pymodel/mock_price_feed.py`.
contract MockPriceFeed is AggregatorV3Interface {
    /* TYPES, ERRORS, EVENTS */

    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    /// @notice `getRoundData` of a round that was never started.
    error RoundNotFound(uint80 roundId);

    /// @dev Same signatures, hence the same topics, as Chainlink's `AggregatorInterface` events.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /* STORAGE */

    uint8 public immutable decimals;
    uint256 public constant version = 1;
    string public constant description = "MockPriceFeed";

    uint80 public latestRoundId;
    mapping(uint80 roundId => Round) internal _rounds;

    /* CONSTRUCTOR */

    /// @dev Round 1 carries `initialAnswer`, started and updated at the deployment block.
    constructor(uint8 decimals_, int256 initialAnswer) {
        decimals = decimals_;
        setAnswer(initialAnswer);
    }

    /* SETTERS (anyone) */

    /// @notice Starts a new round with `startedAt = updatedAt = block.timestamp`.
    function setAnswer(int256 answer) public {
        setRoundData(answer, block.timestamp);
    }

    /// @notice Starts a new round with `startedAt = updatedAt = updatedAt`.
    function setRoundData(int256 answer, uint256 updatedAt) public {
        uint80 roundId = latestRoundId + 1;
        latestRoundId = roundId;
        _rounds[roundId] = Round(answer, updatedAt, updatedAt);

        emit AnswerUpdated(answer, roundId, updatedAt);
        emit NewRound(roundId, msg.sender, updatedAt);
    }

    /* AggregatorV3Interface */

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId == 0 || roundId > latestRoundId) revert RoundNotFound(roundId);
        return _roundData(roundId);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return _roundData(latestRoundId);
    }

    /// @dev (roundId, answer, startedAt, updatedAt, answeredInRound = roundId).
    function _roundData(uint80 roundId) internal view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory round = _rounds[roundId];
        return (roundId, round.answer, round.startedAt, round.updatedAt, roundId);
    }
}
