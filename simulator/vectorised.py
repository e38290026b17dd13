"""Tier 2, vectorised and APPROXIMATE: many paths at once, in floats, against an array namespace.

What it computes the same way as tier 1: the oracle timeline (simulator.oracles, shared), the
population and its opening prices, fees and fee split, the keepers' lag rule, the liquidation
condition with tiered maintenance, execution with slippage and impact, keeper reward, penalty
to the insurance bucket, skew impact at the skew each trade meets, and the waterfall walked
event by event (insurance bucket, safety module slashed up to `maxSlashBps` of its assets at the
start of the slash window across all of the window's shortfalls, then the pool).

What it approximates (docs/SIMULATOR.md explains the consequences):
- floats instead of integer rounding (a price within a wei of a threshold may fall either way:
  such ties are counted, not compared);
- funding priced in two passes: at the opening skew, then at the skew the first pass's
  liquidations leave (tier 1 re-prices the skew at every action);
- a position's maintenance tier fixed at the tier of its liquidation price;
- partial liquidation (positions above the threshold) closed in one step;
- ADL reported as "triggered" from aggregates only (no ADL trades); no socialised-loss haircut.

Liquidation steps are first passages: per path and maintenance tier, the series the
liquidation condition compares against (oracle price, shifted by funding, worst of now and
`lag` steps ago, blocked steps excluded) is reduced to its running minimum (longs) or maximum
(shorts), and every position's threshold is found in it with one `searchsorted` over all paths
(paths laid end to end at disjoint offsets). Written against `xp` (NumPy by default) with
operations CuPy provides, so `xp=cupy` runs it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.config import SimConfig
from simulator.oracles import OK, simulate_oracle
from simulator.paths import generate_paths
from simulator.population import Population, keeper_latency_steps, sample_population

BPS = 10_000.0
LAG_BUCKETS = (0, 60, 300, 900, 3600)  # seconds: gap statistics by oracle lag
RESULT_FIELDS = (
    "shortfall",
    "from_insurance",
    "from_safety_module",
    "from_pool",
    "liquidations",
    "penalties",
    "insurance_touched",
    "insurance_depleted",
    "safety_module_slashed",
    "slash_cap_binds",
    "adl_triggered",
    "depletion_time",
    "unrealised_shortfall",
)


@dataclass
class ChunkResult:
    """Per path (1-D arrays of length = paths in the chunk) plus gap sums by lag bucket."""

    values: dict[str, np.ndarray]
    gap_sum: np.ndarray  # per lag bucket: sum of (bankruptcy - execution) / bankruptcy, bps
    gap_count: np.ndarray
    steps: np.ndarray | None = None  # (paths, positions) liquidation step, -1 never (keep_steps)
    ties: np.ndarray | None = None  # (paths, positions) within a hair of the threshold


@dataclass(frozen=True)
class OpenBook:
    """The population right after opening, in USD floats."""

    size: np.ndarray  # base units (signed)
    entry: np.ndarray
    margin: np.ndarray
    rate: np.ndarray  # maintenance rate at the liquidation price
    insurance: float
    safety_module: float
    funding_rate: float  # fraction of price per second (positive: longs pay)


def open_book(config: SimConfig, pop: Population, start_price: float) -> OpenBook:
    m = config.market()
    unit = 10.0**config.system.collateral_decimals
    size = np.array(pop.sizes, dtype=float) / 1e18
    # The orders fill one after another, each priced at the skew the previous ones left.
    skew_before = np.cumsum(size) - size
    impact = skew_impact(np, m, start_price, skew_before, size, unit)
    spread = m.spread_bps / BPS
    entry = np.where(size > 0, start_price * (1 + spread) + impact, start_price * (1 - spread) - impact)
    fee = np.abs(size) * entry * m.trading_fee_bps / BPS
    margin = np.array(pop.margins, dtype=float) / unit - fee
    fees = fee.sum()
    caps = np.array(m.tier_notional_caps[:3], dtype=float) / unit
    rates = np.array(m.tier_maintenance_bps, dtype=float) / BPS
    rate = np.full(len(size), rates[0])
    for _ in range(2):  # the tier at the liquidation price (a fixed point, two passes)
        price = np.where(size > 0, (entry - margin / size) / (1 - rate), (entry - margin / size) / (1 + rate))
        rate = rates[np.searchsorted(caps, np.abs(size) * np.maximum(price, 0), side="left")]
    skew = size.sum()
    scale = m.skew_scale / 1e18
    max_rate = m.max_funding_rate_per_second / 1e18
    funding = float(np.clip(skew / scale * max_rate, -max_rate, max_rate))
    return OpenBook(
        size=size,
        entry=entry,
        margin=margin,
        rate=rate,
        insurance=pop.insurance / unit + fees * config.system.insurance_share_bps / BPS,
        safety_module=pop.safety_module / unit + fees * config.system.safety_module_share_bps / BPS,
        funding_rate=funding,
    )


def skew_impact(xp: Any, m: Any, price: Any, skew_before: Any, size_delta: Any, unit: float) -> Any:
    """PerpEngine._impact_price in floats (USD per unit of size): moving |skew| away from zero
    from `from` to `to` costs k (to^2 - from^2) / 2, k = price^2 x impactBps / reference
    notional; reducing |skew| costs nothing; capped at `maxImpactBps` of the price."""
    after = skew_before + size_delta
    to = xp.abs(after)
    start = xp.where((skew_before > 0) == (after > 0), xp.abs(skew_before), 0.0)
    mean_skew = xp.where(to > start, (to - start) * (to + start) / xp.maximum(2 * xp.abs(size_delta), 1e-300), 0.0)
    impact = mean_skew * price * price / (m.impact_reference_notional / unit) * m.impact_bps / BPS
    return xp.minimum(impact, price * m.max_impact_bps / BPS)


def _running(xp: Any, values: Any, longs: bool) -> Any:
    """Running minimum (`longs`) or maximum along each row."""
    op = xp.minimum if longs else xp.maximum
    try:
        return op.accumulate(values, axis=1)
    except (AttributeError, NotImplementedError):
        pass
    out = xp.array(values, copy=True)  # a namespace without ufunc.accumulate: a loop over steps
    for s in range(1, values.shape[1]):
        out[:, s] = op(out[:, s - 1], out[:, s])
    return out


def first_passage(xp: Any, series: Any, thresholds: Any, longs: bool) -> Any:
    """Per path (rows of `series`, paths x steps) and position (columns of `thresholds`, paths x
    positions): the first step where `series < threshold` (longs) or `series > threshold`
    (shorts); `steps` (one past the end) when never. One searchsorted over all paths: each
    path's monotone running extremum is shifted by its own offset so the rows stay sorted."""
    rows, steps = series.shape
    key = -_running(xp, series, True) if longs else _running(xp, series, False)
    query = -thresholds if longs else thresholds
    finite = xp.isfinite(key)
    bound = float(xp.max(xp.abs(xp.where(finite, key, 0)))) + float(xp.max(xp.abs(query))) + 1.0
    key = xp.clip(key, -bound, bound)
    offsets = (xp.arange(rows, dtype=xp.float64) * (4 * bound))[:, None]
    flat = (key + offsets).reshape(-1)
    found = xp.searchsorted(flat, (query + offsets).reshape(-1), side="right").reshape(query.shape)
    return found - (xp.arange(rows) * steps)[:, None]


