"""Mirrors contracts/interfaces/IPerpEngine.sol `IPerpEngineTypes`: the engine's structs, custom
errors and events, one Python type each, fields in declaration order."""

from __future__ import annotations

from dataclasses import dataclass, fields

from pymodel.core import ModelEvent
from pymodel.errors import Revert

__all__ = [
    "MarketParams",
    "MarketState",
    "Position",
    "LiquidationPreview",
    "MarketNotListed",
    "MarketAlreadyListed",
    "TooManyMarkets",
    "ZeroSize",
    "OpensPaused",
    "NotGuardian",
    "NoPosition",
    "NotOrderRouter",
    "OrderRouterAlreadySet",
    "MarginInOnDecrease",
    "MarginBelowMinimum",
    "NotionalBelowMinimum",
    "ReductionTooLarge",
    "SlippageExceeded",
    "InsufficientMargin",
    "PositionLiquidatable",
    "OpenInterestCapExceeded",
    "UtilisationCapExceeded",
    "PositionHealthy",
    "LiquidationCooldown",
    "WaterfallMismatch",
    "AdlNotTriggered",
    "AdlNotProfitable",
    "AdlNotImproving",
    "NotAdlKeeper",
    "AdlOwnPosition",
    "BoundAccountCount",
    "BoundAccountInvalid",
    "MarketListed",
    "MarketParamsSet",
    "FeeSharesSet",
    "PoolLimitsSet",
    "GuardianSet",
    "OrderRouterSet",
    "OpensPausedSet",
    "AdlParamsSet",
    "AutoDeleveraged",
    "AdlKeeperSet",
    "AdlFlagSynced",
    "BankruptcyBoundRefreshed",
    "DeficitUncovered",
    "DeficitRepaid",
    "ProfitHaircut",
    "FundingAccrued",
    "PositionIncreased",
    "PositionDecreased",
    "MarginChanged",
    "FeesSplit",
    "Liquidated",
    "BadDebtSettled",
]

# Structs


@dataclass(frozen=True)
class MarketParams:
    """IPerpEngine.MarketParams, fields in struct order."""

    initial_margin_bps: int
    tier_notional_caps: tuple[int, int, int, int]
    tier_maintenance_bps: tuple[int, int, int, int]
    spread_bps: int
    impact_bps: int
    impact_reference_notional: int
    max_impact_bps: int
    trading_fee_bps: int
    liquidation_slippage_bps: int
    liquidation_penalty_bps: int
    keeper_fixed_reward: int
    keeper_reward_bps: int
    keeper_reward_cap: int
    partial_liquidation_threshold: int
    partial_liquidation_bps: int
    partial_liquidation_cooldown: int
    max_funding_rate_per_second: int
    skew_scale: int
    max_long_open_interest: int
    max_short_open_interest: int
    min_margin: int
    min_notional: int

    def as_tuple(self) -> tuple:
        """The ABI tuple the contract takes and returns."""
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def zero(cls) -> MarketParams:
        """The all-zero struct: what the chain's mapping holds for an unlisted market."""
        return cls(**{f.name: (0, 0, 0, 0) if str(f.type).startswith("tuple") else 0 for f in fields(cls)})


@dataclass
class MarketState:
    """IPerpEngine.MarketState."""

    listed: bool = False
    long_size: int = 0
    short_size: int = 0
    long_entry_notional: int = 0
    short_entry_notional: int = 0
    funding_index: int = 0
    last_funding_at: int = 0
    sum_size_times_index: int = 0
    accrued_funding_total: int = 0
    adl_long_active: bool = False
    adl_short_active: bool = False
    long_positions: int = 0  # open long positions (what refresh_bankruptcy_bound must list)
    short_positions: int = 0
    # A long is beyond its bankruptcy price only below long_bankruptcy_bound + index; a short above
    # short_bankruptcy_bound + index (docs/DESIGN.md, "Mark"). Meaningless while the side is empty.
    long_bankruptcy_bound: int = 0
    short_bankruptcy_bound: int = 0

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass
class Position:
    """IPerpEngine.Position."""

    size: int = 0
    entry_price: int = 0
    margin: int = 0
    accrued_funding: int = 0
    funding_index: int = 0
    last_liquidation_at: int = 0

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass
class LiquidationPreview:
    """IPerpEngine.LiquidationPreview."""

    oracle_price: int = 0
    execution_price: int = 0
    bankruptcy_price: int = 0
    size_closed: int = 0
    realised: int = 0
    keeper_reward: int = 0
    penalty: int = 0
    refund: int = 0
    shortfall: int = 0
    from_insurance: int = 0
    from_safety_module: int = 0
    from_pool: int = 0
    # What the pool could not pay and the engine would advance; when even the engine's balance
    # falls short, keeper_reward/penalty/refund above are already cut.
    uncovered: int = 0

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


# Errors


@dataclass
class MarketNotListed(Revert):
    market_id: int


@dataclass
class MarketAlreadyListed(Revert):
    market_id: int


@dataclass
class TooManyMarkets(Revert):
    pass


@dataclass
class ZeroSize(Revert):
    pass


@dataclass
class OpensPaused(Revert):
    pass


@dataclass
class NotGuardian(Revert):
    caller: str


@dataclass
class NoPosition(Revert):
    account: str
    market_id: int


