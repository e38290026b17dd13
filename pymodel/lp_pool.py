"""Mirrors contracts/LPPool.sol: ERC-4626 (OpenZeppelin v5) with a virtual-share offset, marked
to the oracle through the engine, with asynchronous (ERC-7540 style) exits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pymodel import evm
from pymodel.core import Env, EventLog, ModelEvent
from pymodel.engine_gated import EngineGated
from pymodel.erc20 import ERC20
from pymodel.errors import Revert, ZeroShares
from pymodel.fixed_point import mul_div_down, mul_div_up

if TYPE_CHECKING:
    from pymodel.perp_engine import PerpEngine

VIRTUAL_SHARE_DECIMALS = 6
MAX_REDEEM_TIMING = 365 * 24 * 3600

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
        if cooldown == 0 or cooldown > MAX_REDEEM_TIMING or window == 0 or window > MAX_REDEEM_TIMING:
            raise InvalidRedeemTiming(cooldown, window)
        self.redeem_cooldown = cooldown
        self.redeem_window = window
        self.emit(RedeemTimingSet(cooldown, window))

    # Mark

    def _marked_assets(self, env: Env, round_up: bool) -> int:
        """Cash plus what traders owe the pool (negative: what it owes them), floored at 0."""
        assert self.perp is not None
        claim = self.perp.pool_claim_on_traders(env, round_up)
        if claim >= 0:
            return evm.add(self.cash, claim)
        owed = -claim
        return 0 if owed >= self.cash else self.cash - owed

    def total_assets_for_deposit(self, env: Env) -> int:
        return self._marked_assets(env, True)

    def total_assets_for_redeem(self, env: Env) -> int:
        return self._marked_assets(env, False)

    def total_assets(self, env: Env) -> int:
        return self._marked_assets(env, True)

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
        return mul_div_down(shares, evm.add(self.total_assets_for_redeem(env), 1), self._virtual_supply())

    def convert_to_shares(self, env: Env, assets: int) -> int:
        """ERC4626.convertToShares over totalAssets (the deposit mark), rounded down."""
        return mul_div_down(assets, self._virtual_supply(), evm.add(self.total_assets(env), 1))

    def convert_to_assets(self, env: Env, shares: int) -> int:
        """ERC4626.convertToAssets over totalAssets (the deposit mark), rounded down."""
        return mul_div_down(shares, evm.add(self.total_assets(env), 1), self._virtual_supply())

    def max_deposit(self, receiver: str) -> int:
        return evm.UINT256_MAX

    def max_mint(self, receiver: str) -> int:
        return evm.UINT256_MAX

    def max_withdraw(self, owner: str) -> int:
        return 0

    def preview_withdraw(self, assets: int) -> int:
        raise AsyncRedeemOnly()

    def max_redeem(self, env: Env, owner: str) -> int:
        request = self.requests.get(owner, RedeemRequest())
        claimable_at = evm.add(request.requested_at, self.redeem_cooldown)
        if (
            request.shares == 0
            or env.timestamp < claimable_at
            or env.timestamp > evm.add(claimable_at, self.redeem_window)
        ):
            return 0
        return request.shares

    # ERC-4626 entry points

    def deposit(self, env: Env, assets: int, receiver: str) -> int:
        """Mirrors ERC4626.deposit (maxDeposit is unbounded)."""
        shares = self.preview_deposit(env, assets)
        self._deposit(env, env.sender, receiver, assets, shares)
        return shares

    def mint(self, env: Env, shares: int, receiver: str) -> int:
        """Mirrors ERC4626.mint (maxMint is unbounded)."""
        assets = self.preview_mint(env, shares)
        self._deposit(env, env.sender, receiver, assets, shares)
        return assets

    def withdraw(self, env: Env, assets: int, receiver: str, owner: str) -> int:
        raise AsyncRedeemOnly()

    def redeem(self, env: Env, shares: int, receiver: str, owner: str) -> int:
        """Mirrors LPPool.redeem: the ERC-7540 claim of escrowed shares."""
        if env.sender != owner:
            raise NotRequestOwner(env.sender, owner)
        max_shares = self.max_redeem(env, owner)
        if shares > max_shares:
            raise ERC4626ExceededMaxRedeem(owner, shares, max_shares)
        assets = self.preview_redeem(env, shares)
        self._withdraw(env, env.sender, receiver, owner, assets, shares)
        return assets

    def _deposit(self, env: Env, caller: str, receiver: str, assets: int, shares: int) -> None:
        self.asset.transfer_from(env.calling(self.address), caller, self.address, assets)
        self._mint(receiver, shares)
        self.emit(Deposit(caller, receiver, assets, shares))
        self.cash = evm.add(self.cash, assets)

    def _withdraw(self, env: Env, caller: str, receiver: str, owner: str, assets: int, shares: int) -> None:
        assert self.perp is not None
        reserved = self.perp.reserved_cash()
        free_cash = self.cash - reserved if self.cash > reserved else 0
        if assets > free_cash:
            raise InsufficientFreeCash(assets, free_cash)
        request = self.requests.setdefault(owner, RedeemRequest())
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
        self._transfer(env.sender, self.address, shares)
        request = self.requests.setdefault(env.sender, RedeemRequest())
        request.shares = evm.add(request.shares, shares)
        request.requested_at = env.timestamp
        self.emit(RedeemRequested(env.sender, shares, request.shares, evm.add(env.timestamp, self.redeem_cooldown)))

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

    def redeem_request_of(self, owner: str) -> tuple[int, int]:
        request = self.requests.get(owner, RedeemRequest())
        return request.shares, request.requested_at
