"""Mirrors contracts/mocks/FaultyFeed.sol: a source that misbehaves on demand (reverts, returns
one word, burns its gas), with any `int256` answer and any timestamp, readable as a Chainlink
aggregator and as a Pyth price id.

A source's reply is what the adapter reads as raw return words: a tuple of ints, one per word
(`latestRoundData` five, `getPriceUnsafe` four; `ShortData` one). A revert is a `Revert` raised by
the source; burning its gas is `OutOfGas`, the model's name for a call frame that ran out of gas
(no revert data on chain). The adapter catches both the way its `staticcall` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pymodel import evm
from pymodel.core import Env, EventLog, ModelContract, ModelEvent
from pymodel.errors import Revert
from pymodel.mock_pyth import PythPrice


class Mode(IntEnum):
    HEALTHY = 0
    REVERTS = 1
    SHORT_DATA = 2
    BURNS_GAS = 3


@dataclass
class Broken(Revert):
    pass


@dataclass
class RoundNotFound(Revert):
    round_id: int


@dataclass
class OutOfGas(Revert):
    """A call frame that used up its gas: no revert data on chain (never a named error there)."""


@dataclass(frozen=True)
class AnswerUpdated(ModelEvent):
    current: int
    round_id: int
    updated_at: int


@dataclass(frozen=True)
class ModeSet(ModelEvent):
    mode: int


class FaultyFeed(ModelContract):
    """Mirrors FaultyFeed.sol."""

    def __init__(self, address: str, log: EventLog, env: Env, decimals: int, initial_answer: int) -> None:
        super().__init__(address, log)
        self.decimals = decimals
        self.mode = Mode.HEALTHY
        self.latest_round_id = 0
        self._answers: dict[int, int] = {}
        self._updated_at: dict[int, int] = {}
        self.set_round_data(env, initial_answer, env.timestamp)

    # Setters (anyone)

    def set_mode(self, env: Env, mode: int) -> None:
        """Mirrors FaultyFeed.setMode (the ABI rejects a mode outside the enum)."""
        self.mode = Mode(mode)
        self.emit(ModeSet(mode))

    def set_round_data(self, env: Env, answer: int, updated_at: int) -> None:
        """Mirrors FaultyFeed.setRoundData: a new round, any answer, any `updatedAt`."""
        round_id = evm.add(self.latest_round_id, 1, bits=80)
        self.latest_round_id = round_id
        self._answers[round_id] = answer
        self._updated_at[round_id] = updated_at
        self.emit(AnswerUpdated(answer, round_id, updated_at))

    # Sources

    def latest_round_data(self) -> tuple[int, ...]:
        return self._misbehave(self.latest_round_id) or self._round_data(self.latest_round_id)

    def get_round_data(self, round_id: int) -> tuple[int, ...]:
        if round_id == 0 or round_id > self.latest_round_id:
            raise RoundNotFound(round_id)
        return self._misbehave(round_id) or self._round_data(round_id)

    def get_price_unsafe(self, price_id: bytes) -> tuple[int, ...]:
        """Pyth's Price(price, conf, expo, publishTime) of the latest round as raw words."""
        latest = self.latest_round_id
        return self._misbehave(latest) or PythPrice(
            self._answers.get(latest, 0), 0, -self.decimals, self._updated_at.get(latest, 0)
        )

    # Internal

    def _round_data(self, round_id: int) -> tuple[int, ...]:
        updated_at = self._updated_at.get(round_id, 0)
        return (round_id, self._answers.get(round_id, 0), updated_at, updated_at, round_id)

    def _misbehave(self, round_id: int) -> tuple[int, ...] | None:
        """Every mode but Healthy ends the call here: a revert, one word, or all gas burnt."""
        if self.mode == Mode.REVERTS:
            raise Broken()
        if self.mode == Mode.SHORT_DATA:
            return (self._answers.get(round_id, 0),)
        if self.mode == Mode.BURNS_GAS:
            raise OutOfGas()
        return None
