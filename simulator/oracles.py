"""Oracle models: what the chain shows at each step, given the real market.

Every source yields, per path and step, the round on chain (answer in feed units and its
`updatedAt`). The consumer rules are OracleAdapter's: a round older than `maxAge` reverts
(StalePrice), so nothing liquidates on it; an L2 sequencer that is down or in its grace period
reverts too. A multi-source set (issue 11) is deployed as the market's sources in the adapter
(`SimConfig.protocol`): each source's rounds are posted to its own feed, and the mark mirrors
`OracleAdapter._evaluate`: the LOWER median of the fresh sources (index (n - 1) // 2 of them
sorted), with at least `quorum` fresh and at least `quorum` within `max_spread_bps` of that
median, else the market is degraded.

Times are whole steps (a latency lands at the first step boundary at or after it). Vectorised
over paths with NumPy; a loop over steps carries each feed's publication state (last triggered
price and time). Push rounds are each in flight on their own latency draw, several at once; a
newer round may land before an older one, and the feed keeps the newest observation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulator.config import LatencyConfig, SimConfig, SourceConfig
from simulator.rng import STREAM_ORACLE, block_rows

BPS = 10_000
# Why a step cannot liquidate (0: it can).
OK, STALE, SEQUENCER, DEGRADED, BAND = 0, 1, 2, 3, 4
REASONS = {OK: "ok", STALE: "stale", SEQUENCER: "sequencer", DEGRADED: "degraded", BAND: "outside band"}


@dataclass
class OracleTimeline:
    """Per path (rows) and step (columns, step 0 = the setup block at t=0)."""

    answer: np.ndarray  # float64 holding integers: the on-chain answer, feed units
    updated_at: np.ndarray  # int64 seconds since t=0
    lands: np.ndarray  # bool: a new round is posted on chain at this step
    blocked: np.ndarray  # int8: OK / STALE / SEQUENCER / DEGRADED
    decimals: int
    # Per source of a multi-source set: (answer, updated_at, lands), what is posted to its feed.
    sources: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    # int64 seconds: when the price on chain was observed (published) in the market; a set: the
    # oldest agreeing source's. `t - observed_at` is the price lag in seconds.
    observed_at: np.ndarray | None = None

    def price(self) -> np.ndarray:
        """The on-chain price in USD (floats, for the approximate tier and plots)."""
        return self.answer / 10.0**self.decimals


def draw_latency(latency: LatencyConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` latencies in seconds, before congestion."""
    if latency.kind == "fixed":
        return np.full(n, latency.seconds)
    if latency.kind == "uniform":
        return rng.uniform(latency.seconds, latency.high, n)
    return latency.seconds * np.exp(latency.sigma * rng.standard_normal(n))


def sequencer_blocked(config: SimConfig) -> tuple[np.ndarray, np.ndarray]:
    """(down, blocked) per step: rounds cannot land while down; nothing liquidates while down
    or within the grace period after the restart (OracleAdapter._checkSequencer: `<= grace`)."""
    times = np.arange(config.steps + 1) * config.step_s
    outage = config.oracle.sequencer
    if outage is None:
        none = np.zeros(config.steps + 1, dtype=bool)
        return none, none
    up_at = outage.down_at_s + outage.duration_s
    down = (times >= outage.down_at_s) & (times < up_at)
    blocked = (times >= outage.down_at_s) & (times <= up_at + outage.grace_s)
    return down, blocked


