"""Mirrors contracts/SafetyModule.sol: staked collateral slashed (capped) before the pool pays."""

from __future__ import annotations

from dataclasses import dataclass

from pymodel import evm
from pymodel.core import Env, EventLog, ModelEvent
from pymodel.engine_gated import EngineGated
from pymodel.erc20 import ERC20
from pymodel.errors import InvalidParameter, Panic, Revert, ZeroAmount, ZeroShares
from pymodel.fixed_point import mul_div_down, mul_div_up

BPS = 10_000
VIRTUAL_SHARES = 10**6
MIN_PERIOD = 60
MAX_PERIOD = 30 * 24 * 3600
MIN_SLASH_BPS = 100
MAX_SLASH_BPS = 5_000
MIN_SLASH_WINDOW = 3600
MIN_EXIT_DELAY = 600
MAX_EXIT_DELAY = 7 * 24 * 3600
# Slots of the rolling slash window; a slot spans ceil(slash_window / (CHECKPOINTS - 1)) seconds.
CHECKPOINTS = 8
# 1e36: the fraction of assets slashes leave, rounded down (sub-wei on any balance below 1e36).
KEPT_ONE = 10**36
UINT64_MAX = 2**64 - 1
UINT192_MAX = 2**192 - 1

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
class ExceedsCooldownShares(Revert):
    staker: str
    covered: int
    requested: int


@dataclass
class NoStake(Revert):
    staker: str


@dataclass
class NothingToClaim(Revert):
    staker: str


@dataclass
class ClaimTooEarly(Revert):
    staker: str
    claimable_at: int


@dataclass
class UnstakeWindowExpired(Revert):
    staker: str
    deadline: int


# Events


@dataclass(frozen=True)
class ParamsSet(ModelEvent):
    cooldown_period: int
    unstake_window: int
    max_slash_bps: int
    slash_window: int
    exit_delay: int


@dataclass(frozen=True)
class Staked(ModelEvent):
    staker: str
    assets: int
    shares: int


@dataclass(frozen=True)
class CooldownStarted(ModelEvent):
    staker: str
    at: int
    shares: int


@dataclass(frozen=True)
class UnstakeRequested(ModelEvent):
    staker: str
    shares: int
    assets: int
    escrow_shares: int
    claimable_at: int
    deadline: int


@dataclass(frozen=True)
class Claimed(ModelEvent):
    staker: str
    receiver: str
    escrow_shares: int
    assets: int


@dataclass(frozen=True)
class UnstakeExpired(ModelEvent):
    staker: str
    escrow_shares: int
    assets: int
    shares: int


@dataclass(frozen=True)
class RewardDeposited(ModelEvent):
    amount: int


@dataclass(frozen=True)
class SlashWindowStarted(ModelEvent):
    start: int
    assets: int


@dataclass(frozen=True)
class Slashed(ModelEvent):
    requested: int
    slashed: int
    cap: int


