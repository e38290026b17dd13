"""Mirrors contracts/engine/PerpEngine.sol statement for statement: admin, trading and the plain
views. Liquidation (`LiquidationModule`) and auto-deleveraging (`AdlModule`) run by DELEGATECALL
in the engine's storage on chain; here the engine class is composed from their mirrors."""

from __future__ import annotations

import copy

from pymodel import evm
from pymodel.core import ZERO_ADDRESS, Env
from pymodel.engine.adl_module import AdlModule
from pymodel.engine.engine_storage import BPS, MAX_MARKETS, Trade
from pymodel.engine.liquidation_module import LiquidationModule
from pymodel.engine.market_params_validator import validate_market_params
from pymodel.engine.types import (
    AdlKeeperSet,
    AdlParamsSet,
    FeeSharesSet,
    GuardianSet,
    InsufficientMargin,
    MarginChanged,
    MarginInOnDecrease,
    MarketAlreadyListed,
    MarketListed,
    MarketNotListed,
    MarketParams,
    MarketParamsSet,
    MarketState,
    NoPosition,
    NotGuardian,
    NotOrderRouter,
    OpensPaused,
    OpensPausedSet,
    OrderRouterAlreadySet,
    OrderRouterSet,
    PoolLimitsSet,
    Position,
    PositionDecreased,
    PositionIncreased,
    PositionLiquidatable,
    ReductionTooLarge,
    TooManyMarkets,
    ZeroSize,
)
from pymodel.errors import InvalidParameter, ZeroAmount
from pymodel.signed_math import abs_
from pymodel.units import pnl_floor


class PerpEngine(LiquidationModule, AdlModule):
    """Mirrors PerpEngine."""

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

    # Views

    def market_params(self, market_id: int) -> MarketParams:
        """Mirrors PerpEngine.marketParams: the all-zero struct for an unlisted market, as on chain."""
        return self.s.params.get(market_id) or MarketParams.zero()

    def market_state(self, market_id: int) -> MarketState:
        return self._market(market_id)

    def position_of(self, account: str, market_id: int) -> Position:
        """A copy: callers write back through _store, as the contract writes storage."""
        return copy.copy(self.s.positions.get((account, market_id), Position()))

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

    def side_profit_ratio(self, env: Env, market_id: int, is_long: bool) -> int:
        """Mirrors PerpEngine.sideProfitRatio."""
        _, price, _ = self._view_context(env, market_id)
        return self._side_profit_ratio(env, self.s.markets[market_id], price, is_long)

    def reserved_cash(self) -> int:
        """Mirrors PerpEngine.reservedCash."""
        return self._reserved_cash()
