"""Mirrors contracts/engine/EngineStorage.sol: the engine's constants, immutables, storage and
working types (one layout for `PerpEngine` and the modules it runs by DELEGATECALL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, EventLog
from pymodel.engine.types import (
    MarketNotListed,
    MarketParams,
    MarketState,
    Position,
)
from pymodel.erc20 import ERC20
from pymodel.fixed_point import WAD
from pymodel.ownable import Ownable
from pymodel.units import notional_scale

if TYPE_CHECKING:
    from pymodel.insurance_fund import InsuranceFund
    from pymodel.lp_pool import LPPool
    from pymodel.oracle_adapter import OracleAdapter
    from pymodel.safety_module import SafetyModule

__all__ = ["BPS", "MAX_MARKETS", "WAD", "UINT256_MAX", "EngineStorage", "Liquidation", "Settlement", "Trade"]

BPS = 10_000
MAX_MARKETS = 16
UINT256_MAX = evm.UINT256_MAX

# Types


@dataclass
class Trade:
    price: int = 0
    execution_price: int = 0
    fee: int = 0


@dataclass
class Settlement:
    realised_pnl: int = 0
    funding_paid: int = 0
    payout: int = 0


@dataclass
class Liquidation:
    price: int = 0
    execution_price: int = 0
    bankruptcy_price: int = 0
    full: bool = False
    size_closed: int = 0
    exact_notional_closed: int = 0
    margin_part: int = 0
    funding_part: int = 0
    pnl: int = 0
    realised: int = 0
    reward: int = 0
    penalty: int = 0
    refund: int = 0


@dataclass
class _Storage:
    markets: dict[int, MarketState] = field(default_factory=dict)
    params: dict[int, MarketParams] = field(default_factory=dict)
    positions: dict[tuple[str, int], Position] = field(default_factory=dict)


class EngineStorage(Ownable):
    """Mirrors EngineStorage: the constructor's immutables and the engine's storage."""

    def __init__(
        self,
        address: str,
        log: EventLog,
        collateral: ERC20,
        oracle: OracleAdapter,
        pool: LPPool,
        insurance_fund: InsuranceFund,
        safety_module: SafetyModule,
        owner: str,
    ) -> None:
        super().__init__(address, log)
        self._init_ownable(owner)
        self.collateral = collateral
        self.oracle = oracle
        self.pool = pool
        self.insurance_fund = insurance_fund
        self.safety_module = safety_module
        self.notional_scale = notional_scale(collateral.decimals)
        # The pool, the insurance fund and the safety module pull what the engine credits to
        # them (forceApprove: OpenZeppelin's SafeERC20 emits one Approval each).
        collateral._approve(address, pool.address, UINT256_MAX, emit=True)
        collateral._approve(address, insurance_fund.address, UINT256_MAX, emit=True)
        collateral._approve(address, safety_module.address, UINT256_MAX, emit=True)
        self.guardian = ZERO_ADDRESS
        self.order_router = ZERO_ADDRESS
        self.opens_paused = False
        self.insurance_share_bps = 0
        self.safety_module_share_bps = 0
        self.max_utilisation_bps = 0
        self.reserve_factor_bps = 0
        self.adl_trigger_bps = 0
        self.adl_target_bps = 0
        self.socialised_loss = 0
        self.uncovered_deficit = 0
        self.is_adl_keeper: dict[str, bool] = {}
        self.market_ids: list[int] = []
        self.s = _Storage()

    # Internal

    def _market(self, market_id: int) -> MarketState:
        return self.s.markets.get(market_id, MarketState())

    def _listed(self, market_id: int) -> tuple[MarketParams, MarketState]:
        m = self.s.markets.get(market_id)
        if m is None or not m.listed:
            raise MarketNotListed(market_id)
        return self.s.params[market_id], m

    def _store(self, account: str, market_id: int, position: Position) -> None:
        if position == Position():
            self.s.positions.pop((account, market_id), None)
        else:
            self.s.positions[(account, market_id)] = position
