"""Mirrors contracts/engine/LiquidationModule.sol: the liquidation plan, the loss waterfall, the
engine's advance, and the views that read the same plan (preview, liquidation and bankruptcy
prices)."""

from __future__ import annotations

from pymodel import evm
from pymodel.core import Env
from pymodel.engine.engine_storage import BPS, UINT256_MAX, Liquidation
from pymodel.engine.market_accounting import MarketAccounting
from pymodel.engine.types import (
    BadDebtSettled,
    DeficitUncovered,
    Liquidated,
    LiquidationCooldown,
    LiquidationPreview,
    MarketParams,
    NoPosition,
    Position,
    PositionHealthy,
    WaterfallMismatch,
)
from pymodel.fixed_point import mul_div_down, mul_div_up
from pymodel.signed_math import abs_, mul_div_floor, mul_div_toward_zero
from pymodel.units import funding_ceil, notional_up, pnl_floor


class LiquidationModule(MarketAccounting):
    """Mirrors LiquidationModule (run by the engine through DELEGATECALL: one model object)."""

    # Liquidation

    def liquidate(self, env: Env, account: str, market_id: int) -> None:
        """Mirrors LiquidationModule.liquidate."""
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

    @staticmethod
    def _cut_to_balance(liq: Liquidation, balance: int, unpaid: int) -> int:
        """Mirrors LiquidationModule._cutToBalance: payouts beyond `balance` are cut from the refund,
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

    # Views

    def preview_liquidation(self, env: Env, account: str, market_id: int) -> LiquidationPreview:
        """Mirrors LiquidationModule.previewLiquidation: the liquidation and its waterfall split, now."""
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