class SafetyModule(EngineGated):
    """Mirrors SafetyModule: the stake (`total_assets - escrow_assets` over `total_shares`) earns the fee
    share; the escrow (`escrow_assets` over `escrow_shares`) of exits waiting to be claimed earns nothing;
    a slash takes from both in proportion to their assets. The cap is a rolling window: a ring of
    `CHECKPOINTS` slots `(at, kept)`, each the product of the fractions of assets that the slashes of one
    time bucket left."""

    def __init__(
        self,
        address: str,
        log: EventLog,
        collateral: ERC20,
        owner: str,
        cooldown_period: int,
        unstake_window: int,
        max_slash_bps: int,
        slash_window: int,
        exit_delay: int,
    ) -> None:
        super().__init__(address, log)
        self._init_ownable(owner)
        self.collateral = collateral
        self.cooldown_period = 0
        self.unstake_window = 0
        self.max_slash_bps = 0
        self.slash_window = 0
        self.exit_delay = 0
        self.total_assets = 0
        self.total_shares = 0
        self.escrow_assets = 0
        self.escrow_shares = 0
        self.shares: dict[str, int] = {}
        self.cooldown_starts: dict[str, int] = {}
        self.cooldown_shares: dict[str, int] = {}
        self.pending_shares: dict[str, int] = {}
        self.claimable_at: dict[str, int] = {}
        self.pending_deadline: dict[str, int] = {}
        self.checkpoints: list[tuple[int, int]] = [(0, 0)] * CHECKPOINTS
        self.slash_origin = 0
        self._set_params(cooldown_period, unstake_window, max_slash_bps, slash_window, exit_delay)

    # Admin

    def set_params(
        self,
        env: Env,
        cooldown_period: int,
        unstake_window: int,
        max_slash_bps: int,
        slash_window: int,
        exit_delay: int,
    ) -> None:
        """Mirrors SafetyModule.setParams."""
        self._check_owner(env)
        self._set_params(cooldown_period, unstake_window, max_slash_bps, slash_window, exit_delay)

    def _set_params(
        self, cooldown_period: int, unstake_window: int, max_slash_bps: int, slash_window: int, exit_delay: int
    ) -> None:
        if cooldown_period < MIN_PERIOD or cooldown_period > MAX_PERIOD:
            raise InvalidParameter("cooldownPeriod", cooldown_period)
        if unstake_window < MIN_PERIOD or unstake_window > MAX_PERIOD:
            raise InvalidParameter("unstakeWindow", unstake_window)
        if max_slash_bps < MIN_SLASH_BPS or max_slash_bps > MAX_SLASH_BPS:
            raise InvalidParameter("maxSlashBps", max_slash_bps)
        if slash_window < MIN_SLASH_WINDOW or slash_window > MAX_PERIOD:
            raise InvalidParameter("slashWindow", slash_window)
        if exit_delay < MIN_EXIT_DELAY or exit_delay > MAX_EXIT_DELAY:
            raise InvalidParameter("exitDelay", exit_delay)
        self.cooldown_period = cooldown_period
        self.unstake_window = unstake_window
        self.max_slash_bps = max_slash_bps
        self.slash_window = slash_window
        self.exit_delay = exit_delay
        self.emit(ParamsSet(cooldown_period, unstake_window, max_slash_bps, slash_window, exit_delay))

    # Staking

    def stake(self, env: Env, assets: int) -> int:
        """Mirrors SafetyModule.stake."""
        if assets == 0:
            raise ZeroAmount()
        self._restake_expired(env, env.sender)
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
        """Mirrors SafetyModule.cooldown: covers the shares staked now."""
        self._restake_expired(env, env.sender)
        shares = self.shares_of(env.sender)
        if shares == 0:
            raise NoStake(env.sender)
        self.cooldown_starts[env.sender] = env.timestamp
        self.cooldown_shares[env.sender] = shares
        self.emit(CooldownStarted(env.sender, env.timestamp, shares))

    def redeem(self, env: Env, shares: int) -> None:
        """Mirrors SafetyModule.redeem: moves the shares' assets into the escrow (slashable, no fees)."""
        if shares == 0:
            raise ZeroShares()
        self._restake_expired(env, env.sender)
        owned = self.shares_of(env.sender)
        if shares > owned:
            raise InsufficientShares(env.sender, owned, shares)
        start = self.cooldown_start_of(env.sender)
        window_start = evm.add(start, self.cooldown_period)
        window_end = evm.add(window_start, self.unstake_window)
        if start == 0 or env.timestamp < window_start or env.timestamp >= window_end:
            raise NotInUnstakeWindow(env.sender, window_start, window_end)
        covered = self.cooldown_shares_of(env.sender)
        if shares > covered:
            raise ExceedsCooldownShares(env.sender, covered, shares)
        self.cooldown_shares[env.sender] = covered - shares
        # Rounds down twice (assets out of the stake, escrow shares in): the leaver gets less.
        assets = self.preview_redeem(shares)
        minted = mul_div_down(assets, evm.add(self.escrow_shares, VIRTUAL_SHARES), evm.add(self.escrow_assets, 1))
        if minted == 0:
            raise ZeroShares()
        self.shares[env.sender] = owned - shares
        self.total_shares = evm.sub(self.total_shares, shares)
        self.escrow_assets = evm.add(self.escrow_assets, assets)
        self.escrow_shares = evm.add(self.escrow_shares, minted)
        # The whole escrow (earlier redeems included) waits `exit_delay`, slashable, then has `exit_delay` to leave.
        claimable_at = evm.add(env.timestamp, self.exit_delay)
        deadline = evm.add(claimable_at, self.exit_delay)
        self.pending_shares[env.sender] = evm.add(self.pending_shares.get(env.sender, 0), minted)
        self.claimable_at[env.sender] = claimable_at
        self.pending_deadline[env.sender] = deadline
        self.emit(UnstakeRequested(env.sender, shares, assets, minted, claimable_at, deadline))

    def claim(self, env: Env, receiver: str) -> int:
        """Mirrors SafetyModule.claim."""
        shares = self.pending_shares.get(env.sender, 0)
        if shares == 0:
            raise NothingToClaim(env.sender)
        claimable_at = self.claimable_at.get(env.sender, 0)
        if env.timestamp < claimable_at:
            raise ClaimTooEarly(env.sender, claimable_at)
        deadline = self.pending_deadline.get(env.sender, 0)
        if env.timestamp > deadline:
            raise UnstakeWindowExpired(env.sender, deadline)
        assets = self._leave_escrow(env.sender, shares)
        self.total_assets = evm.sub(self.total_assets, assets)
        self.collateral.transfer(env.calling(self.address), receiver, assets)
        self.emit(Claimed(env.sender, receiver, shares, assets))
        return assets

    def _restake_expired(self, env: Env, staker: str) -> None:
        """Escrow whose window has passed goes back to the stake at the stake's price (rounded down:
        the returning staker gets fewer shares)."""
        pending = self.pending_shares.get(staker, 0)
        if pending == 0 or env.timestamp <= self.pending_deadline.get(staker, 0):
            return
        staked_assets = evm.sub(self.total_assets, self.escrow_assets)
        assets = self._leave_escrow(staker, pending)
        shares = mul_div_down(assets, evm.add(self.total_shares, VIRTUAL_SHARES), evm.add(staked_assets, 1))
        self.total_shares = evm.add(self.total_shares, shares)
        self.shares[staker] = evm.add(self.shares_of(staker), shares)
        self.emit(UnstakeExpired(staker, pending, assets, shares))

    def _leave_escrow(self, staker: str, shares: int) -> int:
        """Burns `shares` of escrow for their assets (rounded down); the last leaver's rounding dust
        goes to the stake."""
        assets = self.preview_claim(shares)
        self.pending_shares.pop(staker, None)
        self.claimable_at.pop(staker, None)
        self.pending_deadline.pop(staker, None)
        self.escrow_shares = evm.sub(self.escrow_shares, shares)
        self.escrow_assets = evm.sub(self.escrow_assets, assets)
        if self.escrow_shares == 0:
            self.escrow_assets = 0
        return assets

    # Engine hooks

    def deposit_reward(self, env: Env, amount: int) -> None:
        """Mirrors SafetyModule.depositReward."""
        self._only_engine(env)
        # To the stake: escrow earns nothing.
        self.total_assets = evm.add(self.total_assets, amount)
        self.collateral.transfer_from(env.calling(self.address), env.sender, self.address, amount)
        self.emit(RewardDeposited(amount))

    def slash(self, env: Env, amount: int) -> int:
        """Mirrors SafetyModule.slash: stake and escrow lose the same fraction of their assets."""
        self._only_engine(env)
        kept = self.slash_kept(env)
        cap = self._slash_cap(kept)
        slashed = amount if amount < cap else cap
        if slashed > 0:
            assets = self.total_assets
            if kept == KEPT_ONE:
                self.emit(SlashWindowStarted(env.timestamp, assets))
            # Rounds up: the escrow (leaving) bears the rounding, never the stake that stays.
            self.escrow_assets = evm.sub(self.escrow_assets, mul_div_up(slashed, self.escrow_assets, assets))
            self.total_assets = assets - slashed
            # Rounds down: the window remembers at least the fraction taken.
            self._checkpoint(env, mul_div_down(assets - slashed, KEPT_ONE, assets))
            self.collateral.transfer(env.calling(self.address), env.sender, slashed)
        self.emit(Slashed(amount, slashed, cap))
        return slashed

    def _checkpoint(self, env: Env, kept: int) -> None:
        """Multiplies `kept` into the slot of the timestamp's bucket, or restarts the slot when its last
        slash is out of the window. With CHECKPOINTS - 1 buckets covering a window, a slot still in the
        window holds only the current bucket's slashes. Buckets count from the first slash, so they
        depend on no absolute time."""
        if self.slash_origin == 0:
            self.slash_origin = env.timestamp
        span = (self.slash_window + CHECKPOINTS - 2) // (CHECKPOINTS - 1)
        index = ((env.timestamp - self.slash_origin) // span) % CHECKPOINTS
        at, slot_kept = self.checkpoints[index]
        if slot_kept != 0 and at + self.slash_window > env.timestamp:
            # Rounds down: the merged slot remembers at least what both took.
            kept = mul_div_down(kept, slot_kept, KEPT_ONE)
        # uint64 / uint192 casts of the packed slot (truncating, as Solidity's explicit casts do).
        self.checkpoints[index] = (env.timestamp & UINT64_MAX, kept & UINT192_MAX)

    def _slash_cap(self, kept: int) -> int:
        """The most a slash can take when the window's slashes left `kept` of the assets: what keeps
        the product at or above 1 - max_slash_bps. Rounds the assets that must stay up: the stakers
        keep the rounding."""
        floor_kept = (BPS - self.max_slash_bps) * KEPT_ONE
        if kept * BPS <= floor_kept:
            return 0
        assets = self.total_assets
        stays = mul_div_up(assets, floor_kept, kept * BPS)
        return assets - stays if assets > stays else 0

    # Views

    def shares_of(self, staker: str) -> int:
        return self.shares.get(staker, 0)

    def cooldown_start_of(self, staker: str) -> int:
        return self.cooldown_starts.get(staker, 0)

    def cooldown_shares_of(self, staker: str) -> int:
        return self.cooldown_shares.get(staker, 0)

    def pending_of(self, staker: str) -> tuple[int, int, int]:
        shares = self.pending_shares.get(staker, 0)
        if shares == 0:
            return 0, 0, 0
        return shares, self.claimable_at.get(staker, 0), self.pending_deadline.get(staker, 0)

    def slash_cap(self, env: Env) -> int:
        """Mirrors SafetyModule.slashCap."""
        return self._slash_cap(self.slash_kept(env))

    def slash_kept(self, env: Env) -> int:
        """Mirrors SafetyModule.slashKept. Rounds down (each slot and each product): the window never
        forgets a slash's share."""
        kept = KEPT_ONE
        for at, slot_kept in self.checkpoints:
            if slot_kept != 0 and at + self.slash_window > env.timestamp:
                kept = mul_div_down(kept, slot_kept, KEPT_ONE)
        return kept

    def slash_checkpoint_of(self, slot: int) -> tuple[int, int]:
        """Mirrors SafetyModule.slashCheckpointOf (an index past the ring panics 0x32)."""
        if slot >= CHECKPOINTS:
            raise Panic(Panic.ARRAY_INDEX)
        return self.checkpoints[slot]

    def preview_stake(self, assets: int) -> int:
        """Rounds down: the staker gets fewer shares (favours existing stakers)."""
        staked = evm.add(evm.sub(self.total_assets, self.escrow_assets), 1)
        return mul_div_down(assets, evm.add(self.total_shares, VIRTUAL_SHARES), staked)

    def preview_redeem(self, shares: int) -> int:
        """Rounds down: the leaver gets fewer assets (favours those who stay)."""
        staked = evm.add(evm.sub(self.total_assets, self.escrow_assets), 1)
        return mul_div_down(shares, staked, evm.add(self.total_shares, VIRTUAL_SHARES))

    def preview_claim(self, shares: int) -> int:
        """Rounds down: the leaver gets fewer assets (favours those who stay)."""
        return mul_div_down(shares, evm.add(self.escrow_assets, 1), evm.add(self.escrow_shares, VIRTUAL_SHARES))
