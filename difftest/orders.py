"""Trading through the order router in differential tests: one call submits an order, lets the
minimum execution delay pass, puts a new oracle round on chain and has a keeper execute it.

Every step is a `Ledger.act`, so model and chain are compared after each of them.
"""

from __future__ import annotations

from pymodel.config import SourceConfig, SystemConfig, default_config, default_market
from pymodel.order_router import ERROR_SELECTORS
from pymodel.system import Outcome, feed_name

_ERROR_NAMES = {selector: name for name, selector in ERROR_SELECTORS.items()}
FEED_UNIT = 10**8
MAX_AGE = 3_600 + 600


def three_source_config() -> SystemConfig:
    """ETH on two Chainlink-style feeds and a Pyth price (8 decimals each), quorum 2, 2% spread."""
    source = dict(decimals=8, max_age=MAX_AGE, initial_answer=3_000 * FEED_UNIT)
    sources = (SourceConfig(kind="chainlink", **source), SourceConfig(kind="chainlink", **source))
    sources += (SourceConfig(kind="pyth", **source),)
    eth = default_market(1, "ETH-USD", 3_000, 6, sources=sources, oracle_quorum=2, oracle_max_spread_bps=200)
    return default_config(markets=[eth, default_market(2, "BTC-USD", 60_000, 6)])


def reason_name(selector: bytes) -> str:
    """The error name behind an `OrderCancelled.reason` selector."""
    return _ERROR_NAMES[selector]


def cancel_reason(outcome: Outcome) -> str | None:
    """The name of the error that cancelled the fill, or None if the order filled (or reverted)."""
    cancelled = outcome.events_named("OrderCancelled")
    return reason_name(cancelled[0].reason) if cancelled else None


def submit(ledger, trader: str, market_id: int, size_delta: int, margin_in: int, acceptable_price: int) -> Outcome:
    return ledger.act(trader, "orderRouter", "submitOrder", market_id, size_delta, margin_in, acceptable_price)


def execute(ledger, trader: str, market_id: int, keeper: str | None = None) -> Outcome:
    """The honest keeper: no round hints (the oracle finds each first round), no pull data."""
    return ledger.act(keeper or ledger.actors[0], "orderRouter", "executeOrder", trader, market_id, [], [])


def next_round(ledger, market_id: int, answer: int | None = None) -> None:
    """A new round observed now, at `answer` (feed units; default: the feed's current answer)."""
    feeds = ledger.system.c.feeds
    if market_id not in feeds:
        return
    current = feeds[market_id].latest_round_data()[1]
    ledger.act(
        ledger.actors[0], feed_name(market_id), "setRoundData", current if answer is None else answer, ledger.now
    )


def trade(
    ledger,
    trader: str,
    market_id: int,
    size_delta: int,
    margin_in: int,
    acceptable_price: int,
    *,
    keeper: str | None = None,
    answer: int | None = None,
    new_round: bool = True,
) -> Outcome:
    """Submit, wait `minExecutionDelay` (at least a second), publish a round (the same answer
    unless `answer`), execute. Returns the submission's outcome if it reverted, else the
    execution's (a refused fill shows as `OrderCancelled`: see `cancel_reason`)."""
    submitted = submit(ledger, trader, market_id, size_delta, margin_in, acceptable_price)
    if submitted.reverted:
        return submitted
    ledger.advance(max(1, ledger.system.c.order_router.min_execution_delay))
    if new_round:
        next_round(ledger, market_id, answer)
    return execute(ledger, trader, market_id, keeper)


def close(ledger, trader: str, market_id: int, acceptable_price: int, **options) -> Outcome:
    """An order for the whole position (the model's size now), in the opposite direction."""
    size = ledger.system.c.engine.position_of(trader, market_id).size
    return trade(ledger, trader, market_id, -size, 0, acceptable_price, **options)


def decrease(ledger, trader: str, market_id: int, reduction: int, acceptable_price: int, **options) -> Outcome:
    """An order reducing |size| by `reduction` (the opposite sign of the model's position now)."""
    size = ledger.system.c.engine.position_of(trader, market_id).size
    return trade(ledger, trader, market_id, -reduction if size > 0 else reduction, 0, acceptable_price, **options)
