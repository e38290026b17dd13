"""Attacks replayed against the rules, run on the model and on the chain through `Ledger.act`.

`latency_arbitrage`: the trader sees the real market `move_bps` away from the oracle round on
chain (the feed has not published yet). Before orders (issue 8) a trade filled at once at the
stale round, so buying before the round and selling after it paid about 0.76% of notional for a
1% move. With two-step orders the fill waits for the first round observed after the submission:
the round at the real price. The attacker also runs the keeper (gets the execution fees back),
the worst case for the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from difftest.ledger import Ledger
from difftest.orders import close, execute, submit
from pymodel.evm import UINT256_MAX
from pymodel.system import feed_name

BPS = 10_000


@dataclass(frozen=True)
class Arbitrage:
    """What the attacker held before and after (collateral units), and the notional traded."""

    start: int
    end: int
    notional: int

    @property
    def profit(self) -> int:
        return self.end - self.start

    @property
    def profit_per_notional_ppm(self) -> int:
        """Profit per $1 of notional, in millionths (rounded toward zero)."""
        ppm = abs(self.profit) * 10**6 // self.notional
        return ppm if self.profit >= 0 else -ppm


def _round(ledger: Ledger, market_id: int, answer: int) -> None:
    ledger.act(ledger.actors[0], feed_name(market_id), "setRoundData", answer, ledger.now)


def latency_arbitrage(
    ledger: Ledger, attacker: str, market_id: int, notional_usd: int, move_bps: int = 100, leverage: int = 5
) -> Arbitrage:
    """Long `notional_usd` when the real price is `move_bps` above the round on chain; the next
    round lands at the real price; the attacker executes his own order, then closes at the
    following round (the real price has not moved further) and executes that too."""
    c = ledger.system.c
    token = c.token
    answer = c.feeds[market_id].latest_round_data()[1]
    price_wad = c.oracle.price(_env(ledger), market_id)
    notional = ledger.system.config.usd(notional_usd)
    size = notional * c.engine.notional_scale // price_wad
    start = token.balance_of(attacker)

    submit(ledger, attacker, market_id, size, notional // leverage, UINT256_MAX)
    ledger.advance(max(1, c.order_router.min_execution_delay))
    real = answer * (BPS + move_bps) // BPS
    _round(ledger, market_id, real)  # the round at the real price, observed after the order
    filled = execute(ledger, attacker, market_id, keeper=attacker)
    assert filled.events_named("OrderExecuted"), filled
    close(ledger, attacker, market_id, 0, keeper=attacker)  # a new round at the same real price
    assert c.engine.position_of(attacker, market_id).size == 0
    return Arbitrage(start, token.balance_of(attacker), notional)


def _env(ledger: Ledger) -> Any:
    from pymodel.core import Env

    return Env(ledger.actors[0], ledger.now)


def stale_arbitrage_row(
    project: Any, deployer: Any, actors: list[str], rpc: Any, registry: Any, genesis: int
) -> tuple[str, str]:
    """`make bench`: the latency arbitrage of $100k on a 1% stale move, on a fresh default
    deployment (model and chain, under an EVM snapshot), as one table row."""
    from pymodel.config import default_config

    snapshot = rpc.request("evm_snapshot")
    try:
        ledger = Ledger.deploy(project, deployer, actors, default_config(), rpc, registry, genesis)
        lp, attacker = actors[1], actors[2]
        ledger.mint_and_approve(lp, ledger.system.config.usd(1_000_000))
        ledger.act(lp, "pool", "deposit", ledger.system.config.usd(1_000_000), lp)
        ledger.mint_and_approve(attacker, ledger.system.config.usd(100_000))
        result = latency_arbitrage(ledger, attacker, 1, 100_000, move_bps=100)
    finally:
        rpc.request("evm_revert", [snapshot])
    ppm = result.profit_per_notional_ppm
    sign = "-" if ppm < 0 else "+"
    return (
        "stale-oracle arbitrage: profit per $ notional, 1% move, $100k (orders fill at the next round)",
        f"{sign}{abs(ppm) // 10**6}.{abs(ppm) % 10**6:06d}  (profit {result.profit:,} units on {result.notional:,})",
    )


# The trader-as-keeper straddle (issue 17, item 1): a path's round every ROUND_SECONDS, GBM at
# STRADDLE_VOL a year (the 80%), a round trip of two orders per STRADDLE_GAP seconds.
ROUND_SECONDS = 12
STRADDLE_VOL = 0.8
YEAR = 365 * 86_400


def _publish(sim: Any, market_id: int, answer: int) -> tuple[list[int], list[bytes]]:
    """A new observation now on every source of the market, at `answer` (first source's units):
    `setRoundData` on a Chainlink source, a pushed print on a Pyth one (like `Ledger.set_price`).
    Returns what a keeper names to pin them: each source's round id (0 for Pyth), the updates."""
    from pymodel.system import pyth_update, source_name

    sources = next(m for m in sim.system.config.markets if m.market_id == market_id).oracle_sources()
    round_ids, updates = [], []
    for index, source in enumerate(sources):
        scaled = answer * 10**source.decimals // 10 ** sources[0].decimals
        name = source_name(market_id, index)
        if source.kind == "chainlink":
            sim.act(sim.actors[0], name, "setRoundData", scaled, sim.now)
            round_ids.append(sim.system.c.sources[market_id][index].latest_round_id)
        else:
            updates.append(pyth_update(market_id, index, source.decimals, scaled, sim.now))
            sim.act(sim.actors[0], name, "updatePriceFeeds", updates[-1:])
            round_ids.append(0)
    return round_ids, updates


def trader_as_keeper_straddle(
    config: Any, seed: int, trips: int, notional_usd: int = 100_000, leverage: int = 5, market_id: int = 1
) -> Arbitrage:
    """The issue's trader who runs its own keeper, on the model alone: a long from one account and
    a short from another, submitted in the same second; rounds follow a seeded GBM path; just
    before expiry it executes the leg in the money against the live mark (the pinned fill is the
    same whenever it calls), closes it at the next rounds (a two-step order it executes itself)
    and cancels the other leg once expired (margin and fee back to itself). The attacker's two
    accounts together, before and after every round trip; `notional` is summed over the trips."""
    import random

    from difftest.model_only import ModelDriver, model_system

    system, actors = model_system(config)
    sim = ModelDriver(system, actors)
    sim.fund()
    c = system.c
    long_account, short_account = actors[5], actors[6]
    rng = random.Random(seed)
    feed_unit = 10 ** system.config.markets[0].feed_decimals
    answer = c.oracle.price(_env(sim), market_id) * feed_unit // 10**18
    step = STRADDLE_VOL * (ROUND_SECONDS / YEAR) ** 0.5

    def tick(seconds: int) -> tuple[list[int], list[bytes]]:
        """Rounds for `seconds`; the first one's pins."""
        nonlocal answer
        first = None
        for _ in range(max(1, seconds // ROUND_SECONDS)):
            sim.now += ROUND_SECONDS
            answer = max(1, int(answer * (1 + rng.gauss(0, step))))
            pins = _publish(sim, market_id, answer)
            first = first or pins
        assert first is not None
        return first

    def wealth() -> int:
        return c.token.balance_of(long_account) + c.token.balance_of(short_account)

    min_delay, max_delay = c.order_router.min_execution_delay, c.order_router.max_execution_delay
    start, notional_total = wealth(), 0
    for _ in range(trips):
        price_wad = c.oracle.price(_env(sim), market_id)
        notional = system.config.usd(notional_usd)
        size = notional * c.engine.notional_scale // price_wad
        margin = notional // leverage
        for account, delta, acceptable in ((long_account, size, UINT256_MAX), (short_account, -size, 0)):
            assert not sim.act(account, "orderRouter", "submitOrder", market_id, delta, margin, acceptable).reverted
        submitted = sim.now
        pins = tick(max_delay - ROUND_SECONDS)  # watch the market until just before expiry
        assert sim.now < submitted + max_delay, "the path ran past expiry"
        live = c.oracle.price(_env(sim), market_id)
        # Preview both pinned fills (the same price whenever called): keep the leg in the money.
        pinned = _pinned_price(sim, long_account, market_id, pins)
        keep, drop = (long_account, short_account) if live >= pinned else (short_account, long_account)
        filled = sim.act(keep, "orderRouter", "executeOrder", keep, market_id, *pins)
        assert filled.events_named("OrderExecuted"), filled
        notional_total += notional
        held = c.engine.position_of(keep, market_id).size
        close_at = 0 if held > 0 else UINT256_MAX
        assert not sim.act(keep, "orderRouter", "submitOrder", market_id, -held, 0, close_at).reverted
        pins = tick(max(1, min_delay) + ROUND_SECONDS)
        closed = sim.act(keep, "orderRouter", "executeOrder", keep, market_id, *pins)
        assert closed.events_named("OrderExecuted"), closed
        assert c.engine.position_of(keep, market_id).size == 0
        sim.now = max(sim.now, submitted + max_delay)  # the dropped leg expires
        cancelled = sim.act(keep, "orderRouter", "cancelOrder", drop, market_id)
        assert cancelled.events_named("OrderCancelled"), cancelled
        tick(60)
    return Arbitrage(start, wealth(), notional_total)


def _pinned_price(sim: Any, account: str, market_id: int, pins: tuple[list[int], list[bytes]]) -> int:
    """The order's pinned fill mark, read without changing anything (model journal undone)."""
    from pymodel.core import begin_action, end_action, rollback

    mark = begin_action()
    try:
        out = sim.system.execute(account, sim.now, "orderRouter", "executeOrder", (account, market_id, *pins))
        return out.event("OrderExecuted").price
    finally:
        rollback(mark)
        end_action(mark)


def per_dollar(ppm: int) -> str:
    """`+0.001234` from millionths of a dollar per dollar."""
    return f"{'-' if ppm < 0 else '+'}{abs(ppm) // 10**6}.{abs(ppm) % 10**6:06d}"


def straddle_rows(config: Any, seeds: int = 8, trips: int = 10) -> list[tuple[str, str]]:
    """`make bench`: `trader_as_keeper_straddle` of $100k at 5x over `seeds` seeded paths of
    `trips` round trips each, on `config` and with 1-hour orders for comparison (model only)."""
    rows = []
    delays = dict.fromkeys([config.max_execution_delay, 3_600])  # and the 1-hour orders of before issue 17
    for delay in delays:
        runs = [
            trader_as_keeper_straddle(config.model_copy(update={"max_execution_delay": delay}), s, trips)
            for s in range(seeds)
        ]
        profit, notional = sum(r.profit for r in runs), sum(r.notional for r in runs)
        ppm = abs(profit) * 10**6 // notional * (1 if profit >= 0 else -1)
        worst = max(r.profit_per_notional_ppm for r in runs)
        rows.append(
            (
                f"trader-as-keeper round choice: profit per $ notional (straddle $100k 5x, 80%/yr, "
                f"{seeds * trips} round trips, maxExecutionDelay {delay:,} s)",
                f"{per_dollar(ppm)}  (profit {profit:,} units on {notional:,}; worst path {per_dollar(worst)})",
            )
        )
    return rows
