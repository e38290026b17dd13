"""Mirrors contracts/EngineGated.sol: the engine address, set once by the owner, and `onlyEngine`.

Base of the LP pool, insurance fund and safety module models.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodel.core import ZERO_ADDRESS, Env, ModelEvent
from pymodel.errors import EngineAlreadySet, NotEngine
from pymodel.ownable import Ownable


@dataclass(frozen=True)
class EngineSet(ModelEvent):
    engine: str


class EngineGated(Ownable):
    """Mirrors EngineGated."""

    engine: str = ZERO_ADDRESS

    def _only_engine(self, env: Env) -> None:
        """The `onlyEngine` modifier."""
        if env.sender != self.engine:
            raise NotEngine(env.sender)

    def set_engine(self, env: Env, engine: str) -> None:
        """Mirrors EngineGated.setEngine."""
        self._check_owner(env)
        if self.engine != ZERO_ADDRESS:
            raise EngineAlreadySet()
        self.engine = engine
        self.emit(EngineSet(engine))
