"""Mirrors contracts/SafetyModule.sol: staked collateral slashed (capped) before the pool pays."""

from __future__ import annotations

from dataclasses import dataclass

from pymodel import evm
from pymodel.core import Env, EventLog, ModelEvent
from pymodel.engine_gated import EngineGated
from pymodel.erc20 import ERC20
from pymodel.errors import InvalidParameter, Revert, ZeroAmount, ZeroShares
from pymodel.fixed_point import mul_div_down

BPS = 10_000
VIRTUAL_SHARES = 10**6
MAX_PERIOD = 365 * 24 * 3600

# Errors


@dataclass
class InsufficientShares(Revert):
    staker: str
    shares: int
    requested: int


@dataclass
class NotInUnstakeWindow(Revert):
    staker: str
    window_start: int
    window_end: int


@dataclass
class NothingToClaim(Revert):
    staker: str


@dataclass
class ClaimTooEarly(Revert):
    staker: str
    claimable_at: int


# Events


@dataclass(frozen=True)
class ParamsSet(ModelEvent):
    cooldown_period: int
    unstake_window: int
    max_slash_bps: int


@dataclass(frozen=True)
class Staked(ModelEvent):
    staker: str
    assets: int
    shares: int


@dataclass(frozen=True)
class CooldownStarted(ModelEvent):
    staker: str
    at: int


@dataclass(frozen=True)
class UnstakeRequested(ModelEvent):
    staker: str
    shares: int
    claimable_at: int


@dataclass(frozen=True)
class Claimed(ModelEvent):
    staker: str
    receiver: str
    shares: int
    assets: int


@dataclass(frozen=True)
class RewardDeposited(ModelEvent):
    amount: int


@dataclass(frozen=True)
class Slashed(ModelEvent):
    requested: int
    slashed: int
    cap: int