def simulate_source(
    source: SourceConfig, prices: np.ndarray, config: SimConfig, first: int, index: int, decimals: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(answer, updated_at, lands, observed_at) of one source on paths `first..` (rows of
    `prices`): `observed_at` is when the round on chain was published (the price it carries is
    the market's then), `updated_at` the block it landed in (pull: both its publish time)."""
    count, columns = prices.shape
    dt = config.step_s
    scale = 10.0**decimals
    answers = np.rint(prices * scale)
    answer = np.empty_like(prices)
    updated = np.zeros((count, columns), dtype=np.int64)
    lands = np.zeros((count, columns), dtype=bool)
    answer[:, 0] = answers[:, 0]
    lands[:, 0] = True
    down, _ = sequencer_blocked(config)
    frozen_from = math.inf if source.frozen_at_s is None else source.frozen_at_s
    frozen_to = math.inf if source.resume_at_s is None else source.resume_at_s

    if source.kind == "pull":
        window = source.max_staleness_s // dt
        for s in range(1, columns):
            t = s * dt
            if down[s] or frozen_from <= t < frozen_to:
                answer[:, s], updated[:, s] = answer[:, s - 1], updated[:, s - 1]
                continue
            lo_step = max(0, s - window)
            span = answers[:, lo_step : s + 1]
            low, high = span.argmin(axis=1), span.argmax(axis=1)
            now = answers[:, s]
            rows = np.arange(count)
            # The keeper submits the published price most adverse to the side it can liquidate.
            take_low = np.log(now / span[rows, low]) >= np.log(span[rows, high] / now)
            pick = np.where(take_low, low, high)
            answer[:, s] = span[rows, pick]
            updated[:, s] = (lo_step + pick) * dt
            lands[:, s] = True
        return answer, updated, lands, updated.copy()

    base = block_rows(
        config.seed,
        STREAM_ORACLE * 16 + index,
        first,
        count,
        lambda rng, rows: draw_latency(source.latency, rng, rows * columns).reshape(rows, columns),
    )
    moves = np.abs(np.diff(prices, axis=1, prepend=prices[:, :1]) / prices) * 100
    latency = base * (1 + source.latency.congestion * moves)
    if source.latency.max_seconds is not None:
        latency = np.minimum(latency, source.latency.max_seconds)
    land_step = np.arange(columns)[None, :] + np.ceil(latency / dt).astype(np.int64)

    # Publication is sequential (the last triggered answer and time carry from step to step);
    # landing is not: every round is in flight on its own latency draw, several at once.
    last_price = answers[:, 0].copy()
    last_time = np.zeros(count, dtype=np.int64)
    published = np.zeros((count, columns), dtype=bool)
    threshold = source.deviation_bps / BPS
    for s in range(1, columns):
        t = s * dt
        if frozen_from <= t < frozen_to:
            continue
        column = answers[:, s]
        trigger = np.abs(column - last_price) >= threshold * last_price
        if t >= source.heartbeat_s:
            trigger |= t - last_time >= source.heartbeat_s
        published[:, s] = trigger
        last_price = np.where(trigger, column, last_price)
        last_time = np.where(trigger, t, last_time)
    observed = newest_landed(published, land_step, down)
    # Each step shows the newest round landed by then; `updatedAt` is the block it landed in.
    lands[:, 1:] = observed[:, 1:] != observed[:, :-1]
    landed_at = np.maximum.accumulate(np.where(lands, np.arange(columns)[None, :], 0), axis=1)
    answer = np.take_along_axis(answers, observed, axis=1)
    answer[:, 0] = answers[:, 0]
    return answer, landed_at * dt, lands, observed * dt


def newest_landed(published: np.ndarray, land_step: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Per path and step: the publication step of the newest round on chain. A round published
    at step p lands at `land_step[:, p]`, or at the first step after it when the sequencer is
    down then; rounds land in any order, and the feed keeps the newest observation (the OCR
    aggregator refuses a report older than the one it holds), so a newer round that lands first
    wins and the older one, landing later, changes nothing. Step 0's opening round is on chain
    from the start."""
    count, columns = published.shape
    up = np.flatnonzero(~down)
    # The first step at or after t where the sequencer is up (columns: never, within the run).
    next_up = np.full(columns + 1, columns, dtype=np.int64)
    if up.size:
        index = np.searchsorted(up, np.arange(columns), side="left")
        next_up[:columns] = np.where(index < up.size, up[np.minimum(index, up.size - 1)], columns)
    arrive = next_up[np.minimum(land_step, columns)]
    best = np.zeros((count, columns + 1), dtype=np.int64)  # the newest publication landing at each step
    rows, steps = np.nonzero(published)
    np.maximum.at(best, (rows, arrive[rows, steps]), steps)
    return np.maximum.accumulate(best[:, :columns], axis=1)


def simulate_oracle(config: SimConfig, prices: np.ndarray, first: int = 0) -> OracleTimeline:
    """The on-chain oracle of paths `first..first+len(prices)-1`."""
    market = config.market()
    decimals = market.feed_decimals
    sources = config.oracle.sources
    times = np.arange(prices.shape[1], dtype=np.int64) * config.step_s
    _, seq_blocked = sequencer_blocked(config)
    full = [simulate_source(s, prices, config, first, i, decimals) for i, s in enumerate(sources)]
    results = [r[:3] for r in full]
    if len(results) == 1:
        answer, updated, lands, observed = full[0]
        newest = updated
        blocked = np.where(times[None, :] - updated > market.oracle_max_age, STALE, OK).astype(np.int8)
    else:
        answer, updated, lands, blocked, newest, observed = median_mark(config, results, times, [r[3] for r in full])
        lands = np.logical_or.reduce([r[2] for r in results])
    blocked[:, seq_blocked] = SEQUENCER
    if config.keepers.update_mark:
        blocked = price_band(config, answer, newest, lands, blocked, times)
    return OracleTimeline(answer, updated, lands, blocked, decimals, results if len(results) > 1 else [], observed)


def price_lag(timeline: OracleTimeline, prices: np.ndarray, step_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Per path and step: how far the chain's price is behind the market's, in seconds (now
    minus when the price on chain was observed) and in bps of the market price (positive: the
    chain shows more than the market, as in a crash)."""
    times = np.arange(prices.shape[1], dtype=np.int64)[None, :] * step_s
    seconds = times - timeline.observed_at
    bps = (timeline.price() - prices) / prices * BPS
    return seconds, bps


def median_mark(
    config: SimConfig,
    results: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    times: np.ndarray,
    observed: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, ...]:
    """The adapter's mark at every step (OracleAdapter._evaluate): a source is fresh when
    `now - updatedAt <= max_age`; the mark is the LOWER median of the fresh answers (the one at
    index (fresh - 1) // 2 sorted ascending: an even count takes the lower middle one, no
    averaging); a source agrees when `|answer - mark| x 10000 <= mark x max_spread_bps`. Fewer
    than `quorum` fresh or agreeing sources: degraded. `updated`: the oldest agreeing observation
    (what `priceWithTime` reports). All sources share the feed's decimals, so comparing answers
    is comparing the adapter's WAD prices."""
    answers = np.stack([r[0] for r in results])  # sources x paths x steps
    updated = np.stack([r[1] for r in results])
    max_ages = np.array([s.max_age_s for s in config.oracle.sources])[:, None, None]
    fresh = (times[None, None, :] - updated <= max_ages) & (updated <= times[None, None, :])
    count = fresh.sum(axis=0)
    ordered = np.sort(np.where(fresh, answers, np.inf), axis=0)  # the stale ones last
    mark = np.take_along_axis(ordered, ((np.maximum(count, 1) - 1) // 2)[None], axis=0)[0]
    mark = np.where(count > 0, mark, 0.0)
    agree = fresh & (np.abs(answers - mark[None]) * BPS <= mark[None] * config.oracle.max_spread_bps)
    agreeing = agree.sum(axis=0)
    quorum = config.oracle.quorum
    degraded = (count < quorum) | (agreeing < quorum)
    oldest = np.where(agree, updated, np.iinfo(np.int64).max).min(axis=0)
    # Forward-fill over degraded steps (nothing reads the mark there): the last live mark.
    live = np.where(~degraded, np.arange(mark.shape[1])[None, :], 0)
    last = np.maximum.accumulate(live, axis=1)
    mark = np.take_along_axis(mark, last, axis=1)
    oldest = np.take_along_axis(np.where(degraded, 0, oldest), last, axis=1)
    if degraded[:, 0].any():
        raise ValueError("the oracle set is degraded at t=0: no opening price")
    newest = np.where(agree, updated, -1).max(axis=0)
    newest = np.take_along_axis(np.where(degraded, 0, newest), last, axis=1)
    seen = np.stack(observed) if observed is not None else updated
    seen = np.where(agree, seen, np.iinfo(np.int64).max).min(axis=0)
    seen = np.take_along_axis(np.where(degraded, 0, seen), last, axis=1)
    lands = np.zeros(mark.shape, dtype=bool)
    lands[:, 0] = True
    lands[:, 1:] = (mark[:, 1:] != mark[:, :-1]) | (oldest[:, 1:] != oldest[:, :-1])
    blocked = np.where(degraded, DEGRADED, OK).astype(np.int8)
    return mark, oldest, lands, blocked, newest, seen


def price_band(
    config: SimConfig, mark: np.ndarray, newest: np.ndarray, lands: np.ndarray, blocked: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """`blocked` with the steps where the adapter's price band refuses the mark (BAND), when a
    keeper calls `updateMark` in every block where a round lands (tier 1 does, at the opening
    round and then after each step's rounds). Mirrors `OracleAdapter.updateMark` and
    `_passes_band`: no band, no accepted mark, the accepted mark older than the window, a mark
    within the band of it, or one confirmed by a pending mark beyond the band on the same side
    that was observed before this one (`newest` agreeing observation later) passes. An accepted
    mark replaces the last one (time: the block); a refused one becomes the pending mark."""
    market = next(m for m in config.protocol().markets if m.market_id == config.market_id)
    band, window = market.price_band_bps, market.price_band_window
    blocked = blocked.copy()
    if band == 0:
        return blocked
    last = mark[:, 0].copy()  # the opening round's updateMark: nothing accepted yet, so it passes
    accepted_at = np.zeros(mark.shape[0])
    pending = np.zeros(mark.shape[0])
    pending_at = np.zeros(mark.shape[0])

    def passes(s: int) -> np.ndarray:
        m = mark[:, s]
        within = np.abs(m - last) * BPS <= last * band
        confirmed = (pending != 0) & ((pending > last) == (m > last)) & (newest[:, s] > pending_at)
        return (times[s] - accepted_at > window) | within | confirmed

    for s in range(1, mark.shape[1]):
        live = blocked[:, s] == OK
        call = live & lands[:, s]
        ok = passes(s)
        accept, refuse = call & ok, call & ~ok
        last = np.where(accept, mark[:, s], last)
        accepted_at = np.where(accept, times[s], accepted_at)
        pending = np.where(accept, 0.0, np.where(refuse, mark[:, s], pending))
        pending_at = np.where(accept, 0.0, np.where(refuse, newest[:, s], pending_at))
        blocked[live & ~passes(s), s] = BAND
    return blocked
