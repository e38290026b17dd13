"""Tier agreement over the config space (issue 20 item 1): configs drawn at random (seeded) over
leverage, both sides, partial thresholds, multi-day funding, small pools, open-interest caps,
keeper lag, gas and capacity, every oracle model (push, pull, frozen, a median of three, price
band), sequencer and keeper outages, CSV paths, skew impact and market depth on and off; each
run on both tiers and compared path by path.

Tolerance (docs/SIMULATOR.md): the same positions liquidated at the same steps (threshold ties
excepted), and shortfall and each layer's total within 2% of the path's tier-1 shortfall plus $2.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pymodel.config import default_config, default_market
from simulator.config import SimConfig
from simulator.vectorised import FastTierFallback, run_chunk

RELATIVE = 0.02
ABSOLUTE_USD = 2.0
LAYERS = ("shortfall", "from_insurance", "from_safety_module", "from_pool")


def _csv(path: Path, rng: np.random.Generator, horizon: int, price: float) -> Path:
    gap = int(rng.choice([30, 60, 300]))
    times = np.arange(0, horizon + gap, gap)
    walk = np.cumsum(rng.normal(0, 0.004, times.size)) + np.linspace(0, float(rng.uniform(-0.3, 0.2)), times.size)
    path.write_text(
        "timestamp,price\n" + "".join(f"{t},{price * np.exp(w):.4f}\n" for t, w in zip(times, walk, strict=True))
    )
    return path


def random_config(seed: int, index: int, folder: Path, paths: int = 1) -> SimConfig:
    """Config `index` of the matrix drawn with `seed` (a CSV path, when drawn, written in `folder`)."""
    rng = np.random.default_rng([seed, index])
    price = float(rng.choice([100, 3000, 60000]))
    horizon, step = [(4 * 3600, 60), (2 * 86400, 900), (5 * 86400, 1800)][int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
    unit = 10**6
    market: dict[str, Any] = {}
    if rng.random() < 0.5:
        market["impact_bps"] = int(rng.choice([0, 5, 20]))  # skew impact off or stronger
    if rng.random() < 0.3:
        market["partial_liquidation_threshold"] = int(rng.uniform(20_000, 200_000)) * unit
    if rng.random() < 0.2:
        side = "max_long_open_interest" if rng.random() < 0.5 else "max_short_open_interest"
        market[side] = int(rng.uniform(30_000, 120_000) / price * 1e18)
    if horizon > 86400 or rng.random() < 0.3:  # funding that matters: strong rate, small skew scale
        market["max_funding_rate_per_second"] = 10**18 // 86_400 // int(rng.choice([1, 2, 5]))
        market["skew_scale"] = int(rng.uniform(50_000, 400_000) / price * 1e18)
    oracle_kind = rng.choice(["push", "push", "pull", "frozen", "median"])
    source: dict[str, Any] = dict(
        heartbeat_s=int(rng.choice([600, 1800, 3600])),
        deviation_bps=int(rng.choice([5, 20, 50, 100])),
        latency=dict(kind="fixed", seconds=float(rng.choice([0, 30, 120]))),
    )
    if rng.random() < 0.4:
        source["latency"] = dict(kind="lognormal", seconds=60.0, sigma=0.8, congestion=1.0, max_seconds=900)
    oracle: dict[str, Any] = dict(sources=[source])
    if oracle_kind == "pull":
        oracle = dict(sources=[dict(kind="pull", update_every_s=int(rng.choice([1, 10])), max_staleness_s=60)])
    elif oracle_kind == "frozen":
        source["frozen_at_s"] = int(rng.uniform(0.1, 0.5) * horizon) // step * step
        if rng.random() < 0.5:
            source["resume_at_s"] = source["frozen_at_s"] + horizon // 4
        market["oracle_max_age"] = int(horizon)
    elif oracle_kind == "median":
        one = source | dict(max_age_s=source["heartbeat_s"] + 600)
        oracle = dict(sources=[one | dict(frozen_at_s=horizon // 4), one, one], quorum=2, max_spread_bps=500)
    if rng.random() < 0.2:
        oracle["sequencer"] = dict(down_at_s=horizon // 5, duration_s=horizon // 10, grace_s=int(rng.choice([0, 600])))
    kind = str(rng.choice(["gbm", "merton", "crash", "crash", "csv"]))
    path: dict[str, Any] = dict(kind="gbm", start_price=price, sigma=float(rng.uniform(0.5, 3.0)))
    if kind == "merton":
        path |= dict(kind="merton", jump_rate_per_hour=float(rng.uniform(1, 6)), jump_mean=-0.02, jump_sd=0.02)
    if kind in ("crash", "merton"):
        path |= dict(
            drop=float(rng.choice([-0.4, -0.25, -0.15, 0.25, 0.6])),
            drop_start_s=horizon // 6,
            drop_duration_s=horizon // 4,
            recovery=float(rng.uniform(0, 0.5)),
        )
    if kind == "csv":
        path = dict(kind="csv", csv_file=str(_csv(folder / f"matrix_{seed}_{index}.csv", rng, horizon, price)))
    low = float(rng.uniform(2, 8))
    population = dict(
        positions=int(rng.integers(6, 11)),
        long_fraction=float(rng.choice([0.0, 0.3, 0.5, 0.7, 1.0])),
        leverage_min=low,
        leverage_max=float(rng.uniform(low, 10)),
        notional_median_usd=float(rng.choice([5_000, 20_000, 60_000])),
        notional_sigma=float(rng.uniform(0.3, 1.2)),
        notional_max_usd=float(rng.choice([100_000, 500_000])),
        lp_deposit_usd=int(rng.choice([20_000_000, 2_000_000, 300_000, 150_000])),
        insurance_usd=int(rng.choice([0, 2_000, 20_000])),
        safety_module_usd=int(rng.choice([0, 5_000, 50_000])),
    )
    lag = rng.choice(["none", "fixed", "uniform"])
    latency = dict(kind="fixed", seconds=0.0)
    if lag == "fixed":
        latency = dict(kind="fixed", seconds=float(rng.choice([60, 180, 300])))
    elif lag == "uniform":
        latency = dict(kind="uniform", seconds=60.0, high=300.0)
    keepers = dict(
        latency=latency,
        gas_cost_usd=float(rng.choice([0.5, 1, 6, 20])),
        adl=bool(rng.random() < 0.7),
        update_mark=bool(rng.random() < 0.2),
    )
    limits: dict[str, Any] = {}
    if rng.random() < 0.25:
        limits["block_gas_budget"] = int(rng.integers(1, 4)) * 300_000
    if rng.random() < 0.25:
        limits["gas_volatility"] = float(rng.uniform(1, 10))
    if rng.random() < 0.15:
        limits["outages"] = [dict(at_s=horizon // 3, duration_s=horizon // 8)]
    depth = dict(enabled=True, depth_usd=float(rng.uniform(0.1, 2)) * 1e6, impact_bps=float(rng.uniform(50, 300)))
    data = dict(
        system=default_config(markets=[default_market(1, "ETH-USD", int(price), 6, **market)]).model_dump(),
        oracle=oracle,
        path=path,
        population=population,
        keepers=keepers,
        keeper_limits=limits,
        depth=depth if rng.random() < 0.3 else dict(enabled=False),
        horizon_s=horizon,
        step_s=step,
        paths=paths,
        seed=int(rng.integers(0, 1000)),
    )
    return SimConfig.model_validate(data)


@dataclass
class Comparison:
    index: int
    paths: int
    same_steps: bool
    ties: int
    liquidations: int
    worst_gap_usd: float  # the largest |tier 2 - tier 1| of any layer on any path, beyond the tolerance if > 0
    worst_relative: float  # that gap over the path's tier-1 shortfall (0 when both are 0)
    on_tier1: int  # paths tier 2 handed to tier 1
    within: bool
    detail: str = ""


def compare(config: SimConfig, index: int = 0) -> Comparison:
    """Both tiers on every path of `config`."""
    from simulator.exact import run_exact

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FastTierFallback)
        fast = run_chunk(config, 0, config.paths, keep_steps=True)
    same = True
    ties = liquidations = 0
    worst_gap = worst_rel = 0.0
    within = True
    detail = ""
    for path in range(config.paths):
        exact = run_exact(config, path)
        tie = {i for i, t in enumerate(fast.ties[path]) if t}
        ties += len(tie)
        first: dict[int, int] = {}
        for row in exact.liquidations:
            first.setdefault(row.trader, row.step)
        fast_steps = {i: int(s) for i, s in enumerate(fast.steps[path]) if s >= 0}
        liquidations += len(first)
        if {i: s for i, s in first.items() if i not in tie} != {i: s for i, s in fast_steps.items() if i not in tie}:
            same = within = False
            detail += f"path {path}: steps {sorted(first.items())} vs {sorted(fast_steps.items())}; "
        totals = exact.totals()
        scale = totals["shortfall"] / 1e6
        for layer in LAYERS:
            gap = abs(float(fast.values[layer][path]) - totals[layer] / 1e6)
            if gap > worst_gap:
                worst_gap, worst_rel = gap, (gap / scale if scale else 0.0)
            if gap > ABSOLUTE_USD + RELATIVE * scale:
                within = False
                detail += f"path {path} {layer}: {fast.values[layer][path]:.2f} vs {totals[layer] / 1e6:.2f}; "
    if ties > liquidations // 10 + 1:
        within = False
        detail += f"{ties} ties; "
    return Comparison(
        index, config.paths, same, ties, liquidations, worst_gap, worst_rel, len(fast.exact_paths), within, detail
    )


def agreement_matrix(count: int, seed: int, folder: Path, paths: int = 1) -> list[Comparison]:
    """`count` random configs, both tiers each."""
    folder.mkdir(parents=True, exist_ok=True)
    return [compare(random_config(seed, i, folder, paths), i) for i in range(count)]
