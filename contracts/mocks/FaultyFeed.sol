// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title FaultyFeed
/// @notice A price source that misbehaves on demand, for tests of the oracle adapter's source
/// isolation: it answers as a Chainlink `AggregatorV3Interface` (`latestRoundData`,
/// `getRoundData`) and as a Pyth price id (`getPriceUnsafe`, any id), with any `int256` answer
/// and any timestamp, and in `mode` it answers normally, reverts, returns one word instead of the
/// interface's words, or burns all the gas it is given.
/// @dev Mirrored by `pymodel/faulty_feed.py`. Return words are written raw: an answer outside
/// int64 or a `decimals` outside int32 reaches the caller as the dirty word it is.
contract FaultyFeed {
    /* TYPES, ERRORS, EVENTS */

    enum Mode {
        Healthy,
        Reverts,
        ShortData,
        BurnsGas
    }

    error Broken();
    error RoundNotFound(uint80 roundId);

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event ModeSet(Mode mode);

    /* STORAGE */

    uint8 public immutable decimals;
    Mode public mode;
    uint80 public latestRoundId;
    mapping(uint80 roundId => int256) internal _answers;
    mapping(uint80 roundId => uint256) internal _updatedAt;

    constructor(uint8 decimals_, int256 initialAnswer) {
        decimals = decimals_;
        setRoundData(initialAnswer, block.timestamp);
    }

    /* SETTERS (anyone) */

    function setMode(Mode mode_) external {
        mode = mode_;
        emit ModeSet(mode_);
    }

    /// @notice A new round: any answer, any `updatedAt`.
    function setRoundData(int256 answer, uint256 updatedAt) public {
        uint80 roundId = latestRoundId + 1;
        latestRoundId = roundId;
        _answers[roundId] = answer;
        _updatedAt[roundId] = updatedAt;
        emit AnswerUpdated(answer, roundId, updatedAt);
    }

    /* SOURCES */

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        _misbehave(latestRoundId);
        return _roundData(latestRoundId);
    }

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId == 0 || roundId > latestRoundId) revert RoundNotFound(roundId);
        _misbehave(roundId);
        return _roundData(roundId);
    }

    /// @notice Pyth's `Price(price, conf, expo, publishTime)` of the latest round, as raw words
    /// (conf 0, expo `-decimals`).
    function getPriceUnsafe(bytes32) external view returns (int256, uint256, int256, uint256) {
        _misbehave(latestRoundId);
        return (_answers[latestRoundId], 0, -int256(uint256(decimals)), _updatedAt[latestRoundId]);
    }

    /* INTERNAL */

    function _roundData(uint80 roundId) internal view returns (uint80, int256, uint256, uint256, uint80) {
        return (roundId, _answers[roundId], _updatedAt[roundId], _updatedAt[roundId], roundId);
    }

    /// @dev Every mode but Healthy ends the call here.
    function _misbehave(uint80 roundId) internal view {
        Mode m = mode;
        if (m == Mode.Reverts) revert Broken();
        int256 answer = _answers[roundId];
        if (m == Mode.ShortData) {
            assembly ("memory-safe") {
                mstore(0, answer)
                return(0, 32)
            }
        }
        if (m == Mode.BurnsGas) {
            assembly ("memory-safe") {
                invalid()
            }
        }
    }
}
