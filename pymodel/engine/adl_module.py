"""Mirrors contracts/engine/AdlModule.sol: auto-deleveraging, the side flags and the keepers'
refresh of a side's bankruptcy bound."""

from __future__ import annotations

from pymodel import evm
from pymodel.core import Env
from pymodel.engine.engine_storage import WAD, Trade
from pymodel.engine.market_accounting import MarketAccounting
from pymodel.engine.types import (
    AdlFlagSynced,
    AdlNotImproving,
    AdlNotProfitable,
    AdlNotTriggered,
    AdlOwnPosition,
    AutoDeleveraged,
    BankruptcyBoundRefreshed,
    BoundAccountCount,
    BoundAccountInvalid,
    MarketState,
    NoPosition,
    NotAdlKeeper,
    Position,
    ReductionTooLarge,
    ZeroSize,
)
from pymodel.fixed_point import mul_div_down
from pymodel.signed_math import abs_
from pymodel.units import notional_up, pnl_floor


class AdlModule(MarketAccounting):
    """Mirrors AdlModule (run by the engine through DELEGATECALL: one model object)."""

    # Auto-deleveraging

    def auto_deleverage(self, env: Env, account: str, market_id: int, reduction: int) -> None:
        """Mirrors AdlModule.autoDeleverage (ADL keepers only, never on their own position)."""
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
        """Mirrors AdlModule.syncAdl: permissionless; the flag is set above the trigger and
        cleared at or below the target."""
        _, m = self._listed(market_id)
        ratio = self._side_profit_ratio(env, m, self.oracle.price(env, market_id), is_long)
        active = ratio > self._adl_threshold(m, is_long)
        self._set_adl_flag(m, is_long, active)
        self.emit(AdlFlagSynced(market_id, is_long, ratio, active))

    def refresh_bankruptcy_bound(self, env: Env, market_id: int, is_long: bool, accounts: list[str]) -> None:
        """Mirrors AdlModule.refreshBankruptcyBound: permissionless;
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
