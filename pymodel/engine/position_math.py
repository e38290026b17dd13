"""Mirrors contracts/engine/PositionMath.sol: one position's arithmetic (funding settled into it,
equity, margin requirements, the execution price against the skew, what a decrease leaves)."""

from __future__ import annotations

import copy

from pymodel import evm
from pymodel.engine.engine_storage import BPS, EngineStorage, Settlement, Trade
from pymodel.engine.types import (
    InsufficientMargin,
    MarginBelowMinimum,
    MarketParams,
    MarketState,
    NotionalBelowMinimum,
    Position,
    SlippageExceeded,
)
from pymodel.fixed_point import mul_div_down, mul_div_up
from pymodel.signed_math import abs_
from pymodel.units import funding_ceil, notional_down, notional_up, pnl_floor


class PositionMath(EngineStorage):
    """Mirrors PositionMath."""

    def _settle_funding(self, position: Position, index: int) -> Position:
        """Moves funding owed since the last settlement into accruedFunding (on a copy)."""
        position = copy.copy(position)
        position.accrued_funding = evm.sadd(
            position.accrued_funding,
            funding_ceil(position.size, evm.ssub(index, position.funding_index), self.notional_scale),
        )
        position.funding_index = index
        return position

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