def run_chunk(
    config: SimConfig, first: int, count: int, xp: Any = np, keep_steps: bool = False, prices: Any = None
) -> ChunkResult:
    """Paths `first .. first+count-1`."""
    m = config.market()
    unit = 10.0**config.system.collateral_decimals
    if prices is None:
        prices = generate_paths(config, first, count)
    timeline = simulate_oracle(config, prices, first)
    pop = sample_population(config, int(timeline.answer[0, 0]))
    book = open_book(config, pop, float(timeline.answer[0, 0]) / 10.0**timeline.decimals)
    lag = xp.asarray(keeper_latency_steps(config, first, count))
    oracle = xp.asarray(timeline.price())
    blocked = xp.asarray(timeline.blocked) != OK
    blocked[:, 0] = True  # the setup block liquidates nothing
    steps = oracle.shape[1]
    dt = float(config.step_s)
    size, entry, margin, rate = (xp.asarray(a) for a in (book.size, book.entry, book.margin, book.rate))
    n = size.shape[0]
    columns = xp.arange(steps)[None, :]
    earlier = xp.clip(columns - lag[:, None], 0, steps - 1)
    oracle_then = xp.take_along_axis(oracle, earlier, axis=1)
    excluded = blocked | xp.take_along_axis(blocked, earlier, axis=1)
    skew_scale, max_rate = m.skew_scale / 1e18, m.max_funding_rate_per_second / 1e18

    def funding_after(tau: Any) -> Any:
        """The funding index per unit (USD) each step's liquidation would see, given the
        liquidations in `tau`, as the engine accrues it: only when an action touches the market
        (here: the liquidation steps), at the rate of the skew left by the previous action,
        priced at the oracle of the accruing block."""
        flat = (tau + xp.arange(count)[:, None] * (steps + 1)).reshape(-1)
        weights = xp.broadcast_to(size, tau.shape).reshape(-1)
        closed = xp.bincount(flat, weights=weights, minlength=count * (steps + 1)).reshape(count, steps + 1)
        acted = xp.bincount(flat, minlength=count * (steps + 1)).reshape(count, steps + 1)[:, :steps] > 0
        acted[:, 0] = True  # the opens
        skew = float(xp.sum(size)) - xp.cumsum(closed[:, :steps], axis=1)
        rate_after = xp.clip(skew / skew_scale * max_rate, -max_rate, max_rate)
        last = _running(xp, xp.where(acted, columns, 0), False)  # the last action at or before t
        before = xp.concatenate([xp.zeros((count, 1), dtype=last.dtype), last[:, :-1]], axis=1)  # strictly before
        rate_before = xp.take_along_axis(rate_after, before, axis=1)
        pending = rate_before * (columns - before) * dt * oracle
        committed = xp.cumsum(xp.where(acted, pending, 0.0), axis=1)  # index after each action's accrual
        return xp.take_along_axis(committed, before, axis=1) + pending

    def passages(funding_index: Any) -> tuple[Any, Any]:
        tau = xp.full((count, n), steps, dtype=xp.int64)
        ties = xp.zeros((count, n), dtype=bool)
        funding_then = xp.take_along_axis(funding_index, earlier, axis=1)
        for longs in (True, False):
            side = (size > 0) if longs else (size < 0)
            for r in sorted({float(x) for x in to_np(rate[side])}):
                mine = side & (rate == r)
                # long: p (1 - r) - F < entry - margin / size; short: p (1 + r) - F > entry + margin / |size|
                factor = (1 - r) if longs else (1 + r)
                now, then = oracle * factor - funding_index, oracle_then * factor - funding_then
                worst = xp.maximum(now, then) if longs else xp.minimum(now, then)
                worst[excluded] = xp.inf if longs else -xp.inf
                threshold = (entry - margin / size)[mine]
                index = xp.nonzero(mine)[0]
                hit = first_passage(xp, worst, xp.broadcast_to(threshold, (count, threshold.shape[0])), longs)
                tau[:, index] = hit
                value = xp.take_along_axis(worst, xp.clip(hit, 0, steps - 1), axis=1)
                near = xp.abs(value - threshold[None, :]) <= 1e-9 * xp.abs(threshold[None, :]) + 1e-12
                ties[:, index] = near & (hit < steps)
        return tau, ties

    # Funding at the opening skew, then once more at the skew the liquidations leave.
    funding_index = funding_after(xp.full((count, n), steps, dtype=xp.int64))
    tau, ties = passages(funding_index)
    funding_index = funding_after(tau)
    tau, ties = passages(funding_index)

    # The liquidation of each position at its step (floats), with the keeper's gas rule.
    hit = tau < steps
    at = xp.clip(tau, 0, steps - 1)
    price = xp.take_along_axis(oracle, at, axis=1)
    funding = xp.take_along_axis(funding_index, at, axis=1)
    notional = xp.abs(size)[None, :] * price
    reward = xp.minimum(m.keeper_fixed_reward / unit + notional * m.keeper_reward_bps / BPS, m.keeper_reward_cap / unit)
    hit &= reward >= pop.gas_cost / unit
    tau = xp.where(hit, tau, steps)
    # Events in (step, position) order; each closing trade is priced at the skew the earlier
    # liquidations left (the skew impact of a trade that moves |skew| away from zero).
    order = xp.argsort(tau * n + xp.arange(n)[None, :], axis=1)
    closed = xp.take_along_axis(xp.where(hit, size[None, :], 0.0), order, axis=1)
    skew_sorted = float(xp.sum(size)) - xp.cumsum(closed, axis=1) + closed
    skew_before = xp.take_along_axis(skew_sorted, xp.argsort(order, axis=1), axis=1)
    impact = skew_impact(xp, m, price, skew_before, -size[None, :], unit)
    slip = m.liquidation_slippage_bps / BPS
    execution = xp.where(size[None, :] > 0, xp.maximum(price * (1 - slip) - impact, 0.0), price * (1 + slip) + impact)
    realised = margin[None, :] + size[None, :] * (execution - entry[None, :]) - size[None, :] * funding
    shortfall = xp.where(hit & (realised < reward), reward - realised, 0.0)
    penalty = xp.where(
        hit & (realised >= reward), xp.minimum(notional * m.liquidation_penalty_bps / BPS, realised - reward), 0.0
    )
    bankruptcy = entry[None, :] + funding - margin[None, :] / size[None, :]

    # The waterfall, event by event in (step, position) order, vectorised over paths.
    sf, pen = (xp.take_along_axis(a, order, axis=1) for a in (shortfall, penalty))
    when = xp.take_along_axis(tau, order, axis=1)
    bucket = xp.full(count, book.insurance)
    assets = xp.full(count, book.safety_module)
    totals = {k: xp.zeros(count) for k in ("from_insurance", "from_safety_module", "from_pool")}
    cap_binds = xp.zeros(count, dtype=bool)
    depleted_at = xp.full(count, -1, dtype=xp.int64)
    slash_bps = config.system.max_slash_bps / BPS
    window = float(config.system.slash_window)
    window_start = xp.full(count, -xp.inf)  # SafetyModule.slash: a slash at or after start + window
    window_assets = xp.zeros(count)  # opens a new window at the assets then; the cap holds
    slashed_in_window = xp.zeros(count)  # across all the window's shortfalls
    events = int(xp.max(xp.sum(hit, axis=1))) if n else 0  # sorted first: later ranks are empty
    for k in range(events):
        s = sf[:, k]
        paid = xp.minimum(s, bucket)
        rest = s - paid
        slashing = rest > 0
        now = when[:, k] * dt
        fresh = slashing & (now >= window_start + window)
        window_start = xp.where(fresh, now, window_start)
        window_assets = xp.where(fresh, assets, window_assets)
        slashed_in_window = xp.where(fresh, 0.0, slashed_in_window)
        cap = xp.maximum(window_assets * slash_bps - slashed_in_window, 0.0)
        slashed = xp.where(slashing, xp.minimum(rest, cap), 0.0)
        cap_binds |= slashing & (rest > cap)
        slashed_in_window = slashed_in_window + slashed
        bucket = bucket - paid + pen[:, k]
        assets = assets - slashed
        totals["from_insurance"] += paid
        totals["from_safety_module"] += slashed
        totals["from_pool"] += rest - slashed
        newly = (depleted_at < 0) & (s > 0) & (bucket <= 1e-9) & (book.insurance > 0)
        depleted_at = xp.where(newly, when[:, k], depleted_at)

    # Open at the horizon: negative equity at the real market price, not yet liquidated (a
    # stuck or stale oracle hides it from the chain; it is bad debt all the same).
    last = xp.asarray(prices[:, -1:])
    equity = margin[None, :] + size[None, :] * (last - entry[None, :]) - size[None, :] * funding_index[:, -1:]
    unrealised = xp.where((tau >= steps) & (equity < 0), -equity, 0.0).sum(axis=1)

    # ADL trigger from aggregates: a side's open profit over the pool's deposit.
    long_size, short_size = float(xp.sum(xp.where(size > 0, size, 0))), float(xp.sum(xp.where(size < 0, -size, 0)))
    long_entry = float(xp.sum(xp.where(size > 0, size * entry, 0)))
    short_entry = float(xp.sum(xp.where(size < 0, -size * entry, 0)))
    profit_long = oracle * long_size - long_entry
    profit_short = short_entry - oracle * short_size
    pool = pop.lp_deposit / unit
    trigger = config.system.adl_trigger_bps / BPS * pool
    adl = xp.any(~blocked & ((profit_long > trigger) | (profit_short > trigger)), axis=1)

    # Execution-minus-bankruptcy gap (bps of the bankruptcy price, against the position) by lag.
    updated = xp.asarray(timeline.observed_at)  # the price lag: now minus when the chain's price was seen
    oracle_lag = at * dt - xp.take_along_axis(updated, at, axis=1)
    gap = xp.where(size[None, :] > 0, bankruptcy - execution, execution - bankruptcy) / xp.maximum(bankruptcy, 1e-18)
    buckets = xp.asarray(np.array(LAG_BUCKETS[1:], dtype=float))
    which = xp.searchsorted(buckets, oracle_lag.reshape(-1).astype(xp.float64), side="right").reshape(oracle_lag.shape)
    gap_sum = xp.zeros(len(LAG_BUCKETS))
    gap_count = xp.zeros(len(LAG_BUCKETS))
    for b in range(len(LAG_BUCKETS)):
        sel = hit & (which == b)
        gap_sum[b] = xp.sum(xp.where(sel, gap * BPS, 0.0))
        gap_count[b] = xp.sum(sel)

    values = {
        "shortfall": sf.sum(axis=1),
        **totals,
        "liquidations": hit.sum(axis=1).astype(xp.float64),
        "penalties": pen.sum(axis=1),
        "insurance_touched": (totals["from_insurance"] > 0).astype(xp.float64),
        "insurance_depleted": (depleted_at >= 0).astype(xp.float64),
        "safety_module_slashed": (totals["from_safety_module"] > 0).astype(xp.float64),
        "slash_cap_binds": cap_binds.astype(xp.float64),
        "adl_triggered": adl.astype(xp.float64),
        "depletion_time": xp.where(depleted_at >= 0, depleted_at * dt, xp.nan),
        "unrealised_shortfall": unrealised,
    }
    return ChunkResult(
        values={k: np.asarray(to_np(v), dtype=float) for k, v in values.items()},
        gap_sum=np.asarray(to_np(gap_sum)),
        gap_count=np.asarray(to_np(gap_count)),
        steps=np.asarray(to_np(xp.where(hit, tau, -1))) if keep_steps else None,
        ties=np.asarray(to_np(ties)) if keep_steps else None,
    )


