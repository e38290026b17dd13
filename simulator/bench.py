"""Simulator benchmark: tier-2 throughput and peak memory, tier-1 model actions per second, and
tier-1/tier-2 agreement on sampled paths of every preset. `make bench` calls `bench_simulator`."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

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


if __name__ == "__main__":  # python -m simulator.bench
    import json

    print(json.dumps(bench_simulator(), indent=2))
