"""A small Hypothesis differential walk over the whole core ledger.

Each example is a list of 10-20 actions by 3 traders, 2 LPs and a keeper: deposits, opens,
increases, decreases, closes, margin in and out, oracle rounds (possibly delayed), time passing,
liquidations, redemption requests and claims. Actions are drawn as intentions (a notional, a
leverage, a fraction of what the actor holds) and sized from the model's state when they run, so
most are feasible; the ones that are not must revert identically on both sides. `ledger.act`
requires model == chain after every step (outcome, events, full state, conservation).

The deployment and its funding happen once per test; every example starts from that EVM
snapshot and from a copy of the model taken at the same point. Examples scale with the loaded
Hypothesis profile (`difftest/profiles.py`): max_examples // 6, at least 10 (25 under `ci`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from chainio.deploy import deploy_system
from difftest.ledger import Ledger
from pymodel.config import default_config
from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.evm import UINT256_MAX
from pymodel.system import System

USD = 10**6
WAD = 10**18
SCALE = 10**30  # size x price / SCALE = collateral units (6 decimals)
BPS = 10_000
MARKETS = (1, 2)
GENESIS_TIME = 1_800_000_000  # the deployment time of tests/ledger/conftest.py
CONFIG = default_config(redeem_cooldown=300, redeem_window=7_200)
EXAMPLES = max(10, settings().max_examples // 6)


class Walk:
    """Who is who in a walk, and the model's view of what they hold."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.lps = ledger.actors[1:3]
        self.traders = ledger.actors[3:6]
        self.keeper = ledger.actors[6]

    def position(self, trader: str, market: int):
        return self.ledger.system.c.engine.position_of(trader, market)

    def free_slot(self, trader: int, market: int) -> tuple[str, int]:
        """The drawn (trader, market), or the next one without a position (if any is free)."""
        slots = [(t, m) for t in self.traders for m in MARKETS]
        start = slots.index((self.traders[trader], market))
        for t, m in slots[start:] + slots[:start]:
            if self.position(t, m).size == 0:
                return t, m
        return self.traders[trader], market

    def liquidatable(self, pick: int) -> tuple[str, int] | None:
        """One of the positions the model sees as liquidatable right now, if any."""
        c, env = self.ledger.system.c, Env(self.keeper, self.ledger.now)
        found = []
        for t in self.traders:
            for m in MARKETS:
                try:
                    if c.engine.is_liquidatable(env, t, m):
                        found.append((t, m))
                except Revert:  # e.g. a stale oracle: the keeper tries anyway, below
                    pass
        return found[pick % len(found)] if found else None

    def open_positions(self) -> list[tuple[str, int]]:
        return [(t, m) for t in self.traders for m in MARKETS if self.position(t, m).size != 0]

    def target(self, trader: int, market: int) -> tuple[str, int]:
        """The drawn (trader, market) steered to an open position when there is one, so that
        actions on positions mostly find one: the drawn pair picks among the open ones."""
        open_ = self.open_positions()
        if not open_:
            return self.traders[trader], market
        return open_[(trader * len(MARKETS) + MARKETS.index(market)) % len(open_)]

    def oracle_wad(self, market: int) -> int:
        """The feed's latest answer in WAD (whether or not the adapter would accept it now)."""
        feed = self.ledger.system.c.feeds[market]
        return max(1, feed.latest_round_data().answer) * 10 ** (18 - feed.decimals)


@dataclass(frozen=True)
class Deposit:
    lp: int
    usd: int

    def run(self, w: Walk) -> None:
        lp = w.lps[self.lp]
        w.ledger.act(lp, "pool", "deposit", self.usd * USD, lp)


