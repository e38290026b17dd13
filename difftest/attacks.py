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
