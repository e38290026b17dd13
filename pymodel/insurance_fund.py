"""Mirrors contracts/InsuranceFund.sol: per-market buckets, first layer of the waterfall."""

from __future__ import annotations

from dataclasses import dataclass

from pymodel import evm
from pymodel.core import Env, EventLog, ModelEvent
from pymodel.engine_gated import EngineGated
from pymodel.erc20 import ERC20
from pymodel.errors import ZeroAmount

# Errors


# Events


@dataclass(frozen=True)
class BucketFunded(ModelEvent):
    market_id: int
    from_: str
    amount: int


@dataclass(frozen=True)
class BucketDrawn(ModelEvent):
    market_id: int
    amount: int


class InsuranceFund(EngineGated):
    """Mirrors InsuranceFund."""

    def __init__(self, address: str, log: EventLog, collateral: ERC20, owner: str) -> None:
        super().__init__(address, log)
        self._init_ownable(owner)
        self.collateral = collateral
        self.buckets: dict[int, int] = {}

    # Funding

    def fund(self, env: Env, market_id: int, amount: int) -> None:
        """Mirrors InsuranceFund.fund."""
        if amount == 0:
            raise ZeroAmount()
        self.buckets[market_id] = evm.add(self.bucket_of(market_id), amount)
        self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, amount)
        self.emit(BucketFunded(market_id, env.sender, amount))

    def deposit_from_engine(self, env: Env, market_id: int, amount: int) -> None:
        """Mirrors InsuranceFund.depositFromEngine."""
        self._only_engine(env)
        self.buckets[market_id] = evm.add(self.bucket_of(market_id), amount)
        self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, amount)
        self.emit(BucketFunded(market_id, env.sender, amount))

    # Cover

    def cover(self, env: Env, market_id: int, amount: int) -> int:
        """Mirrors InsuranceFund.cover: pays min(amount, bucket) to the engine."""
        self._only_engine(env)
        bucket = self.bucket_of(market_id)
        paid = amount if amount < bucket else bucket
        if paid == 0:
            return 0
        self.buckets[market_id] = bucket - paid
        self.collateral.transfer(env.calling(self.address), env.sender, paid)
        self.emit(BucketDrawn(market_id, paid))
        return paid

    # Views

    def bucket_of(self, market_id: int) -> int:
        return self.buckets.get(market_id, 0)
