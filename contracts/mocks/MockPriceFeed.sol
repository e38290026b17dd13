// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title MockPriceFeed
/// @notice A settable Chainlink `AggregatorV3Interface` for local chains and testnets. A pusher
/// may start a round with any `updatedAt` (delayed, future-dated or zero), which is how tests put
/// an oracle delay on chain. Pushers: the deployer and the accounts it grants (`setPusher`, from
/// the deployment config's `price_pushers`); on the local chain (id 31337, the test harness)
/// anyone. With 0 decimals and answers 0 (up) / 1 (down) it is also the L2 sequencer-uptime feed.
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
    /// @notice A setter called by an account that is neither the deployer nor a granted pusher
    /// (`setPusher`: by one that is not the deployer).
    error NotPusher(address caller);

    event PusherSet(address indexed pusher, bool allowed);

    /// @dev Same signatures, hence the same topics, as Chainlink's `AggregatorInterface` events.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /* STORAGE */

    uint8 public immutable decimals;
    uint256 public constant version = 1;
    string public constant description = "MockPriceFeed";
    /// @notice The chain on which anyone may push (the local test chain).
    uint256 public constant OPEN_CHAIN_ID = 31337;
    address public immutable deployer;

    mapping(address account => bool) public isPusher;

    uint80 public latestRoundId;
    mapping(uint80 roundId => Round) internal _rounds;

    /* CONSTRUCTOR */

    /// @dev Round 1 carries `initialAnswer`, started and updated at the deployment block.
    constructor(uint8 decimals_, int256 initialAnswer) {
        decimals = decimals_;
        deployer = msg.sender;
        _setRoundData(initialAnswer, block.timestamp);
    }

    /* SETTERS (pushers) */

    /// @notice Grants or revokes the pusher role (deployer only).
    function setPusher(address pusher, bool allowed) external {
        if (msg.sender != deployer) revert NotPusher(msg.sender);
        isPusher[pusher] = allowed;
        emit PusherSet(pusher, allowed);
    }

    /// @notice Starts a new round with `startedAt = updatedAt = block.timestamp`.
    function setAnswer(int256 answer) external {
        _checkPusher();
        _setRoundData(answer, block.timestamp);
    }

    /// @notice Starts a new round with `startedAt = updatedAt = updatedAt`.
    function setRoundData(int256 answer, uint256 updatedAt) external {
        _checkPusher();
        _setRoundData(answer, updatedAt);
    }

    function _checkPusher() internal view {
        if (block.chainid != OPEN_CHAIN_ID && msg.sender != deployer && !isPusher[msg.sender]) {
            revert NotPusher(msg.sender);
        }
    }

    function _setRoundData(int256 answer, uint256 updatedAt) internal {
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
