"""Mirrors contracts/engine/MarketAccounting.sol: a market's books (funding accrual, side aggregates
and bankruptcy bounds, the caps, the sides' open profit, and the cash between engine, pool,
insurance and safety module)."""

from __future__ import annotations

from pymodel import evm, funding
from pymodel.core import Env
from pymodel.engine.engine_storage import BPS, UINT256_MAX, Settlement
from pymodel.engine.position_math import PositionMath
from pymodel.engine.types import (
    DeficitRepaid,
    FeesSplit,
    FundingAccrued,
    MarketParams,
    MarketState,
    OpenInterestCapExceeded,
    Position,
    ProfitHaircut,
    UtilisationCapExceeded,
)
from pymodel.fixed_point import mul_div_down, mul_div_up
from pymodel.signed_math import abs_, mul_div_floor


def bankruptcy_key(position: Position, notional_scale: int) -> int:
    """A position's k in the side's bankruptcy bound (MarketAccounting._includeInBound's base -/+
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


class MarketAccounting(PositionMath):
    """Mirrors MarketAccounting."""

    # Funding

    def _current_funding_index(self, env: Env, p: MarketParams, m: MarketState, price: int) -> tuple[int, int]:
        """The market's funding rate and index at `env.timestamp` (the rule is `pymodel.funding`'s)."""
        rate = funding.rate(m.long_size, m.short_size, p.max_funding_rate_per_second, p.skew_scale)
        elapsed = evm.sub(env.timestamp, m.last_funding_at)
        index = funding.index_after(m.funding_index, rate, elapsed, price)
        return rate, index

    def _view_context(self, env: Env, market_id: int) -> tuple[MarketParams, int, int]:
        p, m = self._listed(market_id)
        price = self.oracle.price(env, market_id)
        _, index = self._current_funding_index(env, p, m, price)
        return p, price, index

    def _accrue_funding(self, env: Env, market_id: int, p: MarketParams, m: MarketState, price: int) -> None:
        if env.timestamp == m.last_funding_at:
            return
        rate, index = self._current_funding_index(env, p, m, price)
        m.funding_index = index
        m.last_funding_at = env.timestamp
        self.emit(FundingAccrued(market_id, rate, index))

    # Aggregates

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

    def _check_open_interest(self, market_id: int, p: MarketParams, m: MarketState, is_long: bool) -> None:
        if is_long and m.long_size > p.max_long_open_interest:
            raise OpenInterestCapExceeded(market_id, m.long_size, p.max_long_open_interest)
        if not is_long and m.short_size > p.max_short_open_interest:
            raise OpenInterestCapExceeded(market_id, m.short_size, p.max_short_open_interest)

    def _check_utilisation(self) -> None:
        reserved = self._reserved_cash()
        # Rounds down: the limit is what the pool allows.
        limit = mul_div_down(self.pool.cash, self.max_utilisation_bps, BPS)
        if reserved > limit:
            raise UtilisationCapExceeded(reserved, limit)

    def _reserved_cash(self) -> int:
        """What open interest holds back of the pool's cash, over every market."""
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

    # Cash

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
        reserved = self._reserved_cash()
        free_cash = cash - reserved if cash > reserved else 0
        claims = evm.add(owed, self._side_profit(self.s.markets[market_id], self.oracle.price(env, market_id), is_long))
        if claims <= free_cash:
            return 0
        haircut = owed - mul_div_down(owed, free_cash, claims)
        if haircut > room:
            haircut = room
        return haircut

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
