"""Mirrors contracts/PerpEngine.sol statement for statement: markets, isolated positions,
margin, fees, funding, liquidation, the loss waterfall (insurance bucket -> safety module ->
pool), auto-deleveraging and socialised loss."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, Env, EventLog, ModelEvent
from pymodel.erc20 import ERC20
from pymodel.errors import InvalidParameter, Revert, ZeroAmount
from pymodel.fixed_point import WAD, mul_div_down, mul_div_up
from pymodel.ownable import Ownable
from pymodel.signed_math import abs_, mul_div_floor, mul_div_toward_zero
from pymodel.units import funding_ceil, notional_down, notional_scale, notional_up, pnl_floor

if TYPE_CHECKING:
    from pymodel.insurance_fund import InsuranceFund
    from pymodel.lp_pool import LPPool
    from pymodel.oracle_adapter import OracleAdapter
    from pymodel.safety_module import SafetyModule

BPS = 10_000
MAX_MARKETS = 16
MAX_TRADING_FEE_BPS = 1_000
# Upper bounds of the market parameters that pay keepers or charge traders (SPEC §11): even the
# owner cannot set a reward that drains the backstop layers.
MAX_LIQUIDATION_PENALTY_BPS = 1_000
MAX_KEEPER_REWARD_BPS = 100
# In whole collateral units.
MAX_KEEPER_FIXED_REWARD = 100
MAX_KEEPER_REWARD_CAP = 10_000
MAX_PARTIAL_LIQUIDATION_COOLDOWN = 86_400
MAX_FUNDING_RATE_PER_SECOND = WAD // 86_400
UINT256_MAX = evm.UINT256_MAX

# Types


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


def validate_market_params(p: MarketParams, scale: int) -> None:
    """Mirrors MarketParamsValidator.validate (the engine's own validator contract, created by its
    constructor): the same bounds, in the same order (`scale`: the engine's notional scale,
    10**(36 - collateral decimals))."""
    if p.initial_margin_bps == 0 or p.initial_margin_bps > BPS:
        raise InvalidParameter("initialMarginBps", p.initial_margin_bps)
    for i in range(4):
        if p.tier_maintenance_bps[i] == 0 or p.tier_maintenance_bps[i] >= p.initial_margin_bps:
            raise InvalidParameter("tierMaintenanceBps", p.tier_maintenance_bps[i])
        if i > 0 and p.tier_maintenance_bps[i] < p.tier_maintenance_bps[i - 1]:
            raise InvalidParameter("tierMaintenanceBps", p.tier_maintenance_bps[i])
        if i > 0 and p.tier_notional_caps[i] <= p.tier_notional_caps[i - 1]:
            raise InvalidParameter("tierNotionalCaps", p.tier_notional_caps[i])
    if p.tier_notional_caps[3] != UINT256_MAX:
        raise InvalidParameter("tierNotionalCaps", p.tier_notional_caps[3])
    if p.spread_bps >= BPS:
        raise InvalidParameter("spreadBps", p.spread_bps)
    if p.impact_bps > BPS:
        raise InvalidParameter("impactBps", p.impact_bps)
    if p.liquidation_slippage_bps >= BPS:
        raise InvalidParameter("liquidationSlippageBps", p.liquidation_slippage_bps)
    widest = p.spread_bps if p.spread_bps > p.liquidation_slippage_bps else p.liquidation_slippage_bps
    # Sell prices are price * (1 - bps): they must stay positive.
    if p.max_impact_bps >= BPS - widest:
        raise InvalidParameter("maxImpactBps", p.max_impact_bps)
    if p.impact_reference_notional == 0:
        raise InvalidParameter("impactReferenceNotional", 0)
    if p.trading_fee_bps > MAX_TRADING_FEE_BPS:
        raise InvalidParameter("tradingFeeBps", p.trading_fee_bps)
    if p.liquidation_penalty_bps > MAX_LIQUIDATION_PENALTY_BPS:
        raise InvalidParameter("liquidationPenaltyBps", p.liquidation_penalty_bps)
    # Whole collateral units -> token units.
    unit = 10**36 // scale
    if p.keeper_fixed_reward > MAX_KEEPER_FIXED_REWARD * unit:
        raise InvalidParameter("keeperFixedReward", p.keeper_fixed_reward)
    if p.keeper_reward_bps > MAX_KEEPER_REWARD_BPS:
        raise InvalidParameter("keeperRewardBps", p.keeper_reward_bps)
    if p.keeper_reward_cap < p.keeper_fixed_reward or p.keeper_reward_cap > MAX_KEEPER_REWARD_CAP * unit:
        raise InvalidParameter("keeperRewardCap", p.keeper_reward_cap)
    if p.partial_liquidation_bps == 0 or p.partial_liquidation_bps > BPS:
        raise InvalidParameter("partialLiquidationBps", p.partial_liquidation_bps)
    if p.partial_liquidation_cooldown == 0 or p.partial_liquidation_cooldown > MAX_PARTIAL_LIQUIDATION_COOLDOWN:
        raise InvalidParameter("partialLiquidationCooldown", p.partial_liquidation_cooldown)
    if p.max_funding_rate_per_second > MAX_FUNDING_RATE_PER_SECOND:
        raise InvalidParameter("maxFundingRatePerSecond", p.max_funding_rate_per_second)
    if p.skew_scale == 0:
        raise InvalidParameter("skewScale", 0)
    if p.max_long_open_interest == 0:
        raise InvalidParameter("maxLongOpenInterest", 0)
    if p.max_short_open_interest == 0:
        raise InvalidParameter("maxShortOpenInterest", 0)
    # Nobody may profit from being liquidated: the smallest margin pays the fixed keeper reward twice.
    if p.min_margin == 0 or p.min_margin < evm.mul(2, p.keeper_fixed_reward):
        raise InvalidParameter("minMargin", p.min_margin)
    if p.min_notional == 0 or p.min_notional > p.tier_notional_caps[0]:
        raise InvalidParameter("minNotional", p.min_notional)
    _validate_relations(p)


def _validate_relations(p: MarketParams) -> None:
    """Mirrors MarketParamsValidator._validateRelations: (1) at the trigger 90% of the lowest
    maintenance tier covers the worst liquidation slippage (base + impact cap) and the keeper
    reward (its fixed part over `min_notional`); (2) the smallest partial step is at least
    `min_notional`."""
    # Rounds the fixed part up: the rule errs towards refusing.
    cost_bps = p.liquidation_slippage_bps + p.max_impact_bps + p.keeper_reward_bps
    cost_bps = evm.add(cost_bps, mul_div_up(p.keeper_fixed_reward, BPS, p.min_notional))
    if evm.mul(10, cost_bps) > evm.mul(9, p.tier_maintenance_bps[0]):
        raise InvalidParameter("tierMaintenanceBps", p.tier_maintenance_bps[0])
    stepped = p.partial_liquidation_threshold if p.partial_liquidation_threshold > p.min_notional else p.min_notional
    if mul_div_down(stepped, p.partial_liquidation_bps, BPS) < p.min_notional:
        raise InvalidParameter("partialLiquidationBps", p.partial_liquidation_bps)


@dataclass
class _Storage:
    markets: dict[int, MarketState] = field(default_factory=dict)
    params: dict[int, MarketParams] = field(default_factory=dict)
    positions: dict[tuple[str, int], Position] = field(default_factory=dict)


def bankruptcy_key(position: Position, notional_scale: int) -> int:
    """A position's k in the side's bankruptcy bound (PerpEngineCore._includeInBound's base -/+
    cushion): entry - funding_index - scale x (margin - accrued_funding) / size for a long, rounded
    up; + for a short, rounded down. The long is beyond its bankruptcy price below k + index, the
    short above it. Keepers use it to tell a stale bound from the exact one."""
    base = evm.ssub(evm.to_int256(position.entry_price), position.funding_index)
    cushion = mul_div_floor(
        evm.ssub(evm.to_int256(position.margin), position.accrued_funding),
        notional_scale,
        abs_(position.size),
    )
    return evm.ssub(base, cushion) if position.size > 0 else evm.sadd(base, cushion)


class PerpEngine(Ownable):
    """Mirrors PerpEngine."""

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

    # Admin

    def list_market(self, env: Env, market_id: int, params: MarketParams) -> None:
        """Mirrors PerpEngine.listMarket."""
        self._check_owner(env)
        if self._market(market_id).listed:
            raise MarketAlreadyListed(market_id)
        if len(self.market_ids) == MAX_MARKETS:
            raise TooManyMarkets()
        validate_market_params(params, self.notional_scale)
        self.s.params[market_id] = params
        m = self.s.markets.setdefault(market_id, MarketState())
        m.listed = True
        m.last_funding_at = env.timestamp
        self.market_ids.append(market_id)
        self.emit(MarketListed(market_id))

    def set_market_params(self, env: Env, market_id: int, params: MarketParams) -> None:
        """Mirrors PerpEngine.setMarketParams."""
        self._check_owner(env)
        if not self._market(market_id).listed:
            raise MarketNotListed(market_id)
        validate_market_params(params, self.notional_scale)
        self.s.params[market_id] = params
        self.emit(MarketParamsSet(market_id))

    def set_fee_shares(self, env: Env, insurance_share_bps: int, safety_module_share_bps: int) -> None:
        """Mirrors PerpEngine.setFeeShares."""
        self._check_owner(env)
        if evm.add(insurance_share_bps, safety_module_share_bps) > BPS:
            raise InvalidParameter("feeShares", insurance_share_bps + safety_module_share_bps)
        self.insurance_share_bps = insurance_share_bps
        self.safety_module_share_bps = safety_module_share_bps
        self.emit(FeeSharesSet(insurance_share_bps, safety_module_share_bps))

    def set_pool_limits(self, env: Env, max_utilisation_bps: int, reserve_factor_bps: int) -> None:
        """Mirrors PerpEngine.setPoolLimits."""
        self._check_owner(env)
        if max_utilisation_bps == 0 or max_utilisation_bps > BPS:
            raise InvalidParameter("maxUtilisationBps", max_utilisation_bps)
        if reserve_factor_bps == 0 or reserve_factor_bps > BPS:
            raise InvalidParameter("reserveFactorBps", reserve_factor_bps)
        self.max_utilisation_bps = max_utilisation_bps
        self.reserve_factor_bps = reserve_factor_bps
        self.emit(PoolLimitsSet(max_utilisation_bps, reserve_factor_bps))

    def set_guardian(self, env: Env, guardian: str) -> None:
        """Mirrors PerpEngine.setGuardian."""
        self._check_owner(env)
        self.guardian = guardian
        self.emit(GuardianSet(guardian))

    def set_adl_params(self, env: Env, trigger_bps: int, target_bps: int) -> None:
        """Mirrors PerpEngine.setAdlParams."""
        self._check_owner(env)
        if trigger_bps == 0 or trigger_bps > BPS:
            raise InvalidParameter("adlTriggerBps", trigger_bps)
        if target_bps == 0 or target_bps >= trigger_bps:
            raise InvalidParameter("adlTargetBps", target_bps)
        self.adl_trigger_bps = trigger_bps
        self.adl_target_bps = target_bps
        self.emit(AdlParamsSet(trigger_bps, target_bps))

    def set_adl_keeper(self, env: Env, keeper: str, allowed: bool) -> None:
        """Mirrors PerpEngine.setAdlKeeper."""
        self._check_owner(env)
        self.is_adl_keeper[keeper] = allowed
        self.emit(AdlKeeperSet(keeper, allowed))

    def set_order_router(self, env: Env, order_router: str) -> None:
        """Mirrors PerpEngine.setOrderRouter."""
        self._check_owner(env)
        if self.order_router != ZERO_ADDRESS:
            raise OrderRouterAlreadySet()
        self.order_router = order_router
        self.emit(OrderRouterSet(order_router))

    def set_opens_paused(self, env: Env, paused: bool) -> None:
        """Mirrors PerpEngine.setOpensPaused (guardian or owner)."""
        if env.sender != self.guardian and env.sender != self.owner():
            raise NotGuardian(env.sender)
        self.opens_paused = paused
        self.emit(OpensPausedSet(paused))

    # Trading

    def execute_trade(
        self, env: Env, account: str, market_id: int, size_delta: int, margin_in: int, acceptable_price: int
    ) -> None:
        """Mirrors PerpEngine.executeTrade (order router only)."""
        if env.sender != self.order_router:
            raise NotOrderRouter(env.sender)
        if size_delta == 0:
            raise ZeroSize()
        size = self.position_of(account, market_id).size
        if size == 0 or (size > 0) == (size_delta > 0):
            self._increase(env, account, market_id, size_delta, margin_in, acceptable_price)
        else:
            if margin_in > 0:
                raise MarginInOnDecrease(margin_in)
            self._decrease(env, account, market_id, abs_(size_delta), acceptable_price)

    def _increase(
        self, env: Env, account: str, market_id: int, size_delta: int, margin_in: int, acceptable_price: int
    ) -> None:
        """Opens or increases `account`'s position; the margin comes from the router's escrow."""
        if self.opens_paused:
            raise OpensPaused()
        p, m = self._listed(market_id)
        before = self.position_of(account, market_id)

        trade = self._quote(env, account, market_id, p, m, before, size_delta, acceptable_price)
        nxt = self._increased(p, self._settle_funding(before, m.funding_index), size_delta, margin_in, trade)
        self._replace_in_aggregates(m, before, nxt)
        self._store(account, market_id, nxt)
        self._check_open_interest(market_id, p, m, size_delta > 0)
        self._check_utilisation()

        if margin_in > 0:
            self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, margin_in)
        self._distribute_fee(env, market_id, trade.fee)
        self.emit(
            PositionIncreased(
                account,
                market_id,
                size_delta,
                trade.price,
                trade.execution_price,
                nxt.size,
                nxt.entry_price,
                nxt.margin,
                trade.fee,
            )
        )

    def _increased(self, p: MarketParams, nxt: Position, size_delta: int, margin_in: int, trade: Trade) -> Position:
        new_size = evm.sadd(nxt.size, size_delta)
        nxt.entry_price = self._average_entry_price(nxt, size_delta, trade.execution_price, new_size)
        nxt.size = new_size
        margin_after = evm.ssub(evm.to_int256(evm.add(nxt.margin, margin_in)), evm.to_int256(trade.fee))
        equity_after = evm.ssub(
            evm.sadd(margin_after, pnl_floor(new_size, nxt.entry_price, trade.price, self.notional_scale)),
            nxt.accrued_funding,
        )
        # Rounds up: the requirement is owed to the protocol.
        required = self._bps_of_notional_up(new_size, trade.price, p.initial_margin_bps)
        if margin_after < 0 or equity_after < evm.to_int256(required):
            raise InsufficientMargin(equity_after, required)
        nxt.margin = margin_after
        self._check_minimum_position(p, nxt, trade.price)
        return nxt

    def _quote(
        self,
        env: Env,
        account: str,
        market_id: int,
        p: MarketParams,
        m: MarketState,
        before: Position,
        size_delta: int,
        acceptable_price: int,
    ) -> Trade:
        trade = Trade()
        trade.price = self.oracle.price(env, market_id)
        self._accrue_funding(env, market_id, p, m, trade.price)
        if before.size != 0 and self._is_liquidatable(p, before, trade.price, m.funding_index):
            raise PositionLiquidatable(account, market_id)
        trade.execution_price = self._execution_price(p, m, trade.price, size_delta, p.spread_bps)
        self._check_slippage(size_delta > 0, trade.execution_price, acceptable_price)
        # Rounds up: the fee is owed to the protocol.
        trade.fee = self._bps_of_notional_up(size_delta, trade.execution_price, p.trading_fee_bps)
        return trade

    def _decrease(self, env: Env, account: str, market_id: int, reduction: int, acceptable_price: int) -> None:
        """Decreases or closes `account`'s (non-zero) position by `reduction`."""
        p, m = self._listed(market_id)
        before = self.position_of(account, market_id)
        if reduction > abs_(before.size):
            raise ReductionTooLarge(reduction, abs_(before.size))

        size_delta = evm.sneg(evm.to_int256(reduction)) if before.size > 0 else evm.to_int256(reduction)
        trade = self._quote(env, account, market_id, p, m, before, size_delta, acceptable_price)
        nxt, settled = self._decreased(
            p, self._settle_funding(before, m.funding_index), size_delta, trade, m.funding_index
        )
        # A partial decrease must leave a position above the minimum (close it fully otherwise).
        if nxt.size != 0:
            self._check_minimum_position(p, nxt, trade.price)
        self._replace_in_aggregates(m, before, nxt)
        nxt = self._settle_decrease(env, account, market_id, nxt, settled, trade.fee)
        self.emit(
            PositionDecreased(
                account,
                market_id,
                size_delta,
                trade.price,
                trade.execution_price,
                settled.realised_pnl,
                settled.funding_paid,
                trade.fee,
                nxt.size,
                nxt.margin,
                settled.payout,
            )
        )

    def _settle_decrease(
        self, env: Env, account: str, market_id: int, nxt: Position, settled: Settlement, fee: int
    ) -> Position:
        """Stores the position and moves the cash; a profit beyond the pool's free cash is cut."""
        pool_delta = evm.ssub(settled.funding_paid, settled.realised_pnl)
        if pool_delta < 0:
            owed = abs_(pool_delta)
            haircut = self._haircut(
                env,
                market_id,
                self.position_of(account, market_id).size > 0,
                owed,
                settled.payout if nxt.size == 0 else nxt.margin,
            )
            if haircut > 0:
                if nxt.size == 0:
                    settled.payout -= haircut
                else:
                    # Cut from the remaining position's margin: its side's bankruptcy bound follows.
                    nxt.margin -= haircut
                    self._include_in_bound(self._market(market_id), nxt)
                pool_delta = evm.sadd(pool_delta, evm.to_int256(haircut))
                self.socialised_loss = evm.add(self.socialised_loss, haircut)
                self.emit(ProfitHaircut(account, market_id, owed, owed - haircut, haircut))
        self._store(account, market_id, nxt)
        self._settle_with_pool(env, pool_delta)
        self._distribute_fee(env, market_id, fee)
        if settled.payout > 0:
            self.collateral.transfer(env.calling(self.address), account, settled.payout)
        return nxt

    def _haircut(self, env: Env, market_id: int, is_long: bool, owed: int, room: int) -> int:
        """Pro rata, not first come, first served: when the pool's free cash is short of the side's
        open profit plus `owed`, `owed` is paid in the proportion free cash / claims (rounded
        down: paid out); the haircut is the rest, at most `room`."""
        cash = self.pool.cash
        reserved = self.reserved_cash()
        free_cash = cash - reserved if cash > reserved else 0
        claims = evm.add(owed, self._side_profit(self.s.markets[market_id], self.oracle.price(env, market_id), is_long))
        if claims <= free_cash:
            return 0
        haircut = owed - mul_div_down(owed, free_cash, claims)
        if haircut > room:
            haircut = room
        return haircut

    def _decreased(
        self, p: MarketParams, nxt: Position, size_delta: int, trade: Trade, index: int
    ) -> tuple[Position, Settlement]:
        settled = Settlement()
        # The closed part keeps the position's sign; PnL is floored (favours the protocol).
        settled.realised_pnl = pnl_floor(
            evm.sneg(size_delta), nxt.entry_price, trade.execution_price, self.notional_scale
        )
        settled.funding_paid = nxt.accrued_funding
        margin_after = evm.ssub(
            evm.ssub(evm.sadd(evm.to_int256(nxt.margin), settled.realised_pnl), settled.funding_paid),
            evm.to_int256(trade.fee),
        )
        if margin_after < 0:
            raise InsufficientMargin(margin_after, 0)
        nxt.size = evm.sadd(nxt.size, size_delta)
        nxt.accrued_funding = 0
        if nxt.size == 0:
            settled.payout = margin_after
            return Position(), settled
        nxt.margin = margin_after
        equity_after = self._equity(nxt, trade.price, index)
        maintenance = self._maintenance_margin(p, nxt.size, trade.price)
        if equity_after < evm.to_int256(maintenance):
            raise InsufficientMargin(equity_after, maintenance)
        return nxt, settled

    def add_margin(self, env: Env, market_id: int, amount: int) -> None:
        """Mirrors PerpEngine.addMargin (allowed when liquidatable: it can rescue the position)."""
        if amount == 0:
            raise ZeroAmount()
        self._listed(market_id)
        position = self.position_of(env.sender, market_id)
        if position.size == 0:
            raise NoPosition(env.sender, market_id)
        position.margin = evm.add(position.margin, amount)
        self._store(env.sender, market_id, position)
        self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, amount)
        self.emit(MarginChanged(env.sender, market_id, evm.to_int256(amount), position.margin))

    def remove_margin(self, env: Env, market_id: int, amount: int) -> None:
        """Mirrors PerpEngine.removeMargin."""
        if amount == 0:
            raise ZeroAmount()
        p, m = self._listed(market_id)
        position = self.position_of(env.sender, market_id)
        if position.size == 0:
            raise NoPosition(env.sender, market_id)
        if amount > position.margin:
            raise InsufficientMargin(evm.ssub(evm.to_int256(position.margin), evm.to_int256(amount)), 0)

        price = self.oracle.price(env, market_id)
        self._accrue_funding(env, market_id, p, m, price)
        position.margin -= amount
        self._include_in_bound(m, position)
        equity_after = self._equity(position, price, m.funding_index)
        required = self._bps_of_notional_up(position.size, price, p.initial_margin_bps)
        if equity_after < evm.to_int256(required):
            raise InsufficientMargin(equity_after, required)
        self._check_minimum_position(p, position, price)
        self._store(env.sender, market_id, position)

        self.collateral.transfer(env.calling(self.address), env.sender, amount)
        self.emit(MarginChanged(env.sender, market_id, evm.sneg(evm.to_int256(amount)), position.margin))

    # Liquidation

    def liquidate(self, env: Env, account: str, market_id: int) -> None:
        """Mirrors PerpEngine.liquidate."""
        p, m = self._listed(market_id)
        before = self.position_of(account, market_id)
        if before.size == 0:
            raise NoPosition(account, market_id)

        price = self.oracle.price(env, market_id)
        self._accrue_funding(env, market_id, p, m, price)
        liq = self._plan_liquidation(env, account, market_id, p, before, price, m.funding_index)
        nxt = self._close_part(env, p, liq, self._settle_funding(before, m.funding_index))
        # What the pool is owed as counterparty: the trader's loss and funding on the closed part.
        pool_claim = evm.ssub(liq.funding_part, liq.pnl)

        covered = liq.realised >= evm.to_int256(liq.reward)
        # Penalty and refund are zero when the reward is not covered.
        if covered:
            self._split_remainder(p, liq)
        self._replace_in_aggregates(m, before, nxt)
        unpaid = (
            self._settle_liquidation_with_pool(env, pool_claim)
            if covered
            else self._settle_bad_debt(
                env, account, market_id, evm.ssub(evm.to_int256(liq.reward), liq.realised), pool_claim
            )
        )
        if unpaid > 0:
            self._advance(account, market_id, liq, unpaid)
        # A partial step keeps the refund as margin of the remaining position (more margin: the side's
        # bankruptcy bound, set from the smaller margin, stays conservative).
        if not liq.full and liq.refund > 0:
            nxt.margin = evm.add(nxt.margin, liq.refund)
        self._store(account, market_id, nxt)
        self.collateral.transfer(env.calling(self.address), env.sender, liq.reward)
        if liq.penalty > 0:
            self.insurance_fund.deposit_from_engine(env.calling(self.address), market_id, liq.penalty)
        if liq.full and liq.refund > 0:
            self.collateral.transfer(env.calling(self.address), account, liq.refund)
        self.emit(
            Liquidated(
                account,
                market_id,
                env.sender,
                liq.price,
                liq.execution_price,
                liq.bankruptcy_price,
                liq.size_closed,
                liq.realised,
                liq.reward,
                liq.penalty,
                liq.refund,
            )
        )

    def _split_remainder(self, p: MarketParams, liq: Liquidation) -> None:
        """After the reward: the penalty (rounded up once, on the exact notional: owed to the
        protocol; capped by what is left), then the refund."""
        rest = liq.realised - liq.reward
        liq.penalty = mul_div_up(
            liq.exact_notional_closed, p.liquidation_penalty_bps, evm.mul(self.notional_scale, BPS)
        )
        if liq.penalty > rest:
            liq.penalty = rest
        liq.refund = rest - liq.penalty

    def _plan_liquidation(
        self, env: Env, account: str, market_id: int, p: MarketParams, before: Position, price: int, index: int
    ) -> Liquidation:
        liq = Liquidation()
        liq.price = price
        equity_now = self._equity(before, price, index)
        maintenance = self._maintenance_margin(p, before.size, price)
        if equity_now >= evm.to_int256(maintenance):
            raise PositionHealthy(account, market_id, equity_now, maintenance)
        liq.bankruptcy_price = self._bankruptcy_price(before, index)

        # Large positions close in partial steps, with a cooldown between steps.
        size_abs = abs_(before.size)
        close_abs = size_abs
        if notional_up(before.size, liq.price, self.notional_scale) > p.partial_liquidation_threshold:
            ready_at = evm.add(before.last_liquidation_at, p.partial_liquidation_cooldown)
            if before.last_liquidation_at != 0 and env.timestamp < ready_at:
                raise LiquidationCooldown(account, market_id, ready_at)
            # Rounds up: closes at least the configured fraction.
            close_abs = mul_div_up(size_abs, p.partial_liquidation_bps, BPS)
        liq.full = close_abs == size_abs
        liq.size_closed = evm.to_int256(close_abs) if before.size > 0 else evm.sneg(evm.to_int256(close_abs))

        # Execution moves against the position: the on-chain stand-in for a book with no depth.
        liq.execution_price = self._execution_price(
            p, self._market(market_id), liq.price, evm.sneg(liq.size_closed), p.liquidation_slippage_bps
        )
        # Unscaled (1e36 units): the penalty and the reward each round once, on the exact value.
        liq.exact_notional_closed = evm.mul(abs_(liq.size_closed), liq.price)
        return liq

    def _close_part(self, env: Env, p: MarketParams, liq: Liquidation, nxt: Position) -> Position:
        size_abs = abs_(nxt.size)
        close_abs = abs_(liq.size_closed)
        liq.margin_part = nxt.margin if liq.full else mul_div_down(nxt.margin, close_abs, size_abs)
        liq.funding_part = (
            nxt.accrued_funding if liq.full else mul_div_toward_zero(nxt.accrued_funding, close_abs, size_abs)
        )
        liq.pnl = pnl_floor(liq.size_closed, nxt.entry_price, liq.execution_price, self.notional_scale)
        liq.realised = evm.ssub(evm.sadd(evm.to_int256(liq.margin_part), liq.pnl), liq.funding_part)
        # Rounds down: the reward is paid out.
        liq.reward = evm.add(
            p.keeper_fixed_reward,
            mul_div_down(liq.exact_notional_closed, p.keeper_reward_bps, evm.mul(self.notional_scale, BPS)),
        )
        if liq.reward > p.keeper_reward_cap:
            liq.reward = p.keeper_reward_cap

        nxt.size = evm.ssub(nxt.size, liq.size_closed)
        nxt.margin = evm.sub(nxt.margin, liq.margin_part)
        nxt.accrued_funding = evm.ssub(nxt.accrued_funding, liq.funding_part)
        nxt.last_liquidation_at = env.timestamp
        if nxt.size == 0:
            return Position()
        return nxt

    def _settle_bad_debt(self, env: Env, account: str, market_id: int, shortfall: int, pool_claim: int) -> int:
        """The loss waterfall: the market's insurance bucket, the safety module (capped), the pool.
        Returns what the pool owed beyond its cash."""
        from_insurance = self.insurance_fund.cover(env.calling(self.address), market_id, shortfall)
        from_safety_module = (
            self.safety_module.slash(env.calling(self.address), shortfall - from_insurance)
            if shortfall > from_insurance
            else 0
        )
        from_pool = evm.sub(evm.sub(shortfall, from_insurance), from_safety_module)
        if shortfall != from_insurance + from_safety_module + from_pool:
            raise WaterfallMismatch()
        unpaid = self._settle_liquidation_with_pool(env, evm.ssub(pool_claim, evm.to_int256(from_pool)))
        self.emit(BadDebtSettled(account, market_id, shortfall, from_insurance, from_safety_module, from_pool))
        return unpaid

    @staticmethod
    def _cut_to_balance(liq: Liquidation, balance: int, unpaid: int) -> int:
        """Mirrors PerpEngineCore._cutToBalance: payouts beyond `balance` are cut from the refund,
        then the penalty, then the keeper reward; returns what is left of `unpaid` to record."""
        payouts = evm.add(evm.add(liq.reward, liq.penalty), liq.refund)
        if balance >= payouts:
            return unpaid
        cut = payouts - balance
        unpaid = unpaid - cut if cut < unpaid else 0
        part = cut if cut < liq.refund else liq.refund
        liq.refund -= part
        cut -= part
        part = cut if cut < liq.penalty else liq.penalty
        liq.penalty -= part
        liq.reward = evm.sub(liq.reward, cut - part)
        return unpaid

    def _advance(self, account: str, market_id: int, liq: Liquidation, unpaid: int) -> None:
        """Never a revert for lack of funds: the engine advances what the pool could not pay out of
        its own balance (other traders' margins), recorded as uncovered deficit that the pool owes
        back; what even that balance cannot cover is cut from this liquidation's payouts (refund,
        then penalty, then keeper reward) and not recorded."""
        unpaid = self._cut_to_balance(liq, self.collateral.balance_of(self.address), unpaid)
        if unpaid == 0:
            return
        self.uncovered_deficit = evm.add(self.uncovered_deficit, unpaid)
        self.emit(DeficitUncovered(account, market_id, unpaid, self.uncovered_deficit))

    # Auto-deleveraging

    def auto_deleverage(self, env: Env, account: str, market_id: int, reduction: int) -> None:
        """Mirrors PerpEngine.autoDeleverage (ADL keepers only, never on their own position)."""
        if not self.is_adl_keeper.get(env.sender, False):
            raise NotAdlKeeper(env.sender)
        if account == env.sender:
            raise AdlOwnPosition(account)
        if reduction == 0:
            raise ZeroSize()
        p, m = self._listed(market_id)
        before = self.position_of(account, market_id)
        if before.size == 0:
            raise NoPosition(account, market_id)
        if reduction > abs_(before.size):
            raise ReductionTooLarge(reduction, abs_(before.size))

        price = self.oracle.price(env, market_id)
        self._accrue_funding(env, market_id, p, m, price)
        is_long = before.size > 0
        ratio_before = self._side_profit_ratio(env, m, price, is_long)
        self._check_adl_triggered(market_id, m, is_long, ratio_before)
        score = self._adl_score(account, market_id, before, price, m.funding_index)

        # At the oracle price, without fees.
        size_delta = evm.sneg(evm.to_int256(reduction)) if is_long else evm.to_int256(reduction)
        nxt, settled = self._decreased(
            p, self._settle_funding(before, m.funding_index), size_delta, Trade(price, price, 0), m.funding_index
        )
        self._replace_in_aggregates(m, before, nxt)
        self._settle_decrease(env, account, market_id, nxt, settled, 0)

        ratio_after = self._side_profit_ratio(env, m, price, is_long)
        if ratio_after >= ratio_before:
            raise AdlNotImproving(ratio_before, ratio_after)
        self._set_adl_flag(m, is_long, ratio_after > self.adl_target_bps)
        self.emit(
            AutoDeleveraged(
                account,
                market_id,
                env.sender,
                evm.sneg(size_delta),
                price,
                settled.realised_pnl,
                score,
                ratio_before,
                ratio_after,
            )
        )

    def sync_adl(self, env: Env, market_id: int, is_long: bool) -> None:
        """Mirrors PerpEngine.syncAdl: permissionless; the flag is set above the trigger and
        cleared at or below the target."""
        _, m = self._listed(market_id)
        ratio = self._side_profit_ratio(env, m, self.oracle.price(env, market_id), is_long)
        active = ratio > self._adl_threshold(m, is_long)
        self._set_adl_flag(m, is_long, active)
        self.emit(AdlFlagSynced(market_id, is_long, ratio, active))

    def refresh_bankruptcy_bound(self, env: Env, market_id: int, is_long: bool, accounts: list[str]) -> None:
        """Mirrors PerpEngine.refreshBankruptcyBound (run in PerpEngineExtension): permissionless;
        recomputes the side's bound exactly from every account with an open position on it,
        listed strictly ascending."""
        _, m = self._listed(market_id)
        open_ = m.long_positions if is_long else m.short_positions
        if len(accounts) != open_:
            raise BoundAccountCount(len(accounts), open_)
        # Counted again from zero: the first listed position sets the bound, the others widen it.
        if is_long:
            m.long_positions = 0
        else:
            m.short_positions = 0
        previous = 0
        for i, account in enumerate(accounts):
            position = self.position_of(account, market_id)
            if int(account, 16) <= previous or position.size == 0 or (position.size > 0) != is_long:
                raise BoundAccountInvalid(i, account)
            self._include_in_bound(m, position)
            if is_long:
                m.long_positions = evm.add(m.long_positions, 1)
            else:
                m.short_positions = evm.add(m.short_positions, 1)
            previous = int(account, 16)
        self.emit(
            BankruptcyBoundRefreshed(
                market_id, is_long, m.long_bankruptcy_bound if is_long else m.short_bankruptcy_bound
            )
        )

    def _check_adl_triggered(self, market_id: int, m: MarketState, is_long: bool, ratio: int) -> None:
        """ADL opens above the trigger and, once open, stays open down to the target; at or below
        the target it is closed, whatever the stored flag says."""
        threshold = self._adl_threshold(m, is_long)
        if ratio <= threshold:
            raise AdlNotTriggered(market_id, is_long, ratio, threshold)

    def _adl_threshold(self, m: MarketState, is_long: bool) -> int:
        """The ratio above which ADL is open: the target while the side's flag is set, else the trigger."""
        active = m.adl_long_active if is_long else m.adl_short_active
        return self.adl_target_bps if active else self.adl_trigger_bps

    @staticmethod
    def _set_adl_flag(m: MarketState, is_long: bool, active: bool) -> None:
        if is_long:
            m.adl_long_active = active
        else:
            m.adl_short_active = active

    def _adl_score(self, account: str, market_id: int, position: Position, price: int, index: int) -> int:
        """Reverts unless the position is profitable at `price`; returns its ADL ranking score, WAD:
        profit % x effective leverage = pnl x notional / (margin x equity), rounded down; 0 when
        margin or equity is not positive. The formula `pymodel.adl.adl_ranking` ranks by."""
        pnl = pnl_floor(position.size, position.entry_price, price, self.notional_scale)
        if pnl <= 0:
            raise AdlNotProfitable(account, market_id, pnl)
        equity_now = self._equity(position, price, index)
        if equity_now <= 0 or position.margin == 0:
            return 0
        return mul_div_down(
            evm.mul(pnl, notional_up(position.size, price, self.notional_scale)),
            WAD,
            evm.mul(position.margin, equity_now),
        )

    def _side_profit(self, m: MarketState, price: int, is_long: bool) -> int:
        """The side's net unrealised profit at `price`, collateral units (rounded down; 0 at a loss)."""
        numerator = (
            evm.ssub(evm.smul(evm.to_int256(m.long_size), evm.to_int256(price)), evm.to_int256(m.long_entry_notional))
            if is_long
            else evm.ssub(
                evm.to_int256(m.short_entry_notional), evm.smul(evm.to_int256(m.short_size), evm.to_int256(price))
            )
        )
        if numerator <= 0:
            return 0
        return mul_div_down(numerator, 1, self.notional_scale)

    def _side_profit_ratio(self, env: Env, m: MarketState, price: int, is_long: bool) -> int:
        """The side's net unrealised profit over the pool's redemption mark, bps (rounded down)."""
        profit = self._side_profit(m, price, is_long)
        if profit == 0:
            return 0
        assets = self.pool.total_assets_for_redeem(env)
        if assets == 0:
            return UINT256_MAX
        return mul_div_down(profit, BPS, assets)

    # Internal: cash

    def _settle_with_pool(self, env: Env, amount: int) -> None:
        """Positive: the engine pays the pool, repaying the uncovered deficit first; negative: the
        pool pays the engine."""
        if amount > 0:
            credit = amount
            repaid = credit if credit < self.uncovered_deficit else self.uncovered_deficit
            if repaid > 0:
                self.uncovered_deficit -= repaid
                self.emit(DeficitRepaid(repaid, self.uncovered_deficit))
            if credit > repaid:
                self.pool.credit_from_engine(env.calling(self.address), credit - repaid)
        elif amount < 0:
            self.pool.pay_to_engine(env.calling(self.address), abs_(amount))

    def _settle_liquidation_with_pool(self, env: Env, amount: int) -> int:
        """As `_settle_with_pool`, but the pool pays at most the cash it has; returns the rest."""
        if amount >= 0:
            self._settle_with_pool(env, amount)
            return 0
        owed = abs_(amount)
        cash = self.pool.cash
        paid = owed if owed < cash else cash
        if paid > 0:
            self.pool.pay_to_engine(env.calling(self.address), paid)
        return owed - paid

    def _distribute_fee(self, env: Env, market_id: int, fee: int) -> None:
        """Shares round down (paid out); the pool takes the remainder."""
        if fee == 0:
            return
        to_insurance = mul_div_down(fee, self.insurance_share_bps, BPS)
        to_safety_module = mul_div_down(fee, self.safety_module_share_bps, BPS)
        to_pool = fee - to_insurance - to_safety_module
        if to_pool > 0:
            self.pool.credit_from_engine(env.calling(self.address), to_pool)
        if to_insurance > 0:
            self.insurance_fund.deposit_from_engine(env.calling(self.address), market_id, to_insurance)
        if to_safety_module > 0:
            self.safety_module.deposit_reward(env.calling(self.address), to_safety_module)
        self.emit(FeesSplit(market_id, to_pool, to_insurance, to_safety_module))

    # Internal: market state

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

    def _funding_rate(self, p: MarketParams, m: MarketState) -> int:
        """rate = skew / skewScale x maxRate, clamped; longs pay when the skew is long."""
        skew = evm.ssub(evm.to_int256(m.long_size), evm.to_int256(m.short_size))
        max_rate = evm.to_int256(p.max_funding_rate_per_second)
        rate = mul_div_toward_zero(skew, p.max_funding_rate_per_second, p.skew_scale)
        if rate > max_rate:
            rate = max_rate
        if rate < -max_rate:
            rate = -max_rate
        return rate

    def _current_funding_index(self, env: Env, p: MarketParams, m: MarketState, price: int) -> tuple[int, int]:
        rate = self._funding_rate(p, m)
        elapsed = evm.sub(env.timestamp, m.last_funding_at)
        index = evm.sadd(m.funding_index, mul_div_toward_zero(evm.smul(rate, evm.to_int256(elapsed)), price, WAD))
        return rate, index

    def _accrue_funding(self, env: Env, market_id: int, p: MarketParams, m: MarketState, price: int) -> None:
        if env.timestamp == m.last_funding_at:
            return
        rate, index = self._current_funding_index(env, p, m, price)
        m.funding_index = index
        m.last_funding_at = env.timestamp
        self.emit(FundingAccrued(market_id, rate, index))

    def _settle_funding(self, position: Position, index: int) -> Position:
        """Moves funding owed since the last settlement into accruedFunding (on a copy)."""
        position = copy.copy(position)
        position.accrued_funding = evm.sadd(
            position.accrued_funding,
            funding_ceil(position.size, evm.ssub(index, position.funding_index), self.notional_scale),
        )
        position.funding_index = index
        return position

    def _replace_in_aggregates(self, m: MarketState, before: Position, nxt: Position) -> None:
        self._remove_from_aggregates(m, before)
        self._add_to_aggregates(m, nxt)

    def _add_to_aggregates(self, m: MarketState, position: Position) -> None:
        if position.size > 0:
            m.long_size = evm.add(m.long_size, position.size)
            m.long_entry_notional = evm.add(m.long_entry_notional, evm.mul(position.size, position.entry_price))
            self._include_in_bound(m, position)
            m.long_positions = evm.add(m.long_positions, 1)
        elif position.size < 0:
            m.short_size = evm.add(m.short_size, abs_(position.size))
            m.short_entry_notional = evm.add(m.short_entry_notional, evm.mul(abs_(position.size), position.entry_price))
            self._include_in_bound(m, position)
            m.short_positions = evm.add(m.short_positions, 1)
        m.sum_size_times_index = evm.sadd(m.sum_size_times_index, evm.smul(position.size, position.funding_index))
        m.accrued_funding_total = evm.sadd(m.accrued_funding_total, position.accrued_funding)

    def _include_in_bound(self, m: MarketState, position: Position) -> None:
        """Widens the side's bankruptcy bound to cover `position` (the side's first position sets it).
        A long's loss plus funding exceeds its margin exactly when size x (k + index - price) / scale
        > 0, k = entry - funding_index - scale x (margin - accrued_funding) / size: k rounds up for a
        long (the bound is a maximum), down for a short (mirror image, a minimum)."""
        key = bankruptcy_key(position, self.notional_scale)
        if position.size > 0:
            if m.long_positions == 0 or key > m.long_bankruptcy_bound:
                m.long_bankruptcy_bound = key
        elif m.short_positions == 0 or key < m.short_bankruptcy_bound:
            m.short_bankruptcy_bound = key

    def _remove_from_aggregates(self, m: MarketState, position: Position) -> None:
        if position.size > 0:
            m.long_size = evm.sub(m.long_size, position.size)
            m.long_entry_notional = evm.sub(m.long_entry_notional, evm.mul(position.size, position.entry_price))
            m.long_positions = evm.sub(m.long_positions, 1)
        elif position.size < 0:
            m.short_size = evm.sub(m.short_size, abs_(position.size))
            m.short_entry_notional = evm.sub(m.short_entry_notional, evm.mul(abs_(position.size), position.entry_price))
            m.short_positions = evm.sub(m.short_positions, 1)
        m.sum_size_times_index = evm.ssub(m.sum_size_times_index, evm.smul(position.size, position.funding_index))
        m.accrued_funding_total = evm.ssub(m.accrued_funding_total, position.accrued_funding)

    def _check_open_interest(self, market_id: int, p: MarketParams, m: MarketState, is_long: bool) -> None:
        if is_long and m.long_size > p.max_long_open_interest:
            raise OpenInterestCapExceeded(market_id, m.long_size, p.max_long_open_interest)
        if not is_long and m.short_size > p.max_short_open_interest:
            raise OpenInterestCapExceeded(market_id, m.short_size, p.max_short_open_interest)

    def _check_utilisation(self) -> None:
        reserved = self.reserved_cash()
        # Rounds down: the limit is what the pool allows.
        limit = mul_div_down(self.pool.cash, self.max_utilisation_bps, BPS)
        if reserved > limit:
            raise UtilisationCapExceeded(reserved, limit)

    # Internal: position math

    def _execution_price(self, p: MarketParams, m: MarketState, price: int, size_delta: int, base_bps: int) -> int:
        """Oracle price moved against the trader by `base_bps`, plus the skew impact of the trade
        (capped at `max_impact_bps` of the price). Buys round up and sells round down."""
        skew_before = evm.ssub(evm.to_int256(m.long_size), evm.to_int256(m.short_size))
        impact = self._impact_price(p, price, skew_before, evm.sadd(skew_before, size_delta), abs_(size_delta))
        # Rounds up: the cap is part of what the trader owes.
        cap = mul_div_up(price, p.max_impact_bps, BPS)
        if impact > cap:
            impact = cap
        if size_delta > 0:
            return evm.add(mul_div_up(price, evm.add(BPS, base_bps), BPS), impact)
        sell = mul_div_down(price, evm.sub(BPS, base_bps), BPS)
        return sell - impact if sell > impact else 0

    def _impact_price(self, p: MarketParams, price: int, skew_before: int, skew_after: int, size_abs: int) -> int:
        """Impact per unit of size from the skew before and after (GMX v2 style): moving |skew| from
        `from` to `to` away from zero costs k (to^2 - from^2) / 2 whatever the steps, so splitting
        saves nothing; reducing |skew| pays none. `from` is |skew_before| when the skew keeps its
        side, else 0. Every step rounds up (owed)."""
        to = abs_(skew_after)
        from_ = abs_(skew_before) if (skew_before > 0) == (skew_after > 0) else 0
        if to <= from_:
            return 0
        # The mean |skew| over the trade: (to^2 - from^2) / (2 |size_delta|).
        mean_skew = mul_div_up(to - from_, evm.add(to, from_), evm.mul(2, size_abs))
        mean_notional = mul_div_up(mean_skew, price, self.notional_scale)
        return mul_div_up(mul_div_up(mean_notional, price, p.impact_reference_notional), p.impact_bps, BPS)

    def _check_minimum_position(self, p: MarketParams, position: Position, price: int) -> None:
        """A position that stays open keeps at least `min_margin` and `min_notional` (at `price`,
        rounded down)."""
        if position.margin < p.min_margin:
            raise MarginBelowMinimum(position.margin, p.min_margin)
        notional = notional_down(position.size, price, self.notional_scale)
        if notional < p.min_notional:
            raise NotionalBelowMinimum(notional, p.min_notional)

    @staticmethod
    def _check_slippage(is_buy: bool, execution_price: int, acceptable_price: int) -> None:
        if execution_price > acceptable_price if is_buy else execution_price < acceptable_price:
            raise SlippageExceeded(execution_price, acceptable_price)

    @staticmethod
    def _average_entry_price(position: Position, size_delta: int, execution_price: int, new_size: int) -> int:
        """Size-weighted entry; rounds against the trader (up for longs, down for shorts)."""
        if position.size == 0:
            return execution_price
        weighted = evm.add(
            evm.mul(abs_(position.size), position.entry_price), evm.mul(abs_(size_delta), execution_price)
        )
        if new_size > 0:
            return mul_div_up(weighted, 1, abs_(new_size))
        return mul_div_down(weighted, 1, abs_(new_size))

    def _equity(self, position: Position, price: int, index: int) -> int:
        pnl = pnl_floor(position.size, position.entry_price, price, self.notional_scale)
        pending = funding_ceil(position.size, evm.ssub(index, position.funding_index), self.notional_scale)
        return evm.ssub(evm.ssub(evm.sadd(evm.to_int256(position.margin), pnl), position.accrued_funding), pending)

    def _maintenance_margin(self, p: MarketParams, size: int, price: int) -> int:
        """The first tier whose cap covers the notional (rounded up) sets the rate."""
        return self._bps_of_notional_up(size, price, self._tier_bps(p, notional_up(size, price, self.notional_scale)))

    def _bps_of_notional_up(self, size: int, price: int, bps: int) -> int:
        """`bps` of |size| x price in collateral units, rounded up once on the exact value: owed to
        the protocol (fees, penalties, margin requirements)."""
        return mul_div_up(evm.mul(abs_(size), price), bps, evm.mul(self.notional_scale, BPS))

    @staticmethod
    def _tier_bps(p: MarketParams, notional: int) -> int:
        for i in range(3):
            if notional <= p.tier_notional_caps[i]:
                return p.tier_maintenance_bps[i]
        return p.tier_maintenance_bps[3]

    def _is_liquidatable(self, p: MarketParams, position: Position, price: int, index: int) -> bool:
        return self._equity(position, price, index) < evm.to_int256(self._maintenance_margin(p, position.size, price))

    def _bankruptcy_price(self, position: Position, index: int) -> int:
        """Exact with floored PnL: long -> the lowest price with equity >= 0, short -> the highest."""
        funding = evm.sadd(
            position.accrued_funding,
            funding_ceil(position.size, evm.ssub(index, position.funding_index), self.notional_scale),
        )
        cushion = evm.ssub(evm.to_int256(position.margin), funding)
        size_abs = abs_(position.size)
        move = (
            evm.sneg(mul_div_floor(cushion, self.notional_scale, size_abs))
            if position.size > 0
            else mul_div_floor(cushion, self.notional_scale, size_abs)
        )
        bankruptcy = evm.sadd(evm.to_int256(position.entry_price), move)
        return bankruptcy if bankruptcy > 0 else 0

    def _liquidation_price(self, p: MarketParams, position: Position, index: int) -> int:
        """Long: liquidatable below the returned price; short: above it (0: none). Per tier,
        equity = rate x notional solved without rounding and clipped to the tier's prices; the
        region met first as the price moves against the position wins."""
        funding = evm.sadd(
            position.accrued_funding,
            funding_ceil(position.size, evm.ssub(index, position.funding_index), self.notional_scale),
        )
        cushion_scaled = evm.smul(evm.ssub(evm.to_int256(position.margin), funding), evm.to_int256(self.notional_scale))
        size_abs = abs_(position.size)
        base = evm.to_int256(evm.mul(size_abs, position.entry_price))
        is_long = position.size > 0
        numerator = evm.ssub(base, cushion_scaled) if is_long else evm.sadd(base, cushion_scaled)
        if numerator <= 0:
            return 0
        for k in range(4):
            i = 3 - k if is_long else k
            rate = p.tier_maintenance_bps[i]
            # The tier applies to prices in (low, high].
            low = 0 if i == 0 else mul_div_down(p.tier_notional_caps[i - 1], self.notional_scale, size_abs)
            high = UINT256_MAX if i == 3 else mul_div_down(p.tier_notional_caps[i], self.notional_scale, size_abs)
            if is_long:
                solution = mul_div_up(numerator, BPS, evm.mul(size_abs, BPS - rate))
                if solution >= evm.add(low, 2):
                    return solution if solution <= high else high + 1
            else:
                solution = mul_div_down(numerator, BPS, evm.mul(size_abs, BPS + rate))
                if solution < high:
                    return solution if solution > low else low
        return 0

    # Views

    def market_params(self, market_id: int) -> MarketParams:
        """Mirrors PerpEngine.marketParams: the all-zero struct for an unlisted market, as on chain."""
        return self.s.params.get(market_id) or MarketParams.zero()

    def market_state(self, market_id: int) -> MarketState:
        return self._market(market_id)

    def position_of(self, account: str, market_id: int) -> Position:
        """A copy: callers write back through _store, as the contract writes storage."""
        return copy.copy(self.s.positions.get((account, market_id), Position()))

    def _view_context(self, env: Env, market_id: int) -> tuple[MarketParams, int, int]:
        p, m = self._listed(market_id)
        price = self.oracle.price(env, market_id)
        _, index = self._current_funding_index(env, p, m, price)
        return p, price, index

    def equity(self, env: Env, account: str, market_id: int) -> int:
        _, price, index = self._view_context(env, market_id)
        return self._equity(self.position_of(account, market_id), price, index)

    def maintenance_margin(self, env: Env, account: str, market_id: int) -> int:
        p, price, _ = self._view_context(env, market_id)
        return self._maintenance_margin(p, self.position_of(account, market_id).size, price)

    def is_liquidatable(self, env: Env, account: str, market_id: int) -> bool:
        p, price, index = self._view_context(env, market_id)
        position = self.position_of(account, market_id)
        return position.size != 0 and self._is_liquidatable(p, position, price, index)

    def liquidation_price(self, env: Env, account: str, market_id: int) -> int:
        p, _, index = self._view_context(env, market_id)
        position = self.position_of(account, market_id)
        if position.size == 0:
            return 0
        return self._liquidation_price(p, position, index)

    def bankruptcy_price(self, env: Env, account: str, market_id: int) -> int:
        _, _, index = self._view_context(env, market_id)
        position = self.position_of(account, market_id)
        if position.size == 0:
            return 0
        return self._bankruptcy_price(position, index)

    def side_profit_ratio(self, env: Env, market_id: int, is_long: bool) -> int:
        """Mirrors PerpEngine.sideProfitRatio."""
        _, price, _ = self._view_context(env, market_id)
        return self._side_profit_ratio(env, self.s.markets[market_id], price, is_long)

    def preview_liquidation(self, env: Env, account: str, market_id: int) -> LiquidationPreview:
        """Mirrors PerpEngine.previewLiquidation: the liquidation and its waterfall split, now."""
        p, price, index = self._view_context(env, market_id)
        before = self.position_of(account, market_id)
        if before.size == 0:
            raise NoPosition(account, market_id)
        preview = LiquidationPreview()
        liq = self._plan_liquidation(env, account, market_id, p, before, price, index)
        self._close_part(env, p, liq, self._settle_funding(before, index))
        if liq.realised >= evm.to_int256(liq.reward):
            self._split_remainder(p, liq)
        else:
            preview.shortfall = liq.reward - liq.realised
            bucket = self.insurance_fund.bucket_of(market_id)
            preview.from_insurance = preview.shortfall if preview.shortfall < bucket else bucket
            rest = preview.shortfall - preview.from_insurance
            cap = self.safety_module.slash_cap(env)
            preview.from_safety_module = rest if rest < cap else cap
            preview.from_pool = rest - preview.from_safety_module
        # The pool's part beyond its cash, and the cut: liquidate's _settle_liquidation_with_pool
        # and _advance on the balances they would meet (the layers above pay the engine first).
        pool_owes = evm.sadd(evm.ssub(liq.pnl, liq.funding_part), evm.to_int256(preview.from_pool))
        if pool_owes > 0:
            cash = self.pool.cash
            paid = pool_owes if pool_owes < cash else cash
            if pool_owes > paid:
                balance = evm.add(
                    evm.add(
                        evm.add(self.collateral.balance_of(self.address), preview.from_insurance),
                        preview.from_safety_module,
                    ),
                    paid,
                )
                preview.uncovered = self._cut_to_balance(liq, balance, pool_owes - paid)
        preview.oracle_price = liq.price
        preview.execution_price = liq.execution_price
        preview.bankruptcy_price = liq.bankruptcy_price
        preview.size_closed = liq.size_closed
        preview.realised = liq.realised
        preview.keeper_reward = liq.reward
        preview.penalty = liq.penalty
        preview.refund = liq.refund
        return preview

    def reserved_cash(self) -> int:
        """Mirrors PerpEngine.reservedCash."""
        reserved = 0
        for market_id in self.market_ids:
            m = self.s.markets[market_id]
            # Rounds up: reserves are what the protocol holds back.
            reserved = evm.add(
                reserved,
                mul_div_up(
                    evm.add(m.long_entry_notional, m.short_entry_notional),
                    self.reserve_factor_bps,
                    evm.mul(self.notional_scale, BPS),
                ),
            )
        return reserved
