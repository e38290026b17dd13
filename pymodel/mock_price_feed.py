"""Chainlink price feeds in the model: the `AggregatorV3Interface` the oracle adapter reads, and
mirrors of the two feeds deployed locally.

- `MockPriceFeed` mirrors contracts/mocks/MockPriceFeed.sol (also the sequencer-uptime mock).
- `ChainlinkMockV3Aggregator` mirrors Chainlink's own `MockV3Aggregator`
  (node_modules/@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol), deployed through
  contracts/mocks/ChainlinkMockV3Aggregator.sol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from pymodel import evm
from pymodel.core import Env, EventLog, ModelContract, ModelEvent
from pymodel.errors import Revert

UINT80_MAX = evm.uint_max(80)


class RoundData(NamedTuple):
    """`latestRoundData()` / `getRoundData()`; equal to the chain's plain 5-tuple."""

    round_id: int
    answer: int
    started_at: int
    updated_at: int
    answered_in_round: int


class AggregatorV3(Protocol):
    """What a model contract reads from a feed (Chainlink `AggregatorV3Interface`)."""

    address: str
    decimals: int

    def latest_round_data(self) -> RoundData: ...


# ---------------------------------------------------------------------------------------------
# MockPriceFeed
# ---------------------------------------------------------------------------------------------


@dataclass
class RoundNotFound(Revert):
    round_id: int


@dataclass
class NotPusher(Revert):
    caller: str


@dataclass(frozen=True)
class PusherSet(ModelEvent):
    pusher: str
    allowed: bool


@dataclass(frozen=True)
class AnswerUpdated(ModelEvent):
    current: int
    round_id: int
    updated_at: int


@dataclass(frozen=True)
class NewRound(ModelEvent):
    round_id: int
    started_by: str
    started_at: int


@dataclass
class _Round:
    answer: int = 0
    started_at: int = 0
    updated_at: int = 0


class MockPriceFeed(ModelContract):
    """Mirrors contracts/mocks/MockPriceFeed.sol."""

    VERSION = 1
    DESCRIPTION = "MockPriceFeed"
    OPEN_CHAIN_ID = 31337

    def __init__(
        self, address: str, log: EventLog, env: Env, decimals: int, initial_answer: int, chain_id: int = OPEN_CHAIN_ID
    ) -> None:
        """Round 1 carries `initial_answer`, started and updated at the deployment block.
        `chain_id` is the chain's `block.chainid` (anyone pushes on the local chain)."""
        super().__init__(address, log)
        self.decimals = decimals
        self.deployer = env.sender
        self.chain_id = chain_id
        self.latest_round_id = 0
        self._rounds: dict[int, _Round] = {}
        self._is_pusher: dict[str, bool] = {}
        self._set_round_data(env, initial_answer, env.timestamp)

    # Setters (pushers)

    def set_pusher(self, env: Env, pusher: str, allowed: bool) -> None:
        """Mirrors MockPriceFeed.setPusher (deployer only)."""
        if env.sender != self.deployer:
            raise NotPusher(env.sender)
        self._is_pusher[pusher] = allowed
        self.emit(PusherSet(pusher, allowed))

    def set_answer(self, env: Env, answer: int) -> None:
        """Mirrors MockPriceFeed.setAnswer: a new round at `block.timestamp`."""
        self._check_pusher(env)
        self._set_round_data(env, answer, env.timestamp)

    def set_round_data(self, env: Env, answer: int, updated_at: int) -> None:
        """Mirrors MockPriceFeed.setRoundData: a new round with `startedAt = updatedAt = updated_at`."""
        self._check_pusher(env)
        self._set_round_data(env, answer, updated_at)

    def is_pusher(self, account: str) -> bool:
        return self._is_pusher.get(account, False)

    def _check_pusher(self, env: Env) -> None:
        if self.chain_id != self.OPEN_CHAIN_ID and env.sender != self.deployer and not self.is_pusher(env.sender):
            raise NotPusher(env.sender)

    def _set_round_data(self, env: Env, answer: int, updated_at: int) -> None:
        round_id = evm.add(self.latest_round_id, 1, bits=80)
        self.latest_round_id = round_id
        self._rounds[round_id] = _Round(answer, updated_at, updated_at)

        self.emit(AnswerUpdated(answer, round_id, updated_at))
        self.emit(NewRound(round_id, env.sender, updated_at))

    # AggregatorV3Interface

    def version(self) -> int:
        return self.VERSION

    def description(self) -> str:
        return self.DESCRIPTION

    def get_round_data(self, round_id: int) -> RoundData:
        if round_id == 0 or round_id > self.latest_round_id:
            raise RoundNotFound(round_id)
        return self._round_data(round_id)

    def latest_round_data(self) -> RoundData:
        return self._round_data(self.latest_round_id)

    def _round_data(self, round_id: int) -> RoundData:
        """(roundId, answer, startedAt, updatedAt, answeredInRound = roundId)."""
        round_ = self._rounds.get(round_id, _Round())
        return RoundData(round_id, round_.answer, round_.started_at, round_.updated_at, round_id)


