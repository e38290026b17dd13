"""Mirrors contracts/LPPool.sol: ERC-4626 (OpenZeppelin v5) with a virtual-share offset, marked
to the oracle through the engine, with asynchronous (ERC-7540 style) exits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pymodel import evm, funding
from pymodel.core import Env, EventLog, ModelEvent
from pymodel.engine_gated import EngineGated
from pymodel.erc20 import ERC20
from pymodel.errors import Revert, ZeroShares
from pymodel.fixed_point import mul_div_down, mul_div_up
from pymodel.signed_math import mul_div_ceil, mul_div_floor

if TYPE_CHECKING:
    from pymodel.engine import MarketParams, MarketState, PerpEngine

VIRTUAL_SHARE_DECIMALS = 6
MIN_REDEEM_TIMING = 60
MAX_REDEEM_TIMING = 30 * 24 * 3600
# A sanity bound on any market's price in the valuation: 10**18 USD per unit of the base asset.
MAX_PRICE = 10**36

# Errors (ILPPool and OpenZeppelin ERC4626)


@dataclass
class AsyncRedeemOnly(Revert):
    pass


@dataclass
class NotRequestOwner(Revert):
    caller: str
    owner: str


@dataclass
class NoRedeemRequest(Revert):
    owner: str


@dataclass
class InsufficientPoolCash(Revert):
    requested: int
    cash: int


@dataclass
class InsufficientFreeCash(Revert):
    assets: int
    free_cash: int


@dataclass
class InvalidRedeemTiming(Revert):
    cooldown: int
    window: int


@dataclass
class PriceOutOfBounds(Revert):
    market_id: int
    price: int
    max_price: int


@dataclass
class FeeOnTransferUnsupported(Revert):
    assets: int
    received: int


@dataclass
class ERC4626ExceededMaxDeposit(Revert):
    receiver: str
    assets: int
    max: int


@dataclass
class ERC4626ExceededMaxMint(Revert):
    receiver: str
    shares: int
    max: int


@dataclass
class ERC4626ExceededMaxRedeem(Revert):
    owner: str
    shares: int
    max: int


# Events


@dataclass(frozen=True)
class RedeemTimingSet(ModelEvent):
    cooldown: int
    window: int


@dataclass(frozen=True)
class RedeemRequested(ModelEvent):
    owner: str
    shares: int
    assets: int
    pending_shares: int
    claimable_at: int


@dataclass(frozen=True)
class RedeemCancelled(ModelEvent):
    owner: str
    shares: int


@dataclass(frozen=True)
class CashCredited(ModelEvent):
    amount: int


@dataclass(frozen=True)
class CashPaid(ModelEvent):
    amount: int


@dataclass(frozen=True)
class Deposit(ModelEvent):
    sender: str
    owner: str
    assets: int
    shares: int


@dataclass(frozen=True)
class Withdraw(ModelEvent):
    sender: str
    receiver: str
    owner: str
    assets: int
    shares: int


@dataclass
class RedeemRequest:
    shares: int = 0
    requested_at: int = 0
    # What the shares were worth at the redemption mark when requested: a claim pays no more.
    assets: int = 0


class LPPool(ERC20, EngineGated):
    """Mirrors LPPool."""

    def __init__(self, address: str, log: EventLog, collateral: ERC20, owner: str, cooldown: int, window: int) -> None:
        super().__init__(address, log, "perp-backstop LP", "pbLP", collateral.decimals + VIRTUAL_SHARE_DECIMALS)
        self._init_ownable(owner)
        self.asset = collateral
        # The engine model behind `engine` (wired with set_engine at deployment, as on chain).
        self.perp: PerpEngine | None = None
        self.cash = 0
        self.redeem_cooldown = 0
        self.redeem_window = 0
        self.requests: dict[str, RedeemRequest] = {}
        self._set_redeem_timing(cooldown, window)

    # Admin

    def set_redeem_timing(self, env: Env, cooldown: int, window: int) -> None:
        """Mirrors LPPool.setRedeemTiming."""
        self._check_owner(env)
        self._set_redeem_timing(cooldown, window)

    def _set_redeem_timing(self, cooldown: int, window: int) -> None:
        if (
            cooldown < MIN_REDEEM_TIMING
            or cooldown > MAX_REDEEM_TIMING
            or window < MIN_REDEEM_TIMING
            or window > MAX_REDEEM_TIMING
        ):
            raise InvalidRedeemTiming(cooldown, window)
        self.redeem_cooldown = cooldown
        self.redeem_window = window
        self.emit(RedeemTimingSet(cooldown, window))

    # Mark

    def pool_claim_on_traders(self, env: Env, for_deposit: bool, strict: bool) -> tuple[int, bool]:
        """Mirrors LPPool.poolClaimOnTraders."""
        assert self.perp is not None
        perp = self.perp
        oracle = perp.oracle
        scale = perp.notional_scale
        claim = 0
        stale = False
        for market_id in list(perp.market_ids):
            m = perp.market_state(market_id)
            if m.long_size == 0 and m.short_size == 0 and m.accrued_funding_total == 0:
                continue
            price = 0
            try:
                price = oracle.price(env, market_id)
            except Revert:
                pass
            if price == 0 or price > MAX_PRICE:
                # Strict: the oracle's own error, or the bound's. Else only the settled funding the pool owes counts.
                if strict:
                    price = oracle.price(env, market_id)
                    raise PriceOutOfBounds(market_id, price, MAX_PRICE)
                stale = True
                if m.accrued_funding_total < 0:
                    claim = evm.sadd(claim, m.accrued_funding_total)
                continue
            index = self._funding_index_now(env, perp.market_params(market_id), m, price)
            # Traders' losses (negative: profits) and pending funding, as the pool sees them, in 1e36 units.
            long_loss = evm.ssub(
                evm.to_int256(m.long_entry_notional), evm.smul(evm.to_int256(m.long_size), evm.to_int256(price))
            )
            short_loss = evm.ssub(
                evm.smul(evm.to_int256(m.short_size), evm.to_int256(price)), evm.to_int256(m.short_entry_notional)
            )
            funding = evm.ssub(
                evm.smul(evm.ssub(evm.to_int256(m.long_size), evm.to_int256(m.short_size)), index),
                m.sum_size_times_index,
            )
            if for_deposit:
                # Rounds up: the depositor pays for every unit the pool may be owed.
                total = evm.sadd(evm.sadd(long_loss, short_loss), funding)
                claim = evm.sadd(claim, evm.sadd(mul_div_ceil(total, 1, scale), m.accrued_funding_total))
                continue
            # Rounds down: all losses and funding (both signs), less what the traders beyond their
            # bankruptcy price cannot pay, bounded from above per side (docs/DESIGN.md, "Mark").
            total = evm.sadd(evm.sadd(long_loss, short_loss), funding)
            claim = evm.sadd(claim, evm.sadd(mul_div_floor(total, 1, scale), m.accrued_funding_total))
            p = evm.to_int256(price)
            claim = evm.ssub(
                claim, self._uncovered(m.long_size, evm.ssub(evm.sadd(m.long_bankruptcy_bound, index), p), scale)
            )
            claim = evm.ssub(
                claim, self._uncovered(m.short_size, evm.ssub(evm.ssub(p, index), m.short_bankruptcy_bound), scale)
            )
        # What the pool owes back for liquidations it could not pay (the engine advanced it).
        claim = evm.ssub(claim, evm.to_int256(perp.uncovered_deficit))
        return claim, stale

    @staticmethod
    def _uncovered(size: int, gap: int, scale: int) -> int:
        """size x gap / scale rounded up, 0 when the gap is not positive: at most what the side's
        positions beyond their bankruptcy price leave unpaid."""
        if size == 0 or gap <= 0:
            return 0
        return mul_div_ceil(evm.to_int256(size), gap, scale)

    @staticmethod
    def _funding_index_now(env: Env, p: MarketParams, m: MarketState, price: int) -> int:
        """Mirrors LPPool._fundingIndexNow: the engine's rule (`pymodel.funding`), on the engine's state."""
        rate = funding.rate(m.long_size, m.short_size, p.max_funding_rate_per_second, p.skew_scale)
        elapsed = evm.sub(env.timestamp, m.last_funding_at)
        return funding.index_after(m.funding_index, rate, elapsed, price)

    def _marked_assets(self, env: Env, for_deposit: bool, strict: bool) -> tuple[int, bool]:
        """Cash plus what traders owe the pool (negative: what it owes them), floored at 0."""
        claim, stale = self.pool_claim_on_traders(env, for_deposit, strict)
        if claim >= 0:
            return evm.add(self.cash, claim), stale
        owed = -claim
        return (0 if owed >= self.cash else self.cash - owed), stale

    def total_assets_for_deposit(self, env: Env) -> int:
        return self._marked_assets(env, True, True)[0]

    def total_assets_for_redeem(self, env: Env) -> int:
        return self._marked_assets(env, False, True)[0]

    def total_assets(self, env: Env) -> int:
        """The deposit mark; never reverts on a stale market."""
        return self._marked_assets(env, True, False)[0]

    # ERC-4626 pricing

    def _virtual_supply(self) -> int:
        return evm.add(self.total_supply, 10**VIRTUAL_SHARE_DECIMALS)

    def preview_deposit(self, env: Env, assets: int) -> int:
        """Rounds down: depositor gets fewer shares (favours existing LPs)."""
        return mul_div_down(assets, self._virtual_supply(), evm.add(self.total_assets_for_deposit(env), 1))

    def preview_mint(self, env: Env, shares: int) -> int:
        """Rounds up: minter pays more assets (favours existing LPs)."""
        return mul_div_up(shares, evm.add(self.total_assets_for_deposit(env), 1), self._virtual_supply())

    def preview_redeem(self, env: Env, shares: int) -> int:
        """Rounds down on the redemption mark (favours the pool)."""
        return self._redeem_value(shares, self.total_assets_for_redeem(env))

    def _redeem_value(self, shares: int, marked: int) -> int:
        return mul_div_down(shares, evm.add(marked, 1), self._virtual_supply())

    def convert_to_shares(self, env: Env, assets: int) -> int:
        """ERC4626.convertToShares over totalAssets (the deposit mark), rounded down."""
        return mul_div_down(assets, self._virtual_supply(), evm.add(self.total_assets(env), 1))

    def convert_to_assets(self, env: Env, shares: int) -> int:
        """ERC4626.convertToAssets over totalAssets (the deposit mark), rounded down."""
        return mul_div_down(shares, evm.add(self.total_assets(env), 1), self._virtual_supply())

    def max_deposit(self, env: Env, receiver: str) -> int:
        """0 while a market has no valid price (deposits revert then), else unbounded."""
        return 0 if self._marked_assets(env, True, False)[1] else evm.UINT256_MAX

    def max_mint(self, env: Env, receiver: str) -> int:
        """0 while a market has no valid price (mints revert then), else unbounded."""
        return 0 if self._marked_assets(env, True, False)[1] else evm.UINT256_MAX

    def max_withdraw(self, owner: str) -> int:
        return 0

    def preview_withdraw(self, assets: int) -> int:
        raise AsyncRedeemOnly()

    def max_redeem(self, env: Env, owner: str) -> int:
        """Shares `owner` can claim now (0 outside the window or while a market has no valid price)."""
        marked, stale = self._marked_assets(env, False, False)
        if stale:
            return 0
        return self._max_redeem(env, owner, marked)

    def _max_redeem(self, env: Env, owner: str, marked: int) -> int:
        """The largest `s` with `_claim_value(owner, s, marked) <= free cash`: floor(s x a / b) <= F iff
        s <= ((F + 1) x b - 1) / a, and the claim pays the lower of two such values."""
        request = self.requests.get(owner, RedeemRequest())
        claimable_at = evm.add(request.requested_at, self.redeem_cooldown)
        if (
            request.shares == 0
            or env.timestamp < claimable_at
            or env.timestamp > evm.add(claimable_at, self.redeem_window)
        ):
            return 0
        free = evm.add(self._free_cash(), 1)
        at_mark = evm.div(evm.sub(evm.mul(free, self._virtual_supply()), 1), evm.add(marked, 1))
        at_request = (
            evm.UINT256_MAX
            if request.assets == 0
            else evm.div(evm.sub(evm.mul(free, request.shares), 1), request.assets)
        )
        limit = at_mark if at_mark > at_request else at_request
        return request.shares if request.shares < limit else limit

    def _free_cash(self) -> int:
        assert self.perp is not None
        reserved = self.perp.reserved_cash()
        return self.cash - reserved if self.cash > reserved else 0

    def _claim_value(self, owner: str, shares: int, marked: int) -> int:
        """The lower of the shares' value now and their part of the value at request (both rounded down)."""
        request = self.requests.get(owner, RedeemRequest())
        now = self._redeem_value(shares, marked)
        at_request = mul_div_down(request.assets, shares, request.shares)
        return now if now < at_request else at_request

    # ERC-4626 entry points

    def deposit(self, env: Env, assets: int, receiver: str) -> int:
        """Mirrors LPPool.deposit: the deposit mark first (a stale market reverts with the oracle's error)."""
        shares = self.preview_deposit(env, assets)
        self._deposit(env, env.sender, receiver, assets, shares)
        return shares

    def mint(self, env: Env, shares: int, receiver: str) -> int:
        """Mirrors LPPool.mint: the deposit mark first."""
        assets = self.preview_mint(env, shares)
        self._deposit(env, env.sender, receiver, assets, shares)
        return assets

    def withdraw(self, env: Env, assets: int, receiver: str, owner: str) -> int:
        raise AsyncRedeemOnly()

    def redeem(self, env: Env, shares: int, receiver: str, owner: str) -> int:
        """Mirrors LPPool.redeem: the ERC-7540 claim, at the lower of the marks at request and at claim."""
        if env.sender != owner:
            raise NotRequestOwner(env.sender, owner)
        if shares == 0:
            raise ZeroShares()
        marked = self.total_assets_for_redeem(env)
        max_shares = self._max_redeem(env, owner, marked)
        if shares > max_shares:
            raise ERC4626ExceededMaxRedeem(owner, shares, max_shares)
        assets = self._claim_value(owner, shares, marked)
        self._withdraw(env, env.sender, receiver, owner, assets, shares)
        return assets

    def _deposit(self, env: Env, caller: str, receiver: str, assets: int, shares: int) -> None:
        """Replaces ERC4626._deposit: refuses a collateral that delivers less than `assets`."""
        balance_before = self.asset.balance_of(self.address)
        self.asset.transfer_from(env.calling(self.address), caller, self.address, assets)
        received = evm.sub(self.asset.balance_of(self.address), balance_before)
        if received != assets:
            raise FeeOnTransferUnsupported(assets, received)
        self._mint(receiver, shares)
        self.emit(Deposit(caller, receiver, assets, shares))
        self.cash = evm.add(self.cash, assets)

    def _withdraw(self, env: Env, caller: str, receiver: str, owner: str, assets: int, shares: int) -> None:
        free_cash = self._free_cash()
        if assets > free_cash:
            raise InsufficientFreeCash(assets, free_cash)
        request = self.requests.setdefault(owner, RedeemRequest())
        # Rounds up: the request's remaining value bound shrinks by at least the claimed part.
        request.assets = evm.sub(request.assets, mul_div_up(request.assets, shares, request.shares))
        request.shares = evm.sub(request.shares, shares)
        if request.shares == 0:
            del self.requests[owner]
        self._burn(self.address, shares)
        self.cash = evm.sub(self.cash, assets)
        self.asset.transfer(env.calling(self.address), receiver, assets)
        self.emit(Withdraw(caller, receiver, owner, assets, shares))

    # Asynchronous exit

    def request_redeem(self, env: Env, shares: int) -> None:
        """Mirrors LPPool.requestRedeem. Escrowed shares keep bearing losses until claimed."""
        if shares == 0:
            raise ZeroShares()
        # Rounds down: the value a claim of these shares can never exceed.
        assets = self._redeem_value(shares, self.total_assets_for_redeem(env))
        self._transfer(env.sender, self.address, shares)
        request = self.requests.setdefault(env.sender, RedeemRequest())
        request.shares = evm.add(request.shares, shares)
        request.assets = evm.add(request.assets, assets)
        request.requested_at = env.timestamp
        self.emit(
            RedeemRequested(env.sender, shares, assets, request.shares, evm.add(env.timestamp, self.redeem_cooldown))
        )

    def cancel_redeem(self, env: Env) -> None:
        """Mirrors LPPool.cancelRedeem."""
        shares = self.requests.get(env.sender, RedeemRequest()).shares
        if shares == 0:
            raise NoRedeemRequest(env.sender)
        del self.requests[env.sender]
        self._transfer(self.address, env.sender, shares)
        self.emit(RedeemCancelled(env.sender, shares))

    # Engine hooks

    def credit_from_engine(self, env: Env, amount: int) -> None:
        """Mirrors LPPool.creditFromEngine."""
        self._only_engine(env)
        self.cash = evm.add(self.cash, amount)
        self.asset.transfer_from(env.calling(self.address), env.sender, self.address, amount)
        self.emit(CashCredited(amount))

    def pay_to_engine(self, env: Env, amount: int) -> None:
        """Mirrors LPPool.payToEngine."""
        self._only_engine(env)
        if amount > self.cash:
            raise InsufficientPoolCash(amount, self.cash)
        self.cash -= amount
        self.asset.transfer(env.calling(self.address), env.sender, amount)
        self.emit(CashPaid(amount))

    # Views

    def redeem_request_of(self, owner: str) -> tuple[int, int, int]:
        request = self.requests.get(owner, RedeemRequest())
        return request.shares, request.requested_at, request.assets
