"""Simulator benchmark: tier-2 throughput and peak memory, tier-1 model actions per second, and
tier-1/tier-2 agreement on sampled paths of every preset. `make bench` calls `bench_simulator`."""

from __future__ import annotations

import math
import time
import tracemalloc
from typing import Any

import numpy as np

from simulator.exact import run_exact
from simulator.paths import PRESETS, preset_config
from simulator.vectorised import run_vectorised


def tier2_throughput(
    paths: int = 10_000, steps: int = 1_440, positions: int = 1_000, chunk: int = 500, workers: int = 2
) -> dict:
    """Wall seconds for paths x steps x positions in chunks on `workers` processes, the CPU
    seconds of one process doing it alone (what an idle core needs), and the peak traced memory
    (NumPy allocations, tracemalloc) of two chunks: memory is bounded by the chunk, so it does
    not grow with the number of paths (tracemalloc slows allocation, hence a separate run)."""
    config = preset_config(
        "oct_10_2025_cascade", paths=paths, horizon_s=steps * 60, population=dict(positions=positions)
    )
    start = time.perf_counter()
    result = run_vectorised(config, chunk=chunk, workers=workers)
    seconds = time.perf_counter() - start
    cpu = time.process_time()
    run_vectorised(config, paths=paths // 10, chunk=chunk)
    cpu = (time.process_time() - cpu) * 10
    tracemalloc.start()
    run_vectorised(config, paths=2 * chunk, chunk=chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "paths": paths,
        "steps": steps,
        "positions": positions,
        "chunk": chunk,
        "workers": workers,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "paths_per_second": round(paths / seconds, 1),
        "peak_memory_mib": round(peak / 2**20, 1),
        "mean_shortfall_usd": round(float(result.values["shortfall"].mean()), 2),
    }


def tier1_actions_per_second(positions: int = 100) -> dict:
    """One exact path: model actions per second inside System.execute (the journal, no copy),
    and the path's wall time, which also includes the keepers' read-only scans (every position's
    `isLiquidatable` at every step, the previews, the ADL plans)."""
    config = preset_config("black_thursday_2020", paths=1, population=dict(positions=positions))
    start = time.perf_counter()
    result = run_exact(config, 0)
    seconds = time.perf_counter() - start
    return {
        "positions": positions,
        "steps": config.steps,
        "actions": len(result.actions),
        "seconds": round(seconds, 2),
        "execute_seconds": round(result.execute_seconds, 3),
        "actions_per_second": round(len(result.actions) / result.execute_seconds, 1),
        "path_actions_per_second": round(len(result.actions) / seconds, 1),
    }


def agreement(paths: int = 3, positions: int = 10) -> dict:
    """Tier 1 vs tier 2 on the first `paths` paths of every preset (the market as deployed):
    share of liquidated positions at the same step, threshold ties, and the relative gap of
    each layer's total over all sampled paths."""
    from simulator.vectorised import run_chunk

    same = total = ties = 0
    layers = ("shortfall", "from_insurance", "from_safety_module", "from_pool")
    exact_sum = dict.fromkeys(layers, 0.0)
    fast_sum = dict.fromkeys(layers, 0.0)
    for name in sorted(PRESETS):
        config = preset_config(name, paths=paths, population=dict(positions=positions))
        vectorised = run_chunk(config, 0, paths, keep_steps=True)
        for path in range(paths):
            exact = run_exact(config, path)
            steps = {row.trader: row.step for row in exact.liquidations}
            fast = {i: int(s) for i, s in enumerate(vectorised.steps[path]) if s >= 0}
            total += len(set(steps) | set(fast))
            same += sum(1 for i, s in steps.items() if fast.get(i) == s)
            ties += int(vectorised.ties[path].sum())
            totals = exact.totals()
            for layer in layers:
                exact_sum[layer] += totals[layer] / 1e6
                fast_sum[layer] += float(vectorised.values[layer][path])
    return {
        "presets": len(PRESETS),
        "paths_each": paths,
        "liquidations": total,
        "same_step_share": round(same / total, 4) if total else None,
        "ties": ties,
        "relative_gap": {
            layer: round(abs(fast_sum[layer] - exact_sum[layer]) / exact_sum[layer], 5) if exact_sum[layer] else 0.0
            for layer in layers
        },
    }


def bench_simulator(paths: int = 10_000, steps: int = 1_440, positions: int = 1_000) -> dict[str, Any]:
    return {
        "tier2": tier2_throughput(paths, steps, positions),
        "tier1": tier1_actions_per_second(),
        "agreement": agreement(),
    }


def print_bench(console: Any) -> None:
    """The simulator's rows of `make bench` (a rich table on `console`)."""
    from rich.table import Table

    figures = bench_simulator()
    t2, t1, agree = figures["tier2"], figures["tier1"], figures["agreement"]
    table = Table(title="Simulator (noisy on a shared machine: wall and CPU seconds both shown)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        f"tier 2: {t2['paths']:,} paths x {t2['steps']:,} steps x {t2['positions']:,} positions",
        f"{t2['seconds']:.1f} s wall on {t2['workers']} processes ({t2['paths_per_second']:,.0f} paths/s); "
        f"{t2['cpu_seconds']:.1f} s CPU in one process",
    )
    table.add_row(f"tier 2: peak traced memory (chunks of {t2['chunk']} paths)", f"{t2['peak_memory_mib']:,.0f} MiB")
    table.add_row(
        f"tier 1: model actions/s ({t1['positions']} positions, inside System.execute)",
        f"{t1['actions_per_second']:,.0f}/s ({t1['actions']} in {t1['execute_seconds']:.2f} s)",
    )
    table.add_row(
        f"tier 1: one path, {t1['steps']} steps, keepers' view scans included",
        f"{t1['seconds']:.2f} s ({t1['path_actions_per_second']:,.0f} actions/s)",
    )
    table.add_row(
        f"tier 1 vs tier 2: {agree['presets']} presets x {agree['paths_each']} paths",
        f"{agree['same_step_share']:.1%} of {agree['liquidations']} liquidations at the same step, "
        f"{agree['ties']} ties; bad debt within {agree['relative_gap']['shortfall']:.2%}",
    )
    console.print(table)
    print_fidelity(console)


# ---------------------------------------------------------------------------------------------
# Fidelity (issue 20 items 1, 2 and 7, simfid): tier agreement over random configs, the speed
# of tier 2 against a plain first-passage reference kernel, tier 1's indexed scan, bad debt per
# $ of open interest with and without market depth, one cascade plotted.
# ---------------------------------------------------------------------------------------------


def tier_agreement(count: int = 60, seed: int = 7, paths: int = 1) -> dict:
    """`count` configs drawn by simulator.matrix, both tiers each."""
    import tempfile
    from pathlib import Path

    from simulator.matrix import ABSOLUTE_USD, RELATIVE, agreement_matrix

    with tempfile.TemporaryDirectory() as folder:
        results = agreement_matrix(count, seed, Path(folder), paths)
    worst = max(results, key=lambda r: r.worst_gap_usd)
    return {
        "configs": count,
        "within": sum(r.within for r in results),
        "same_steps": sum(r.same_steps for r in results),
        "liquidations": sum(r.liquidations for r in results),
        "paths_on_tier1": sum(r.on_tier1 for r in results),
        "paths": count * paths,
        "worst_gap_usd": round(worst.worst_gap_usd, 2),
        "worst_gap_relative": round(worst.worst_relative, 5),
        "worst_config": worst.index,
        "tolerance": f"{RELATIVE:.0%} of the path's shortfall + ${ABSOLUTE_USD:g}",
        "failed": [f"{r.index}: {r.detail}" for r in results if not r.within],
    }


def reference_kernel(paths: int, steps: int, positions: int, chunk: int = 500, seed: int = 0) -> int:
    """A plain first-passage Monte Carlo (the speed reference of issue 20): GBM paths at the
    cascade preset's volatility, one push feed (5 bps deviation or 1,755 s heartbeat, landing
    two steps later, one round in flight), each position's fixed liquidation price, its first
    passage by the feed's running extremum and a searchsorted per path; no funding, tiers,
    keepers, impact or waterfall. Returns the number of liquidations (so nothing is optimised
    away)."""
    rng = np.random.default_rng(seed)
    dt = 60
    sigma = 1.2 * math.sqrt(dt / (365 * 86400))
    start = 116_799.0
    is_long = rng.random(positions) < 0.7
    leverage = rng.uniform(2, 9, positions)
    liquidation = np.where(is_long, start * (1 - 1 / leverage + 0.025), start * (1 + 1 / leverage - 0.025))
    low, high = np.sort(liquidation[is_long]), np.sort(liquidation[~is_long])
    total = 0
    for first in range(0, paths, chunk):
        n = min(chunk, paths - first)
        z = rng.standard_normal((n, steps))
        price = start * np.exp(
            np.concatenate([np.zeros((n, 1)), np.cumsum(sigma * z - 0.5 * sigma**2, axis=1)], axis=1)
        )
        feed = np.empty_like(price)
        feed[:, 0] = price[:, 0]
        last, last_t = price[:, 0].copy(), np.zeros(n)
        pending, pending_value = np.full(n, -1), np.zeros(n)
        for s in range(1, steps + 1):
            current = feed[:, s - 1].copy()
            land = pending == s
            current[land] = pending_value[land]
            pending[land] = -1
            trigger = ((np.abs(price[:, s] - last) >= 5e-4 * last) | (s * dt - last_t >= 1755)) & (pending < 0)
            pending[trigger] = s + 2
            pending_value[trigger] = price[trigger, s]
            last[trigger] = price[trigger, s]
            last_t[trigger] = s * dt
            feed[:, s] = current
        run_min, run_max = np.minimum.accumulate(feed, axis=1), np.maximum.accumulate(feed, axis=1)
        for p in range(n):
            total += int(np.searchsorted(-run_min[p], -low, side="right").sum())
            total += int(np.searchsorted(run_max[p], high, side="right").sum())
    return total


def speed_config(paths: int, steps: int, positions: int) -> Any:
    """The speed row's scenario: the cascade preset, `positions` traders, an LP pool large enough
    ($200M) that no path comes near ADL (such paths run on tier 1, at tier 1's speed)."""
    return preset_config(
        "oct_10_2025_cascade",
        paths=paths,
        horizon_s=steps * 60,
        population=dict(positions=positions, lp_deposit_usd=200_000_000),
    )


def speed_ratio(paths: int = 10_000, steps: int = 1_440, positions: int = 1_000, chunk: int = 500) -> dict:
    """CPU seconds of tier 2 and of the reference kernel on the same size in this process, one
    after the other, their ratio, and each one's peak traced memory on two chunks."""
    from simulator.vectorised import run_chunk

    config = speed_config(paths, steps, positions)
    start = time.process_time()
    on_tier1 = 0
    for first in range(0, paths, chunk):
        on_tier1 += len(run_chunk(config, first, min(chunk, paths - first)).exact_paths)
    fast = time.process_time() - start
    start = time.process_time()
    reference_kernel(paths, steps, positions, chunk)
    reference = time.process_time() - start
    peaks = []
    for job in (lambda: run_chunk(config, 0, chunk), lambda: reference_kernel(chunk, steps, positions, chunk)):
        tracemalloc.start()
        job()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return {
        "paths": paths,
        "steps": steps,
        "positions": positions,
        "tier2_cpu_seconds": round(fast, 2),
        "reference_cpu_seconds": round(reference, 2),
        "ratio": round(fast / reference, 2),
        "tier2_peak_mib": round(peaks[0], 1),
        "reference_peak_mib": round(peaks[1], 1),
        "paths_on_tier1": on_tier1,
    }


def tier1_path(positions: int = 1_000) -> dict:
    """One 960-step exact path (black_thursday_2020): wall seconds, of which the keepers'
    indexed per-block scans and the opening."""
    from simulator.exact import ExactRun

    config = preset_config("black_thursday_2020", paths=1, population=dict(positions=positions))
    run = ExactRun(config, 0)
    start = time.perf_counter()
    result = run.run()
    seconds = time.perf_counter() - start
    return {
        "positions": positions,
        "steps": config.steps,
        "seconds": round(seconds, 2),
        "scan_seconds": round(result.scan_seconds, 3),
        "liquidations": len(result.liquidations),
    }


def scaled_book(name: str, k: float, depth: bool, paths: int = 100, depth_usd: float = 2_000_000) -> Any:
    """The preset's book with every size scaled by `k` (notional, pool, backstop, caps, tiers,
    skew scale, impact reference, partial threshold): without market depth the scenario is
    homogeneous in `k` (bad debt per $ of open interest constant but for the keepers' fixed
    reward); with it, the flow that moves the market grows with the book."""
    from simulator.config import SimConfig
    from simulator.paths import preset_config_data

    pop = dict(
        positions=100,
        notional_median_usd=20_000 * k,
        notional_max_usd=500_000 * k,
        lp_deposit_usd=int(20_000_000 * k),
        insurance_usd=int(20_000 * k),
        safety_module_usd=int(50_000 * k),
    )
    data = preset_config_data(name, paths=paths, population=pop, depth=dict(enabled=depth, depth_usd=depth_usd))
    market = data["system"]["markets"][0]
    for key in (
        "max_long_open_interest",
        "max_short_open_interest",
        "skew_scale",
        "impact_reference_notional",
        "partial_liquidation_threshold",
    ):
        market[key] = int(market[key] * k)
    market["tier_notional_caps"] = [int(c * k) if i < 3 else c for i, c in enumerate(market["tier_notional_caps"])]
    return SimConfig.model_validate(data)


def open_interest_usd(config: Any) -> float:
    from simulator.population import sample_population

    answer = int(round(config.path.start_price * 10 ** config.market().feed_decimals))
    return sum(abs(s) for s in sample_population(config, answer).sizes) / 1e18 * config.path.start_price


def bad_debt_by_open_interest(name: str = "oct_10_2025_cascade", paths: int = 100) -> list[dict]:
    """Mean bad debt (realised shortfall) per $ of open interest at 1x, 10x and 100x the book,
    without and with market depth."""
    from simulator.vectorised import run_chunk

    rows = []
    for depth in (False, True):
        for k in (1, 10, 100):
            config = scaled_book(name, k, depth, paths)
            result = run_chunk(config, 0, paths)
            oi = open_interest_usd(config)
            rows.append(
                {
                    "depth": depth,
                    "scale": k,
                    "open_interest_usd": round(oi),
                    "bad_debt_usd": round(float(result.values["shortfall"].mean()), 2),
                    "bps_of_open_interest": round(float(result.values["shortfall"].mean()) / oi * 1e4, 2),
                }
            )
    return rows


def cascade_plot(path: Any, name: str = "oct_10_2025_cascade", k: float = 100) -> Any:
    """One cascade on tier 1 (the 100x book with market depth, path 0): the market moved by its
    own liquidations against the oracle, liquidations coloured by the layer that paid."""
    from simulator.exact import run_exact
    from simulator.plots import path_prices

    config = scaled_book(name, k, True, paths=1)
    result = run_exact(config, 0)
    title = f"{name}, {k:g}x book, depth $2M/100 bps: {len(result.liquidations)} liquidations"
    return path_prices(config, result, path, title)


def print_fidelity(console: Any, figures: dict | None = None) -> dict:
    """The fidelity rows of `make bench`."""
    from pathlib import Path

    from rich.table import Table

    figures = figures or {
        "agreement": tier_agreement(),
        "speed": speed_ratio(),
        "tier1": tier1_path(),
        "open_interest": bad_debt_by_open_interest(),
    }
    agree, speed, t1 = figures["agreement"], figures["speed"], figures["tier1"]
    table = Table(title="Simulator fidelity (issue 20): tiers on random configs, speed, cascades")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        f"tier agreement: {agree['within']} of {agree['configs']} configs within tolerance",
        f"worst gap ${agree['worst_gap_usd']:,.2f} ({agree['worst_gap_relative']:.2%} of its path's shortfall, "
        f"config {agree['worst_config']}); {agree['same_steps']} with every liquidation at the same step; "
        f"{agree['paths_on_tier1']} of {agree['paths']} paths handed to tier 1; tolerance {agree['tolerance']}",
    )
    table.add_row(
        f"tier 2 vs reference first-passage kernel: {speed['paths']:,} x {speed['steps']:,} x {speed['positions']:,}",
        f"{speed['tier2_cpu_seconds']:.1f} s vs {speed['reference_cpu_seconds']:.1f} s CPU: "
        f"ratio {speed['ratio']:.2f}; "
        f"peak {speed['tier2_peak_mib']:,.0f} MiB vs {speed['reference_peak_mib']:,.0f} MiB per 500-path chunk",
    )
    table.add_row(
        f"tier 1: one {t1['steps']}-step path, {t1['positions']:,} positions (indexed keeper scan)",
        f"{t1['seconds']:.2f} s, of which scans {t1['scan_seconds']:.2f} s ({t1['liquidations']} liquidations)",
    )
    for row in figures["open_interest"]:
        table.add_row(
            f"bad debt per $ OI, {row['scale']}x book (${row['open_interest_usd'] / 1e6:,.1f}M), "
            f"depth {'on' if row['depth'] else 'off'}",
            f"{row['bps_of_open_interest']:.1f} bps (${row['bad_debt_usd']:,.0f} per path)",
        )
    out = Path("out/bench")
    out.mkdir(parents=True, exist_ok=True)
    plot = cascade_plot(out / "cascade.png")
    table.add_row("one cascade plotted", str(plot))
    console.print(table)
    return figures


if __name__ == "__main__":  # python -m simulator.bench
    import json

    print(json.dumps(bench_simulator(), indent=2))