@dataclass(frozen=True)
class Open:
    trader: int
    market: int
    long: bool
    notional_usd: int
    leverage_tenths: int  # 10x is 100; above the 10x initial margin some opens must revert

    def run(self, w: Walk) -> None:
        trader, market = w.free_slot(self.trader, self.market)
        size = max(1, self.notional_usd * USD * SCALE // w.oracle_wad(market))
        margin = self.notional_usd * USD * 10 // self.leverage_tenths
        args = (size, margin, UINT256_MAX) if self.long else (-size, margin, 0)
        w.ledger.act(trader, "engine", "openPosition", market, *args)


@dataclass(frozen=True)
class Increase:
    trader: int
    market: int
    notional_usd: int
    margin_usd: int

    def run(self, w: Walk) -> None:
        trader, market = w.target(self.trader, self.market)
        size = max(1, self.notional_usd * USD * SCALE // w.oracle_wad(market))
        is_long = w.position(trader, market).size >= 0
        delta, acceptable = (size, UINT256_MAX) if is_long else (-size, 0)
        w.ledger.act(trader, "engine", "increasePosition", market, delta, self.margin_usd * USD, acceptable)


@dataclass(frozen=True)
class Decrease:
    trader: int
    market: int
    fraction_bps: int

    def run(self, w: Walk) -> None:
        trader, market = w.target(self.trader, self.market)
        size = w.position(trader, market).size
        reduction = max(1, abs(size) * self.fraction_bps // BPS) if size else WAD
        w.ledger.act(trader, "engine", "decreasePosition", market, reduction, 0 if size >= 0 else UINT256_MAX)


@dataclass(frozen=True)
class Close:
    trader: int
    market: int

    def run(self, w: Walk) -> None:
        trader, market = w.target(self.trader, self.market)
        acceptable = UINT256_MAX if w.position(trader, market).size < 0 else 0
        w.ledger.act(trader, "engine", "closePosition", market, acceptable)


@dataclass(frozen=True)
class AddMargin:
    trader: int
    market: int
    usd: int

    def run(self, w: Walk) -> None:
        trader, market = w.target(self.trader, self.market)
        w.ledger.act(trader, "engine", "addMargin", market, self.usd * USD)


@dataclass(frozen=True)
class RemoveMargin:
    trader: int
    market: int
    fraction_bps: int

    def run(self, w: Walk) -> None:
        trader, market = w.target(self.trader, self.market)
        amount = max(1, w.position(trader, market).margin * self.fraction_bps // BPS)
        w.ledger.act(trader, "engine", "removeMargin", market, amount)


@dataclass(frozen=True)
class SetPrice:
    market: int
    move_bps: int
    delay: int  # the round's updatedAt lies this many seconds in the past
    against: int  # -1: as drawn; else steer the move against the open position it picks

    def run(self, w: Walk) -> None:
        market, move = self.market, self.move_bps
        if self.against >= 0 and w.open_positions():
            trader, market = w.target(self.against, self.market)
            move = -abs(move) if w.position(trader, market).size > 0 else abs(move)
        feed = w.ledger.system.c.feeds[market]
        answer = max(1, feed.latest_round_data().answer * (BPS + move) // BPS)
        w.ledger.set_price(market, answer, updated_at=w.ledger.now - self.delay)


@dataclass(frozen=True)
class Advance:
    seconds: int

    def run(self, w: Walk) -> None:
        w.ledger.advance(self.seconds)


@dataclass(frozen=True)
class Liquidate:
    trader: int
    market: int

    def run(self, w: Walk) -> None:
        trader, market = w.liquidatable(self.trader) or w.target(self.trader, self.market)
        w.ledger.act(w.keeper, "engine", "liquidate", trader, market)


@dataclass(frozen=True)
class Shock:
    """A gap against one open position, then the keeper at whatever the oracle shows liquidatable."""

    pick: int
    move_bps: int
    delay: int

    def run(self, w: Walk) -> None:
        SetPrice(MARKETS[0], abs(self.move_bps), self.delay, self.pick).run(w)
        Liquidate(self.pick, MARKETS[0]).run(w)


@dataclass(frozen=True)
class RequestRedeem:
    lp: int
    fraction_bps: int

    def run(self, w: Walk) -> None:
        lp = w.lps[self.lp]
        w.ledger.act(lp, "pool", "requestRedeem", w.ledger.system.c.pool.balance_of(lp) * self.fraction_bps // BPS)


@dataclass(frozen=True)
class Redeem:
    lp: int

    def run(self, w: Walk) -> None:
        lp = w.lps[self.lp]
        pending, _ = w.ledger.system.c.pool.redeem_request_of(lp)
        w.ledger.act(lp, "pool", "redeem", max(1, pending), lp, lp)


traders, lps, markets = st.integers(0, 2), st.integers(0, 1), st.sampled_from(MARKETS)
fractions = st.integers(1, BPS)
# Price moves in bps: anything, or a jump big enough to take a 5x-10x position past maintenance.
moves = st.one_of(st.sampled_from([-2_500, -1_500, -1_000, -700, 700, 1_000, 1_500, 2_500]), st.integers(-3_000, 3_000))
# Leverage in tenths (10x is 100, the initial-margin limit): near the limit, or anything.
leverages = st.one_of(st.sampled_from([60, 80, 90, 95, 98, 101]), st.integers(15, 130))
# Notional in USD; above $1M a position is liquidated in partial steps.
notionals = st.one_of(st.integers(1_000, 300_000), st.sampled_from([1_100_000, 1_500_000]))
open_ = st.builds(Open, traders, markets, st.booleans(), notionals, leverages)
# Hypothesis draws the first branches of `one_of` most often: opens, shocks and prices first.
actions = st.one_of(
    open_,
    st.builds(Shock, traders, st.integers(800, 3_000), st.integers(0, 300)),
    st.builds(SetPrice, markets, moves, st.integers(0, 300), st.integers(-1, 2)),
    st.builds(Liquidate, traders, markets),
    open_,
    st.builds(Decrease, traders, markets, fractions),
    st.builds(Increase, traders, markets, st.integers(100, 100_000), st.integers(0, 20_000)),
    st.builds(Advance, st.integers(1, 4_000)),
    st.builds(SetPrice, markets, moves, st.integers(0, 300), st.integers(-1, 2)),
    st.builds(Close, traders, markets),
    st.builds(AddMargin, traders, markets, st.integers(1, 5_000)),
    st.builds(RemoveMargin, traders, markets, fractions),
    st.builds(Liquidate, traders, markets),
    st.builds(RequestRedeem, lps, fractions),
    st.builds(Redeem, lps),
    st.builds(Deposit, lps, st.integers(1_000, 500_000)),
)

# 10-20 actions, the first an open, so every walk has a position to work on.
walks = st.builds(lambda first, rest: [first, *rest], open_, st.lists(actions, min_size=9, max_size=19))


def set_up(project, accounts, rpc, registry) -> Ledger:
    """Deploys, funds two LPs (1M each in the pool), three traders and both insurance buckets."""
    deployment = deploy_system(project, accounts[0], CONFIG, rpc, registry, timestamp=GENESIS_TIME)
    system = System(CONFIG, deployment.addresses, deployment.deployer, deployment.timestamp)
    ledger = Ledger(deployment, system, rpc, [account.address for account in accounts[:8]])
    walk = Walk(ledger)
    for lp in walk.lps:
        ledger.mint_and_approve(lp, 10_000_000 * USD)
        ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    for trader in walk.traders:
        ledger.mint_and_approve(trader, 10_000_000 * USD)
    backer = ledger.actors[7]
    ledger.mint_and_approve(backer, 10_000 * USD)
    for market in MARKETS:
        ledger.act(backer, "insuranceFund", "fund", market, 2_000 * USD)
    assert all(not outcome.reverted for _, outcome in ledger.history)
    return ledger


def test_random_walk__three_traders_two_lps__model_equals_chain_at_every_step(project, accounts, rpc, registry):
    outer = rpc.request("evm_snapshot")
    try:
        ledger = set_up(project, accounts, rpc, registry)
        funded_model, funded_at = copy.deepcopy(ledger.system), ledger.now

        @settings(max_examples=EXAMPLES)
        @given(steps=walks)
        def walk(steps: list) -> None:
            snapshot = rpc.request("evm_snapshot")
            try:
                ledger.system, ledger.now, ledger.history = copy.deepcopy(funded_model), funded_at, []
                ledger.require_same_state("example start")
                w = Walk(ledger)
                for step in steps:
                    acted = len(ledger.history)
                    step.run(w)
                    for _, outcome in ledger.history[acted:]:
                        for debt in outcome.events_named("BadDebtSettled"):
                            # SPEC §10: the layers add up, and the pool pays only once insurance is empty.
                            assert debt.shortfall == debt.from_insurance + debt.from_safety_module + debt.from_pool
                            assert debt.from_pool == 0 or ledger.system.c.insurance_fund.bucket_of(debt.market_id) == 0
            finally:
                rpc.request("evm_revert", [snapshot])

        walk()
    finally:
        rpc.request("evm_revert", [outer])
