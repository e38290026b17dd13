"""Tier 2, vectorised: many paths at once, in floats, against an array namespace.

What it computes the same way as tier 1: the oracle timeline (simulator.oracles, shared), the
population and the opening book as the router fills it (open-interest and utilisation
refusals), fees and fee split, funding at its fixed point (liquidations move the skew, the skew
the rate), the keepers' rule at every step (lag, the engine's tier at each step's price, the
reward against that step's gas, capacity per block, outages), execution with slippage and skew
impact, keeper reward, penalty, and the waterfall walked event by event (insurance bucket,
safety module slashed up to `maxSlashBps` of its assets at the start of the slash window across
all of the window's shortfalls, then the pool); with market depth (simulator.cascade) the path
the oracle watches moves with the liquidation flow, solved as a fixed point.

What it does not model in closed form, handed to tier 1 per path (simulator.fidelity,
warning FastTierFallback): partial-liquidation tranches and ADL trades. Floats instead of
integer rounding: a price within ~1e-9 of a threshold may fall either way (ties, counted).

Liquidation steps are first passages: per path and rate, the series the liquidation condition
compares against (oracle price, shifted by funding, worst of now and `lag` steps ago, blocked
steps excluded) is reduced to its running minimum (longs) or maximum (shorts), and every
position's threshold is found in it with one `searchsorted` over all paths (paths laid end to
end at disjoint offsets); where the tier or the gas can change the answer, the first passages
at the loosest and tightest tiers bound it and the exact per-step rule settles it in between.
Written against `xp` (NumPy by default) with operations CuPy provides, so `xp=cupy` runs it
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.cascade import MAX_ROUNDS, depth_shift, gas_cost_usd, keeper_down, moved_prices
from simulator.config import SimConfig
from simulator.fidelity import LAG_BUCKETS, FastTierFallback, replace_with_exact, warn_outside_regime  # noqa: F401 (re-exported)
from simulator.oracles import OK, simulate_oracle
from simulator.paths import generate_paths
from simulator.population import Population, keeper_latency_steps, sample_population

BPS = 10_000.0
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
    exact_paths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # run on tier 1


@dataclass(frozen=True)
class OpenBook:
    """The population right after opening, in USD floats: only the orders that filled (`filled`
    holds their population indices; the router cancels the others)."""

    size: np.ndarray  # base units (signed)
    entry: np.ndarray
    margin: np.ndarray
    filled: np.ndarray  # population index of each filled order
    insurance: float
    safety_module: float
    pool_cash: float  # the pool's cash after the opens (deposit plus its fee share)


def open_book(config: SimConfig, pop: Population, start_price: float) -> OpenBook:
    """The orders fill one after another at the opening round, each priced at the skew the
    previous fills left; an order that would take a side over its open-interest cap
    (`OpenInterestCapExceeded`) or the reserves over the pool's utilisation limit
    (`UtilisationCapExceeded`: entry notional x reserveFactor against cash x maxUtilisation) is
    cancelled by the router (`OrderCancelled`) and moves nothing."""
    m = config.market()
    system = config.system
    unit = 10.0**system.collateral_decimals
    spread = m.spread_bps / BPS
    fee_bps = m.trading_fee_bps / BPS
    pool_share = 1 - (system.insurance_share_bps + system.safety_module_share_bps) / BPS
    max_long, max_short = m.max_long_open_interest / 1e18, m.max_short_open_interest / 1e18
    reserve, max_use = system.reserve_factor_bps / BPS, system.max_utilisation_bps / BPS
    cash = pop.lp_deposit / unit
    long_size = short_size = entry_notional = skew = fees = 0.0
    sizes, entries, margins, filled = [], [], [], []
    for i, (raw, posted) in enumerate(zip(pop.sizes, pop.margins, strict=True)):
        size = raw / 1e18
        impact = float(skew_impact(np, m, start_price, skew, size, unit))
        entry = start_price * (1 + spread) + impact if size > 0 else start_price * (1 - spread) - impact
        fee = abs(size) * entry * fee_bps
        longs, shorts = long_size + max(size, 0.0), short_size + max(-size, 0.0)
        reserved = (entry_notional + abs(size) * entry) * reserve
        if (size > 0 and longs > max_long) or (size < 0 and shorts > max_short) or reserved > cash * max_use:
            continue
        long_size, short_size, skew = longs, shorts, skew + size
        entry_notional += abs(size) * entry
        cash += fee * pool_share
        fees += fee
        sizes.append(size)
        entries.append(entry)
        margins.append(posted / unit - fee)
        filled.append(i)
    return OpenBook(
        size=np.array(sizes, dtype=float),
        entry=np.array(entries, dtype=float),
        margin=np.array(margins, dtype=float),
        filled=np.array(filled, dtype=np.int64),
        insurance=pop.insurance / unit + fees * system.insurance_share_bps / BPS,
        safety_module=pop.safety_module / unit + fees * system.safety_module_share_bps / BPS,
        pool_cash=cash,
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


MAX_FUNDING_PASSES = 12  # fixed-point passes of funding (liquidations move the skew, the skew the funding)
MAX_DEFERRALS = 400  # rounds of the keeper-capacity queue (each settles the earliest full block of a path)
SCAN_WINDOW = 32  # steps per round of the per-step scan (doubling)


class _Chunk:
    """One chunk of paths on one market path (the depth model moves it between rounds)."""

    def __init__(self, config: SimConfig, first: int, count: int, xp: Any, market: np.ndarray) -> None:
        self.config, self.first, self.count, self.xp = config, first, count, xp
        m = self.m = config.market()
        unit = self.unit = 10.0**config.system.collateral_decimals
        self.market = market
        tl = self.timeline = simulate_oracle(config, market, first)
        self.pop = sample_population(config, int(tl.answer[0, 0]))
        self.book = open_book(config, self.pop, float(tl.answer[0, 0]) / 10.0**tl.decimals)
        self.lag = xp.asarray(keeper_latency_steps(config, first, count))
        oracle = self.oracle = xp.asarray(tl.price())
        blocked = xp.asarray(tl.blocked) != OK
        blocked[:, 0] = True  # the setup block liquidates nothing
        self.blocked = blocked
        steps = self.steps = int(oracle.shape[1])
        self.dt = float(config.step_s)
        self.size, self.entry, self.margin = (
            xp.asarray(a) for a in (self.book.size, self.book.entry, self.book.margin)
        )
        self.n = int(self.size.shape[0])
        self.columns = xp.arange(steps)[None, :]
        self.earlier = xp.clip(self.columns - self.lag[:, None], 0, steps - 1)
        self.oracle_then = xp.take_along_axis(oracle, self.earlier, axis=1)
        down = xp.asarray(keeper_down(config))[None, :]
        self.excluded = blocked | xp.take_along_axis(blocked, self.earlier, axis=1) | down
        self.gas = xp.floor(xp.asarray(gas_cost_usd(config, market)) * unit) / unit  # what tier 1 compares
        self.caps = xp.asarray(np.array(m.tier_notional_caps[:3], dtype=float) / unit)
        self.rates = xp.asarray(np.array(m.tier_maintenance_bps, dtype=float) / BPS)
        self.fixed, self.reward_bps = m.keeper_fixed_reward / unit, m.keeper_reward_bps / BPS
        self.reward_cap = m.keeper_reward_cap / unit
        safe = xp.where(self.size == 0, 1.0, self.size)
        self.threshold = self.entry - self.margin / safe
        self.high = float(xp.max(oracle)) if oracle.size else 0.0
        self.low = float(xp.min(oracle)) if oracle.size else 0.0
        a = xp.abs(self.size)
        reward_low = xp.minimum(self.fixed + a * self.low * self.reward_bps, self.reward_cap)
        self.gas_binds = reward_low < float(xp.max(self.gas))
        self.F = None

    # The liquidation rule

    def bound_rates(self) -> None:
        """Per position, at the current funding: the loosest tier rate it can be liquidated at
        (rates grow with notional, so the tier at the highest price of its liquidation region),
        whose first passage bounds the true one from below, and whether the per-step rule must
        settle it (its tier can change inside that region, or its reward fall under the gas).
        A long can only be liquidatable below (threshold + max F) / (1 - top rate), a short only
        above (threshold + min F) / (1 + top rate): the tier elsewhere does not matter."""
        xp = self.xp
        a = xp.abs(self.size)
        top = float(xp.max(self.rates))
        f_high, f_low = float(xp.max(self.F)), float(xp.min(self.F))
        longs = self.size > 0
        ceiling = xp.minimum(self.high, xp.maximum((self.threshold + f_high) / (1 - top), self.low))
        floor = xp.maximum(self.low, xp.minimum((self.threshold + f_low) / (1 + top), self.high))
        loose = xp.where(longs, ceiling, self.high)
        tight = xp.where(longs, self.low, floor)
        self.r_loose = self.rate_of(a * loose)
        self.r_tight = self.rate_of(a * tight)
        self.check = (self.r_loose != self.r_tight) | self.gas_binds

    def rate_of(self, notional: Any) -> Any:
        """PerpEngine._maintenance_margin's tier: the first whose cap covers the notional rounded up."""
        xp = self.xp
        up = xp.ceil(notional * self.unit) / self.unit
        return self.rates[xp.searchsorted(self.caps, up, side="left")]

    def cond(self, rows: Any, cols: Any, pos: Any) -> Any:
        """Whether keepers liquidate position `pos` at step `cols` of path `rows` (broadcast): seen
        liquidatable `lag` steps ago and liquidatable now, each at its own tier, the step open, the
        reward covering the step's gas."""
        xp = self.xp
        p, f = self.oracle[rows, cols], self.F[rows, cols]
        e = self.earlier[rows, cols]
        pt, ft = self.oracle[rows, e], self.F[rows, e]
        s = self.size[pos]
        a, thr, longs = xp.abs(s), self.threshold[pos], s > 0
        rn, rt = self.rate_of(a * p), self.rate_of(a * pt)
        now = xp.where(longs, p * (1 - rn) - f < thr, p * (1 + rn) - f > thr)
        then = xp.where(longs, pt * (1 - rt) - ft < thr, pt * (1 + rt) - ft > thr)
        reward = xp.minimum(self.fixed + a * p * self.reward_bps, self.reward_cap)
        return now & then & ~self.excluded[rows, cols] & (reward >= self.gas[rows, cols])

    def scan(self, rows: Any, pos: Any, start: Any, stop: Any = None) -> Any:
        """Per pair (path, position): the first step at or after `start` where `cond` holds
        (`steps` when none; `stop` when none before it, where given), in doubling windows."""
        xp = self.xp
        steps = self.steps
        start = xp.array(start, dtype=xp.int64, copy=True)
        stop = xp.full(rows.shape[0], steps, dtype=xp.int64) if stop is None else xp.minimum(stop, steps)
        out = xp.array(stop, copy=True)
        active = xp.nonzero(start < stop)[0]
        width = SCAN_WINDOW
        while active.shape[0]:
            cols = start[active][:, None] + xp.arange(width)[None, :]
            inside = cols < stop[active][:, None]
            c = self.cond(rows[active][:, None], xp.minimum(cols, steps - 1), pos[active][:, None]) & inside
            found = xp.any(c, axis=1)
            first = xp.argmax(c, axis=1)
            out[active[found]] = (start[active] + first)[found]
            start[active] = start[active] + width
            active = active[~found & (start[active] < stop[active])]
            width = min(2 * width, 1024)
        return out

    def funding_after(self, tau: Any, rows: Any = None) -> Any:
        """The funding index per unit (USD) each step's liquidation would see, given the
        liquidations in `tau` (of paths `rows`; None: all), as the engine accrues it: only when
        an action touches the market (here: the liquidation steps), at the rate of the skew left
        by the previous action, priced at the oracle of the accruing block."""
        xp, steps, columns = self.xp, self.steps, self.columns
        count = tau.shape[0]
        oracle = self.oracle if rows is None else self.oracle[rows]
        skew_scale, max_rate = self.m.skew_scale / 1e18, self.m.max_funding_rate_per_second / 1e18
        flat = (tau + xp.arange(count)[:, None] * (steps + 1)).reshape(-1)
        weights = xp.broadcast_to(self.size, tau.shape).reshape(-1)
        closed = xp.bincount(flat, weights=weights, minlength=count * (steps + 1)).reshape(count, steps + 1)
        acted = xp.bincount(flat, minlength=count * (steps + 1)).reshape(count, steps + 1)[:, :steps] > 0
        acted[:, 0] = True  # the opens
        skew = float(xp.sum(self.size)) - xp.cumsum(closed[:, :steps], axis=1)
        rate_after = xp.clip(skew / skew_scale * max_rate, -max_rate, max_rate)
        last = _running(xp, xp.where(acted, columns, 0), False)  # the last action at or before t
        before = xp.concatenate([xp.zeros((count, 1), dtype=last.dtype), last[:, :-1]], axis=1)  # strictly before
        rate_before = xp.take_along_axis(rate_after, before, axis=1)
        pending = rate_before * (columns - before) * self.dt * oracle
        committed = xp.cumsum(xp.where(acted, pending, 0.0), axis=1)  # index after each action's accrual
        return xp.take_along_axis(committed, before, axis=1) + pending

    def passages(self, rows: Any) -> tuple[Any, Any]:
        """Liquidation steps (and threshold ties) of paths `rows` (None: all) at the current funding."""
        xp, steps, size = self.xp, self.steps, self.size

        def sel(a: Any) -> Any:
            return a if rows is None else a[rows]

        oracle, oracle_then, excluded, funding = (
            sel(self.oracle),
            sel(self.oracle_then),
            sel(self.excluded),
            sel(self.F),
        )
        funding_then = xp.take_along_axis(funding, sel(self.earlier), axis=1)
        count = oracle.shape[0]
        self.bound_rates()

        def first(rates: Any, chosen: Any, record_ties: bool) -> tuple[Any, Any]:
            """First passages of the positions in `chosen`, each at its rate in `rates`."""
            tau = xp.full((count, self.n), steps, dtype=xp.int64)
            ties = xp.zeros((count, self.n), dtype=bool)
            for longs in (True, False):
                side = chosen & ((size > 0) if longs else (size < 0))
                for r in sorted({float(x) for x in to_np(rates[side])}):
                    mine = side & (rates == r)
                    # long: p (1 - r) - F < entry - margin / size; short: p (1 + r) - F > entry + margin / |size|
                    factor = (1 - r) if longs else (1 + r)
                    now, then = oracle * factor - funding, oracle_then * factor - funding_then
                    worst = xp.maximum(now, then) if longs else xp.minimum(now, then)
                    worst[excluded] = xp.inf if longs else -xp.inf
                    threshold = self.threshold[mine]
                    index = xp.nonzero(mine)[0]
                    hit = first_passage(xp, worst, xp.broadcast_to(threshold, (count, threshold.shape[0])), longs)
                    tau[:, index] = hit
                    if record_ties:
                        value = xp.take_along_axis(worst, xp.clip(hit, 0, steps - 1), axis=1)
                        near = xp.abs(value - threshold[None, :]) <= 1e-9 * xp.abs(threshold[None, :]) + 1e-12
                        ties[:, index] = near & (hit < steps)
            return tau, ties

        everyone = xp.ones(self.n, dtype=bool)
        tau, ties = first(self.r_loose, everyone, True)
        # A tier-only check is bounded above by the first passage at its tightest tier (that rule
        # implies the true one); gas has no such bound.
        bounded = self.check & ~self.gas_binds
        stop = first(self.r_tight, bounded, False)[0] if bool(xp.any(bounded)) else None
        global_rows = xp.arange(count) if rows is None else rows
        tau = self.settle(tau, global_rows, stop)
        return self.queue(tau, global_rows), ties

    def settle(self, tau: Any, rows: Any, stop: Any = None) -> Any:
        """The positions whose first passage is only a lower bound (tier or gas may differ at
        it), stepped forward from it with the per-step rule, up to `stop` where given."""
        xp = self.xp
        checked = xp.nonzero(self.check)[0]
        if checked.shape[0] == 0:
            return tau
        sub = tau[:, checked]
        r, c = xp.nonzero(sub < self.steps)
        if r.shape[0]:
            # The loose rule is necessary, so its first passage is the true one where the exact
            # rule holds there; only the others step on.
            at = sub[r, c]
            fail = ~self.cond(rows[r], at, checked[c])
            r, c = r[fail], c[fail]
            limit = None if stop is None else stop[:, checked][r, c]
            sub[r, c] = self.scan(rows[r], checked[c], at[fail] + 1, limit)
            tau[:, checked] = sub
        return tau

    def queue(self, tau: Any, rows: Any) -> Any:
        """Keeper capacity: at most `capacity` liquidations per block, in account order; the rest
        wait and are liquidated at the first later step where the rule holds again (tier 1's
        keepers re-check every block). Each round settles the earliest full block of every path."""
        capacity = self.config.keeper_limits.capacity()
        xp, n, steps = self.xp, self.n, self.steps
        self.unqueued = xp.zeros(tau.shape[0], dtype=bool)
        if capacity is None or n <= capacity:
            return tau
        ids = xp.arange(n)[None, :]
        for _ in range(MAX_DEFERRALS):
            order = xp.argsort(tau * n + ids, axis=1)
            key = xp.take_along_axis(tau, order, axis=1)
            fresh = xp.concatenate([xp.ones((tau.shape[0], 1), dtype=bool), key[:, 1:] != key[:, :-1]], axis=1)
            rank = ids - _running(xp, xp.where(fresh, ids, 0), False)
            over = (rank >= capacity) & (key < steps)
            if not bool(xp.any(over)):
                return tau
            earliest = xp.min(xp.where(over, key, steps), axis=1)
            r, k = xp.nonzero(over & (key == earliest[:, None]))
            c = order[r, k]
            tau[r, c] = self.scan(rows[r], c, tau[r, c] + 1)
        self.unqueued = xp.ones(tau.shape[0], dtype=bool)  # did not settle: tier 1 takes these paths
        return tau

    def solve(self) -> None:
        """Liquidation steps with funding at its fixed point: liquidations move the skew, the skew
        the funding rate, funding the liquidation prices; repeated on the paths whose funding
        changed until their steps no longer move (`MAX_FUNDING_PASSES`)."""
        xp = self.xp
        self.F = self.funding_after(xp.full((self.count, self.n), self.steps, dtype=xp.int64))
        tau, ties = self.passages(None)
        unqueued = self.unqueued.copy()
        self.unsettled = xp.zeros(self.count, dtype=bool)
        rows = xp.arange(self.count)  # the paths whose steps moved: their funding is re-priced
        for _ in range(MAX_FUNDING_PASSES):
            funding = self.funding_after(tau[rows], rows)
            changed = rows[xp.any(funding != self.F[rows], axis=1)]
            self.F[rows] = funding
            if changed.shape[0] == 0:
                break
            moved, moved_ties = self.passages(changed)
            unqueued[changed] = self.unqueued
            rows = changed[xp.any(moved != tau[changed], axis=1)]
            tau[changed], ties[changed] = moved, moved_ties
            if rows.shape[0] == 0:
                break
        else:
            self.unsettled[rows] = True
        self.tau, self.ties, self.unqueued = tau, ties, unqueued

    def sold_usd(self) -> np.ndarray:
        """Net USD sold per path and step by the liquidations (the depth model's flow)."""
        xp, count, steps = self.xp, self.count, self.steps
        hit = self.tau < steps
        price = xp.take_along_axis(self.oracle, xp.clip(self.tau, 0, steps - 1), axis=1)
        flat = (self.tau + xp.arange(count)[:, None] * (steps + 1)).reshape(-1)
        sold = xp.where(hit, self.size[None, :] * price, 0.0).reshape(-1)
        return to_np(
            xp.bincount(flat, weights=sold, minlength=count * (steps + 1)).reshape(count, steps + 1)[:, :steps]
        )

    def account(self) -> tuple[dict[str, Any], Any, Any, Any]:
        """Each liquidation at its step (execution, realised, reward, penalty, shortfall), the
        waterfall event by event, and the per-path figures. Returns (values, gap sums and
        counts per path and lag bucket, the paths tier 2 cannot stand for)."""
        xp, m, unit, config = self.xp, self.m, self.unit, self.config
        count, steps, n, dt = self.count, self.steps, self.n, self.dt
        size, entry, margin, oracle, tau = self.size, self.entry, self.margin, self.oracle, self.tau
        book = self.book
        hit = tau < steps
        at = xp.clip(tau, 0, steps - 1)
        price = xp.take_along_axis(oracle, at, axis=1)
        funding = xp.take_along_axis(self.F, at, axis=1)
        notional = xp.abs(size)[None, :] * price
        reward = xp.minimum(self.fixed + notional * self.reward_bps, self.reward_cap)
        # Events in (step, position) order; each closing trade is priced at the skew the earlier
        # liquidations left (the skew impact of a trade that moves |skew| away from zero).
        order = xp.argsort(tau * n + xp.arange(n)[None, :], axis=1)
        closed = xp.take_along_axis(xp.where(hit, size[None, :], 0.0), order, axis=1)
        skew_sorted = float(xp.sum(size)) - xp.cumsum(closed, axis=1) + closed
        skew_before = xp.take_along_axis(skew_sorted, xp.argsort(order, axis=1), axis=1)
        impact = skew_impact(xp, m, price, skew_before, -size[None, :], unit)
        slip = m.liquidation_slippage_bps / BPS
        execution = xp.where(
            size[None, :] > 0, xp.maximum(price * (1 - slip) - impact, 0.0), price * (1 + slip) + impact
        )
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
        last = xp.asarray(self.market[:, -1:])
        equity = margin[None, :] + size[None, :] * (last - entry[None, :]) - size[None, :] * self.F[:, -1:]
        unrealised = xp.where((tau >= steps) & (equity < 0), -equity, 0.0).sum(axis=1)

        # ADL: each side's open profit (positions not yet liquidated) over the pool's assets.
        # Tier 2 has no ADL trades: a path whose ratio comes near the trigger runs on tier 1.
        trigger, near = self._adl_ratio(hit)

        # Execution-minus-bankruptcy gap (bps of the bankruptcy price, against the position) by lag.
        updated = xp.asarray(self.timeline.observed_at)  # the price lag: now minus when the chain's price was seen
        oracle_lag = at * dt - xp.take_along_axis(updated, at, axis=1)
        gap = xp.where(size[None, :] > 0, bankruptcy - execution, execution - bankruptcy) / xp.maximum(
            bankruptcy, 1e-18
        )
        buckets = xp.asarray(np.array(LAG_BUCKETS[1:], dtype=float))
        which = xp.searchsorted(buckets, oracle_lag.reshape(-1).astype(xp.float64), side="right").reshape(
            oracle_lag.shape
        )
        gap_sum = xp.zeros((count, len(LAG_BUCKETS)))
        gap_count = xp.zeros((count, len(LAG_BUCKETS)))
        for b in range(len(LAG_BUCKETS)):
            sel = hit & (which == b)
            gap_sum[:, b] = xp.sum(xp.where(sel, gap * BPS, 0.0), axis=1)
            gap_count[:, b] = xp.sum(sel, axis=1)

        # Partial liquidation: a position liquidated above the threshold closes in tranches (tier 1).
        partial = xp.any(hit & (xp.ceil(notional * unit) > m.partial_liquidation_threshold), axis=1)
        outside = partial | self.unsettled | self.unqueued
        if config.keepers.adl:
            outside |= near
        values = {
            "shortfall": sf.sum(axis=1),
            **totals,
            "liquidations": hit.sum(axis=1).astype(xp.float64),
            "penalties": pen.sum(axis=1),
            "insurance_touched": (totals["from_insurance"] > 0).astype(xp.float64),
            "insurance_depleted": (depleted_at >= 0).astype(xp.float64),
            "safety_module_slashed": (totals["from_safety_module"] > 0).astype(xp.float64),
            "slash_cap_binds": cap_binds.astype(xp.float64),
            "adl_triggered": trigger.astype(xp.float64),
            "depletion_time": xp.where(depleted_at >= 0, depleted_at * dt, xp.nan),
            "unrealised_shortfall": unrealised,
        }
        return values, gap_sum, gap_count, outside

    def _adl_ratio(self, hit: Any) -> tuple[Any, Any]:
        """Per path: whether a side's open profit over the pool's assets passes the ADL trigger
        at a live step, and whether it comes within 10% of it (tier 1 then runs the path). The
        assets are the pool's cash less both sides' open profit (a lower bound of the
        redemption mark, so the flag errs towards tier 1)."""
        xp, count, steps = self.xp, self.count, self.steps
        size, entry = self.size, self.entry
        flat = (self.tau + xp.arange(count)[:, None] * (steps + 1)).reshape(-1)

        def closed(weights: Any) -> Any:
            w = xp.where(hit, xp.broadcast_to(weights, hit.shape), 0.0).reshape(-1)
            per_step = xp.bincount(flat, weights=w, minlength=count * (steps + 1)).reshape(count, steps + 1)
            return xp.cumsum(per_step[:, :steps], axis=1)  # removed at or before each step

        longs, shorts = xp.where(size > 0, size, 0.0), xp.where(size < 0, -size, 0.0)
        long_size = float(xp.sum(longs)) - closed(longs)
        short_size = float(xp.sum(shorts)) - closed(shorts)
        long_entry = float(xp.sum(longs * entry)) - closed(longs * entry)
        short_entry = float(xp.sum(shorts * entry)) - closed(shorts * entry)
        profit = xp.maximum(
            xp.maximum(self.oracle * long_size - long_entry, 0.0),
            xp.maximum(short_entry - self.oracle * short_size, 0.0),
        )
        both = xp.maximum(self.oracle * long_size - long_entry, 0.0) + xp.maximum(
            short_entry - self.oracle * short_size, 0.0
        )
        assets = xp.maximum(self.book.pool_cash - both, 1e-9)
        ratio = profit / assets
        live = ~self.blocked
        trigger = self.config.system.adl_trigger_bps / BPS
        return xp.any(live & (ratio > trigger), axis=1), xp.any(live & (ratio > 0.9 * trigger), axis=1)