@dataclass
class NotOrderRouter(Revert):
    caller: str


@dataclass
class OrderRouterAlreadySet(Revert):
    pass


@dataclass
class MarginInOnDecrease(Revert):
    margin_in: int


@dataclass
class MarginBelowMinimum(Revert):
    margin: int
    min_margin: int


@dataclass
class NotionalBelowMinimum(Revert):
    notional: int
    min_notional: int


@dataclass
class ReductionTooLarge(Revert):
    reduction: int
    size: int


@dataclass
class SlippageExceeded(Revert):
    execution_price: int
    acceptable_price: int


@dataclass
class InsufficientMargin(Revert):
    equity: int
    required: int


@dataclass
class PositionLiquidatable(Revert):
    account: str
    market_id: int


@dataclass
class OpenInterestCapExceeded(Revert):
    market_id: int
    open_interest: int
    cap: int


@dataclass
class UtilisationCapExceeded(Revert):
    reserved: int
    limit: int


@dataclass
class PositionHealthy(Revert):
    account: str
    market_id: int
    equity: int
    maintenance_margin: int


@dataclass
class LiquidationCooldown(Revert):
    account: str
    market_id: int
    ready_at: int


@dataclass
class WaterfallMismatch(Revert):
    pass


@dataclass
class AdlNotTriggered(Revert):
    market_id: int
    is_long: bool
    ratio_bps: int
    threshold_bps: int


@dataclass
class AdlNotProfitable(Revert):
    account: str
    market_id: int
    pnl: int


@dataclass
class AdlNotImproving(Revert):
    ratio_before_bps: int
    ratio_after_bps: int


@dataclass
class NotAdlKeeper(Revert):
    caller: str


@dataclass
class AdlOwnPosition(Revert):
    account: str


@dataclass
class BoundAccountCount(Revert):
    given: int
    open: int


@dataclass
class BoundAccountInvalid(Revert):
    index: int
    account: str


# Events


@dataclass(frozen=True)
class MarketListed(ModelEvent):
    market_id: int


@dataclass(frozen=True)
class MarketParamsSet(ModelEvent):
    market_id: int


@dataclass(frozen=True)
class FeeSharesSet(ModelEvent):
    insurance_share_bps: int
    safety_module_share_bps: int


@dataclass(frozen=True)
class PoolLimitsSet(ModelEvent):
    max_utilisation_bps: int
    reserve_factor_bps: int


@dataclass(frozen=True)
class GuardianSet(ModelEvent):
    guardian: str


@dataclass(frozen=True)
class OrderRouterSet(ModelEvent):
    order_router: str


@dataclass(frozen=True)
class OpensPausedSet(ModelEvent):
    paused: bool


@dataclass(frozen=True)
class AdlParamsSet(ModelEvent):
    trigger_bps: int
    target_bps: int


@dataclass(frozen=True)
class AutoDeleveraged(ModelEvent):
    account: str
    market_id: int
    keeper: str
    size_closed: int
    oracle_price: int
    realised_pnl: int
    score: int
    ratio_before_bps: int
    ratio_after_bps: int


@dataclass(frozen=True)
class AdlKeeperSet(ModelEvent):
    keeper: str
    allowed: bool


@dataclass(frozen=True)
class AdlFlagSynced(ModelEvent):
    market_id: int
    is_long: bool
    ratio_bps: int
    active: bool


@dataclass(frozen=True)
class BankruptcyBoundRefreshed(ModelEvent):
    market_id: int
    is_long: bool
    bound: int


@dataclass(frozen=True)
class DeficitUncovered(ModelEvent):
    account: str
    market_id: int
    amount: int
    total: int


@dataclass(frozen=True)
class DeficitRepaid(ModelEvent):
    amount: int
    remaining: int


@dataclass(frozen=True)
class ProfitHaircut(ModelEvent):
    account: str
    market_id: int
    owed: int
    paid: int
    haircut: int


@dataclass(frozen=True)
class FundingAccrued(ModelEvent):
    market_id: int
    rate_per_second: int
    funding_index: int


@dataclass(frozen=True)
class PositionIncreased(ModelEvent):
    account: str
    market_id: int
    size_delta: int
    oracle_price: int
    execution_price: int
    size: int
    entry_price: int
    margin: int
    fee: int


@dataclass(frozen=True)
class PositionDecreased(ModelEvent):
    account: str
    market_id: int
    size_delta: int
    oracle_price: int
    execution_price: int
    realised_pnl: int
    funding_paid: int
    fee: int
    size: int
    margin: int
    payout: int


@dataclass(frozen=True)
class MarginChanged(ModelEvent):
    account: str
    market_id: int
    delta: int
    margin: int


@dataclass(frozen=True)
class FeesSplit(ModelEvent):
    market_id: int
    to_pool: int
    to_insurance: int
    to_safety_module: int


@dataclass(frozen=True)
class Liquidated(ModelEvent):
    account: str
    market_id: int
    keeper: str
    oracle_price: int
    execution_price: int
    bankruptcy_price: int
    size_closed: int
    realised: int
    keeper_reward: int
    penalty: int
    refund: int


@dataclass(frozen=True)
class BadDebtSettled(ModelEvent):
    account: str
    market_id: int
    shortfall: int
    from_insurance: int
    from_safety_module: int
    from_pool: int