def to_np(a: Any) -> np.ndarray:
    """A host NumPy array (CuPy arrays copy back with .get())."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def run_vectorised(
    config: SimConfig,
    paths: int | None = None,
    chunk: int = 500,
    xp: Any = np,
    progress: Any = None,
    workers: int = 1,
) -> ChunkResult:
    """All paths of `config` (or the first `paths`), `chunk` at a time: memory is bounded by
    the chunk, not the number of paths. `workers` > 1 runs chunks on that many local processes
    (NumPy only); results are identical either way (per-path random streams)."""
    total = config.paths if paths is None else paths
    starts = list(range(0, total, chunk))
    sizes = [min(chunk, total - first) for first in starts]
    if workers > 1 and len(starts) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_chunk, config, first, size) for first, size in zip(starts, sizes, strict=True)]
            parts = []
            for future, first, size in zip(futures, starts, sizes, strict=True):
                parts.append(future.result())
                if progress is not None:
                    progress(first + size, total)
        return merge(parts)
    parts = []
    for first, size in zip(starts, sizes, strict=True):
        parts.append(run_chunk(config, first, size, xp))
        if progress is not None:
            progress(first + size, total)
    return merge(parts)


def merge(parts: list[ChunkResult]) -> ChunkResult:
    return ChunkResult(
        values={k: np.concatenate([p.values[k] for p in parts]) for k in parts[0].values},
        gap_sum=sum(p.gap_sum for p in parts),
        gap_count=sum(p.gap_count for p in parts),
    )