class SafetyModule(EngineGated):
    """Mirrors SafetyModule."""

    def __init__(
        self,
        address: str,
        log: EventLog,
        collateral: ERC20,
        owner: str,
        cooldown_period: int,
        unstake_window: int,
        max_slash_bps: int,
    ) -> None:
        super().__init__(address, log)
        self._init_ownable(owner)
        self.collateral = collateral
        self.cooldown_period = 0
        self.unstake_window = 0
        self.max_slash_bps = 0
        self.total_assets = 0
        self.total_shares = 0
        self.shares: dict[str, int] = {}
        self.cooldown_starts: dict[str, int] = {}
        self.pending_shares: dict[str, int] = {}
        self.pending_at: dict[str, int] = {}
        self._set_params(cooldown_period, unstake_window, max_slash_bps)

    # Admin

    def set_params(self, env: Env, cooldown_period: int, unstake_window: int, max_slash_bps: int) -> None:
        """Mirrors SafetyModule.setParams."""
        self._check_owner(env)
        self._set_params(cooldown_period, unstake_window, max_slash_bps)

    def _set_params(self, cooldown_period: int, unstake_window: int, max_slash_bps: int) -> None:
        if cooldown_period == 0 or cooldown_period > MAX_PERIOD:
            raise InvalidParameter("cooldownPeriod", cooldown_period)
        if unstake_window == 0 or unstake_window > MAX_PERIOD:
            raise InvalidParameter("unstakeWindow", unstake_window)
        if max_slash_bps > BPS:
            raise InvalidParameter("maxSlashBps", max_slash_bps)
        self.cooldown_period = cooldown_period
        self.unstake_window = unstake_window
        self.max_slash_bps = max_slash_bps
        self.emit(ParamsSet(cooldown_period, unstake_window, max_slash_bps))

    # Staking

    def stake(self, env: Env, assets: int) -> int:
        """Mirrors SafetyModule.stake."""
        if assets == 0:
            raise ZeroAmount()
        shares = self.preview_stake(assets)
        if shares == 0:
            raise ZeroShares()
        self.total_assets = evm.add(self.total_assets, assets)
        self.total_shares = evm.add(self.total_shares, shares)
        self.shares[env.sender] = evm.add(self.shares_of(env.sender), shares)
        self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, assets)
        self.emit(Staked(env.sender, assets, shares))
        return shares

    def cooldown(self, env: Env) -> None:
        """Mirrors SafetyModule.cooldown."""
        self.cooldown_starts[env.sender] = env.timestamp
        self.emit(CooldownStarted(env.sender, env.timestamp))

    def redeem(self, env: Env, shares: int) -> None:
        """Mirrors SafetyModule.redeem: escrows the shares; they stay slashable until claimed."""
        if shares == 0:
            raise ZeroShares()
        owned = self.shares_of(env.sender)
        if shares > owned:
            raise InsufficientShares(env.sender, owned, shares)
        start = self.cooldown_start_of(env.sender)
        window_start = evm.add(start, self.cooldown_period)
        window_end = evm.add(window_start, self.unstake_window)
        if start == 0 or env.timestamp < window_start or env.timestamp > window_end:
            raise NotInUnstakeWindow(env.sender, window_start, window_end)
        self.shares[env.sender] = owned - shares
        self.pending_shares[env.sender] = evm.add(self.pending_shares.get(env.sender, 0), shares)
        self.pending_at[env.sender] = env.timestamp
        self.emit(UnstakeRequested(env.sender, shares, evm.add(env.timestamp, 1)))

    def claim(self, env: Env, receiver: str) -> int:
        """Mirrors SafetyModule.claim."""
        shares = self.pending_shares.get(env.sender, 0)
        if shares == 0:
            raise NothingToClaim(env.sender)
        claimable_at = evm.add(self.pending_at.get(env.sender, 0), 1)
        if env.timestamp < claimable_at:
            raise ClaimTooEarly(env.sender, claimable_at)
        assets = self.preview_claim(shares)
        self.pending_shares.pop(env.sender, None)
        self.pending_at.pop(env.sender, None)
        self.total_shares = evm.sub(self.total_shares, shares)
        self.total_assets = evm.sub(self.total_assets, assets)
        self.collateral.transfer(env.calling(self.address), receiver, assets)
        self.emit(Claimed(env.sender, receiver, shares, assets))
        return assets

    # Engine hooks

    def deposit_reward(self, env: Env, amount: int) -> None:
        """Mirrors SafetyModule.depositReward."""
        self._only_engine(env)
        self.total_assets = evm.add(self.total_assets, amount)
        self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, amount)
        self.emit(RewardDeposited(amount))

    def slash(self, env: Env, amount: int) -> int:
        """Mirrors SafetyModule.slash: every share loses the same fraction of its assets."""
        self._only_engine(env)
        cap = self.slash_cap()
        slashed = amount if amount < cap else cap
        self.total_assets = evm.sub(self.total_assets, slashed)
        if slashed > 0:
            self.collateral.transfer(env.calling(self.address), env.sender, slashed)
        self.emit(Slashed(amount, slashed, cap))
        return slashed

    # Views

    def shares_of(self, staker: str) -> int:
        return self.shares.get(staker, 0)

    def cooldown_start_of(self, staker: str) -> int:
        return self.cooldown_starts.get(staker, 0)

    def pending_of(self, staker: str) -> tuple[int, int]:
        shares = self.pending_shares.get(staker, 0)
        return shares, 0 if shares == 0 else self.pending_at.get(staker, 0) + 1

    def slash_cap(self) -> int:
        """Rounds down: the cap limits what is taken from stakers."""
        return mul_div_down(self.total_assets, self.max_slash_bps, BPS)

    def preview_stake(self, assets: int) -> int:
        """Rounds down: the staker gets fewer shares (favours existing stakers)."""
        return mul_div_down(assets, evm.add(self.total_shares, VIRTUAL_SHARES), evm.add(self.total_assets, 1))

    def preview_claim(self, shares: int) -> int:
        """Rounds down: the staker gets fewer assets (favours those who stay)."""
        return mul_div_down(shares, evm.add(self.total_assets, 1), evm.add(self.total_shares, VIRTUAL_SHARES))