def run_chunk(
    config: SimConfig, first: int, count: int, xp: Any = np, keep_steps: bool = False, prices: Any = None
) -> ChunkResult:
    """Paths `first .. first+count-1`. With the depth model on, the liquidation flow moves the
    market price (simulator.cascade) and the chunk is solved again until its liquidation steps
    no longer change; paths outside what tier 2 models run on tier 1 (FastTierFallback)."""
    base = generate_paths(config, first, count) if prices is None else np.asarray(prices, dtype=float)
    shift = None
    previous = None
    for _ in range(MAX_ROUNDS if config.depth.enabled else 1):
        chunk = _Chunk(config, first, count, xp, moved_prices(base, shift))
        chunk.solve()
        if not config.depth.enabled:
            break
        steps_now = to_np(chunk.tau)
        if previous is not None and np.array_equal(steps_now, previous):
            break
        previous = steps_now
        shift = depth_shift(config, chunk.sold_usd())
    values, gap_sum, gap_count, outside = chunk.account()
    values = {k: np.asarray(to_np(v), dtype=float) for k, v in values.items()}
    gap_sum, gap_count, outside = np.asarray(to_np(gap_sum)), np.asarray(to_np(gap_count)), to_np(outside)
    steps = ties = None
    if keep_steps:
        pop = len(chunk.pop)
        steps = np.full((count, pop), -1, dtype=np.int64)
        ties = np.zeros((count, pop), dtype=bool)
        tau = to_np(chunk.tau)
        steps[:, chunk.book.filled] = np.where(tau < chunk.steps, tau, -1)
        ties[:, chunk.book.filled] = to_np(chunk.ties)
    exact_paths = np.nonzero(outside)[0]
    if exact_paths.size:
        replace_with_exact(config, first, exact_paths, values, gap_sum, gap_count, steps, ties)
    return ChunkResult(
        values=values,
        gap_sum=gap_sum.sum(axis=0),
        gap_count=gap_count.sum(axis=0),
        steps=steps,
        ties=ties,
        exact_paths=first + exact_paths,
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

    warn_outside_regime(config)  # what tier 2 may hand to tier 1, said before running
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
        exact_paths=np.concatenate([p.exact_paths for p in parts]),
    )
