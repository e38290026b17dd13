"""The model alone, without a chain: a deployment at synthetic addresses and action workloads.

Used by `make bench` (pure-model throughput, and whether it holds up with oracle history) and by
the journal tests (random actions, reverting ones included, each compared with a deep copy).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from eth_utils import to_checksum_address

from pymodel.config import SystemConfig, default_config
from pymodel.evm import UINT256_MAX
from pymodel.system import Addresses, Outcome, System, feed_name

WAD = 10**18
ETH = 1
BTC = 2
GENESIS = 1_800_000_000


def address(n: int) -> str:
    return to_checksum_address(f"0x{0xA11CE000 + n:040x}")


def model_system(config: SystemConfig | None = None, timestamp: int = GENESIS) -> tuple[System, list[str]]:
    """The deployment in the model only, with eight actors (owner first, like the ledger tests)."""
    config = config or default_config()
    addresses = Addresses.numbered(config, 0xA11CE000)
    actors = [address(1_000 + i) for i in range(8)]
    return System(config, addresses, actors[0], timestamp), actors


class ModelDriver:
    """Runs actions on a model-only System at a clock that only moves forward."""

    def __init__(self, system: System, actors: list[str], timestamp: int = GENESIS) -> None:
        self.system = system
        self.actors = actors
        self.now = timestamp
        self.actions = 0

    def act(self, sender: str, contract: str, function: str, *args: Any) -> Outcome:
        self.actions += 1
        return self.system.execute(sender, self.now, contract, function, args)

    def price(self, market_id: int) -> int:
        return self.system.c.feeds[market_id].latest_round_data().answer

    def set_price(self, market_id: int, answer: int) -> Outcome:
        return self.act(self.actors[0], feed_name(market_id), "setRoundData", answer, self.now)

    def fund(self) -> None:
        """Every actor minted and approved, two LPs in the pool, a staker, insurance buckets."""
        c = self.system.c
        usd = self.system.config.usd
        for actor in self.actors:
            self.act(actor, "token", "mint", actor, usd(10_000_000))
            spenders = (c.engine, c.order_router, c.pool, c.insurance_fund, c.safety_module)
            for spender in (contract.address for contract in spenders):
                self.act(actor, "token", "approve", spender, UINT256_MAX)
        self.act(self.actors[1], "pool", "deposit", usd(2_000_000), self.actors[1])
        self.act(self.actors[2], "pool", "deposit", usd(1_000_000), self.actors[2])
        self.act(self.actors[3], "safetyModule", "stake", usd(50_000))
        for market in self.system.config.markets:
            self.act(self.actors[0], "insuranceFund", "fund", market.market_id, usd(5_000))

    def next_round(self, market_id: int) -> Outcome:
        """Past the minimum execution delay (at least a second), a round at the current answer."""
        self.now += max(1, self.system.c.order_router.min_execution_delay)
        return self.set_price(market_id, self.price(market_id))

    def bench_round(self, i: int) -> None:
        """The differential bench's loop for one trader: a price; an open order, the next round,
        its execution and an add margin; a close order, the next round, its execution (8 actions)."""
        usd = self.system.config.usd
        trader, keeper = self.actors[4], self.actors[0]
        self.now += 30
        feed_unit = 10 ** self.system.config.markets[0].feed_decimals
        self.set_price(ETH, (2_700 + i % 50) * feed_unit)
        self.act(trader, "orderRouter", "submitOrder", ETH, WAD, usd(1_000), 3_000 * WAD)
        self.next_round(ETH)
        self.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [])
        self.act(trader, "engine", "addMargin", ETH, usd(10))
        self.act(trader, "orderRouter", "submitOrder", ETH, -WAD, 0, 0)
        self.next_round(ETH)
        self.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [])


def random_actions(driver: ModelDriver, rng: random.Random, count: int) -> Iterator[tuple[Any, ...]]:
    """`count` random actions (sender, contract, function, args): orders (submitted, executed
    after a new round or too early, cancelled), margin, liquidations, ADL, LP and staker flows,
    prices, owner changes; many of them revert. Time moves between them. Yields each before it
    runs; the caller executes it."""
    usd = driver.system.config.usd
    owner, lp1, lp2, staker, *traders, keeper = driver.actors
    markets = [m.market_id for m in driver.system.config.markets]
    engine = driver.system.c.engine
    router = driver.system.c.order_router
    yielded = 0
    while yielded < count:
        if rng.random() < 0.3:
            driver.now += rng.choice([1, 30, 301, 3_600, 5_000])
        market = rng.choice(markets)
        trader = rng.choice(traders)
        size = engine.position_of(trader, market).size
        feed_decimals = next(m.feed_decimals for m in driver.system.config.markets if m.market_id == market)
        price_wad = max(1, driver.price(market)) * 10 ** (18 - feed_decimals)
        kind = rng.randrange(18)
        amount = rng.choice([0, 1, usd(10), usd(1_000), usd(100_000), usd(50_000_000)])
        yielded += 1
        if kind == 0:
            answer = max(1, driver.price(market) * rng.randint(7_000, 13_000) // 10_000)
            yield (keeper, feed_name(market), "setRoundData", answer, driver.now - rng.choice([0, 0, 60, 5_000]))
        elif kind in (1, 2, 3, 4, 5):
            if kind in (1, 2):
                notional = rng.choice([1, 10_000, 300_000, 3_000_000])
                units = max(1, notional * WAD * WAD // price_wad)
                margin = usd(notional) * 10 // rng.choice([20, 50, 95, 120])
                delta = units if rng.random() < 0.5 else -units
                order = (delta, margin, UINT256_MAX if delta > 0 else 0)
            elif kind == 3:
                delta = max(1, abs(size) // rng.choice([1, 2, 10]))
                order = (delta, amount, UINT256_MAX) if size >= 0 else (-delta, amount, 0)
            elif kind == 4:
                reduction = abs(size) // rng.choice([1, 2, 3])
                order = (-reduction, 0, 0) if size > 0 else (reduction, 0, UINT256_MAX)
            else:
                order = (-size, 0, 0 if size > 0 else UINT256_MAX)
            yield (trader, "orderRouter", "submitOrder", market, *order)
            # Most orders are then executed after a new round past the minimum delay (a fill, or
            # a fill refused and cancelled with its reason); the others wait (kinds 16 and 17).
            if router.order_of(trader, market).submitted_at != 0 and rng.random() < 0.8 and yielded + 2 <= count:
                driver.now += max(1, router.min_execution_delay)
                yield (keeper, feed_name(market), "setRoundData", driver.price(market), driver.now)
                yield (keeper, "orderRouter", "executeOrder", trader, market, [], [])
                yielded += 2
        elif kind in (16, 17):
            # A waiting order: executed after a new round, executed too early, or cancelled
            # (from expiry on; before it, refused), or none pending.
            if router.order_of(trader, market).submitted_at != 0 and rng.random() < 0.6 and yielded < count:
                driver.now += max(1, router.min_execution_delay)
                yield (keeper, feed_name(market), "setRoundData", driver.price(market), driver.now)
                yielded += 1
            sender = rng.choice([keeper, keeper, trader])
            if rng.random() < 0.7:
                yield (sender, "orderRouter", "executeOrder", trader, market, [], [])
            else:
                yield (sender, "orderRouter", "cancelOrder", trader, market)
        elif kind == 6:
            yield (trader, "engine", "addMargin", market, amount)
        elif kind == 7:
            yield (
                trader,
                "engine",
                "removeMargin",
                market,
                engine.position_of(trader, market).margin // rng.choice([1, 2, 5]),
            )
        elif kind in (8, 9):
            yield (keeper, "engine", "liquidate", trader, market)
        elif kind == 10:
            yield (keeper, "engine", "autoDeleverage", trader, market, abs(size) // rng.choice([1, 2, 4]))
        elif kind == 11:
            lp = rng.choice([lp1, lp2])
            yield rng.choice(
                [
                    (lp, "pool", "deposit", amount, lp),
                    (lp, "pool", "requestRedeem", driver.system.c.pool.balance_of(lp) // rng.choice([1, 3])),
                    (lp, "pool", "redeem", driver.system.c.pool.redeem_request_of(lp)[0], lp, lp),
                    (lp, "pool", "cancelRedeem"),
                ]
            )
        elif kind == 12:
            shares = driver.system.c.safety_module.shares_of(staker)
            yield rng.choice(
                [
                    (staker, "safetyModule", "stake", amount),
                    (staker, "safetyModule", "cooldown"),
                    (staker, "safetyModule", "redeem", shares // rng.choice([1, 2])),
                    (staker, "safetyModule", "claim", staker),
                ]
            )
        elif kind == 13:
            yield (owner, "insuranceFund", "fund", market, amount)
        elif kind == 14:
            yield rng.choice(
                [
                    (owner, "engine", "setAdlParams", rng.randint(0, 10_001), rng.randint(0, 10_000)),
                    (owner, "engine", "setFeeShares", rng.randint(0, 6_000), rng.randint(0, 6_000)),
                    (rng.choice([owner, keeper]), "engine", "setOpensPaused", rng.random() < 0.5),
                    (owner, "engine", "setPoolLimits", rng.randint(0, 10_001), rng.randint(0, 10_001)),
                ]
            )
        else:
            yield (trader, "token", "transfer", rng.choice(driver.actors), amount)