# ---------------------------------------------------------------------------------------------
# ChainlinkMockV3Aggregator (Chainlink's MockV3Aggregator: no events, no reverts)
# ---------------------------------------------------------------------------------------------


class ChainlinkMockV3Aggregator(ModelContract):
    """Mirrors @chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol."""

    VERSION = 0
    DESCRIPTION = "v0.8/tests/MockV3Aggregator.sol"

    def __init__(self, address: str, log: EventLog, env: Env, decimals: int, initial_answer: int) -> None:
        super().__init__(address, log)
        self.decimals = decimals
        self.latest_answer = 0
        self.latest_timestamp = 0
        self.latest_round = 0
        self._answers: dict[int, int] = {}
        self._timestamps: dict[int, int] = {}
        self._started_at: dict[int, int] = {}
        self.update_answer(env, initial_answer)

    # Setters (anyone)

    def update_answer(self, env: Env, answer: int) -> None:
        """Mirrors MockV3Aggregator.updateAnswer: the next round, dated `block.timestamp`."""
        self.latest_answer = answer
        self.latest_timestamp = env.timestamp
        # Checked `latestRound++`; unreachable overflow (rounds are set as uint80).
        self.latest_round = evm.add(self.latest_round, 1)
        self._answers[self.latest_round] = answer
        self._timestamps[self.latest_round] = env.timestamp
        self._started_at[self.latest_round] = env.timestamp

    def update_round_data(self, env: Env, round_id: int, answer: int, timestamp: int, started_at: int) -> None:
        """Mirrors MockV3Aggregator.updateRoundData: any round id, any timestamps."""
        self.latest_round = round_id
        self.latest_answer = answer
        self.latest_timestamp = timestamp
        self._answers[self.latest_round] = answer
        self._timestamps[self.latest_round] = timestamp
        self._started_at[self.latest_round] = started_at

    # Views (public mappings read 0 for unknown rounds)

    def version(self) -> int:
        return self.VERSION

    def description(self) -> str:
        return self.DESCRIPTION

    def get_answer(self, round_id: int) -> int:
        return self._answers.get(round_id, 0)

    def get_timestamp(self, round_id: int) -> int:
        return self._timestamps.get(round_id, 0)

    def get_round_data(self, round_id: int) -> RoundData:
        return RoundData(
            round_id,
            self.get_answer(round_id),
            self._started_at.get(round_id, 0),
            self.get_timestamp(round_id),
            round_id,
        )

    def latest_round_data(self) -> RoundData:
        # `uint80(latestRound)`: an explicit, unchecked (truncating) cast.
        round_id = self.latest_round & UINT80_MAX
        return RoundData(
            round_id,
            self.get_answer(self.latest_round),
            self._started_at.get(self.latest_round, 0),
            self.get_timestamp(self.latest_round),
            round_id,
        )
