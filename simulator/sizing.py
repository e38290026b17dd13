"""Sizing mode: the smallest insurance bucket (or safety module) for which the LPs' risk is
under a target, with a confidence interval, and the capital-at-risk curve behind it.

Targets: `p_lp_loss` (the probability that the LP pool pays anything on a path) or
`lp_cvar99` (the LPs' expected loss over the worst 1% of paths, USD). Every candidate size runs
the vectorised tier on the same paths and draws (common random numbers), so the LP loss of each
path falls as the layer grows (the waterfall is monotone in it) and the smallest size that
meets the target is found by a coarse geometric grid, then bisection between the two grid
points that bracket it. The interval resamples the paths (the same resamples at every size)
and takes the smallest evaluated size that meets the target in each resample: it is as fine
as the grid away from the estimate, and as fine as the bisection near it.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from simulator import stats
from simulator.config import SimConfig
from simulator.sweep import with_values
from simulator.vectorised import run_vectorised

LAYERS = ("insurance_usd", "safety_module_usd")
METRICS = {
    "p_lp_loss": ("P(LP loss > 0)", stats.probability_positive),
    "lp_cvar99": ("LP loss CVaR99 (USD)", stats.cvar(0.99)),
}
QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)


class SizingError(ValueError):
    """A sizing request that cannot be answered as asked (layer, metric or target)."""


def lp_losses(config: SimConfig) -> dict[str, np.ndarray]:
    values = run_vectorised(config).values
    return {"from_pool": values["from_pool"], "shortfall": values["shortfall"]}


def size_backstop(
    config: SimConfig,
    layer: str = "insurance_usd",
    metric: str = "p_lp_loss",
    target: float = 0.01,
    level: float = 0.90,
    grid: int = 10,
    refine: int = 6,
    workers: int = 1,
) -> dict[str, Any]:
    """The recommendation: {layer, metric, target, recommended_usd, interval, met, curve, ...}.
    `curve`: per evaluated size, the LP loss mean, quantiles, CVaR99 and P(LP loss > 0)."""
    if layer not in LAYERS:
        raise SizingError(f"size: layer {layer!r} is not one of {LAYERS}")
    if metric not in METRICS:
        raise SizingError(f"size: metric {metric!r} is not one of {sorted(METRICS)}")
    if metric == "p_lp_loss" and not 0 <= target < 1:
        raise SizingError(f"size: a p_lp_loss target is a probability in [0, 1), got {target}")
    if target < 0:
        raise SizingError(f"size: the target must be at least 0, got {target}")
    statistic = METRICS[metric][1]
    runs: dict[int, dict[str, np.ndarray]] = {}

    def evaluate(sizes: list[int]) -> None:
        todo = [s for s in dict.fromkeys(sizes) if s not in runs]
        configs = [with_values(config, {layer: s}) for s in todo]
        if workers > 1 and len(configs) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(lp_losses, configs))
        else:
            results = [lp_losses(c) for c in configs]
        runs.update(zip(todo, results, strict=True))

    def meets(size: int) -> bool:
        return float(statistic(runs[size]["from_pool"])) <= target

    evaluate([0])
    worst = float(runs[0]["shortfall"].max())
    slash = config.system.max_slash_bps / 10_000
    upper = max(1, math.ceil(1.05 * worst / (slash if layer == "safety_module_usd" and slash > 0 else 1))) + 1
    evaluate([upper])
    doublings = 0
    while not meets(upper) and doublings < 6:
        upper *= 2
        doublings += 1
        evaluate([upper])
    sizes = sorted({0, upper, *(int(round(x)) for x in np.geomspace(max(1, upper / 1000), upper, grid - 1))})
    evaluate(sizes)
    n = runs[0]["from_pool"].size
    indices = stats.resample_indices(n, config.seed)
    resampled: dict[int, np.ndarray] = {}
    tail = (1 - level) / 2 * 100

    def picks() -> np.ndarray:
        """Per resample: the smallest evaluated size meeting the target (nan: none does)."""
        ordered = sorted(runs)
        for size in ordered:
            if size not in resampled:
                resampled[size] = statistic(runs[size]["from_pool"][indices]) <= target
        ok = np.stack([resampled[size] for size in ordered])  # sizes x resamples
        first = np.argmax(ok, axis=0)
        return np.where(ok.any(axis=0), np.asarray(ordered, dtype=float)[first], np.nan)

    def bounds() -> list[int]:
        """The estimate and the interval's ends, as evaluated sizes (to refine)."""
        met = [s for s in sorted(runs) if meets(s)]
        found = [met[0]] if met else []
        reached = picks()
        reached = reached[~np.isnan(reached)]
        if reached.size:
            ends = np.percentile(reached, [tail, 100 - tail], method="inverted_cdf")
            found += [int(e) for e in ends]
        return found

    resolution = max(1, upper // 2000)
    for _ in range(refine):
        todo = []
        for bound in bounds():
            below = [s for s in runs if s < bound]
            if below and bound - max(below) > resolution:
                todo.append((max(below) + bound) // 2)
        if not todo:
            break
        evaluate(todo)
    met = [s for s in sorted(runs) if meets(s)]
    recommended = met[0] if met else None
    ordered = sorted(runs)
    reached = picks()
    reached = reached[~np.isnan(reached)]
    interval = (
        {
            "low": float(np.percentile(reached, tail, method="inverted_cdf")),
            "high": float(np.percentile(reached, 100 - tail, method="inverted_cdf")),
            "level": level,
        }
        if reached.size
        else None
    )
    return {
        "layer": layer,
        "metric": metric,
        "metric_label": METRICS[metric][0],
        "target": target,
        "paths": n,
        "recommended_usd": recommended,
        "met": recommended is not None,
        "interval_usd": interval,
        "resamples_meeting_target": float(reached.size / len(indices)),
        "metric_at_recommended": float(statistic(runs[recommended]["from_pool"])) if recommended is not None else None,
        "base_usd": getattr(config.population, layer),
        "curve": [capital_at_risk(s, runs[s]["from_pool"]) for s in ordered],
        "loss_exceedance": {
            "zero": exceedance(runs[0]["from_pool"]),
            "recommended": exceedance(runs[recommended]["from_pool"]) if recommended is not None else None,
            "bad_debt": exceedance(runs[0]["shortfall"]),
        },
    }


def capital_at_risk(size: int, lp_loss: np.ndarray) -> dict[str, float]:
    row = {"size_usd": size, "mean": float(lp_loss.mean())}
    row |= {f"p{q * 100:g}": float(np.percentile(lp_loss, q * 100)) for q in QUANTILES}
    row["cvar99"] = float(stats.cvar(0.99)(lp_loss))
    row["p_lp_loss"] = float(stats.probability_positive(lp_loss))
    return row


def exceedance(losses: np.ndarray) -> dict[str, list[float]]:
    """The loss-exceedance curve: for each distinct loss x, P(loss >= x) (losses > 0 only)."""
    positive = np.sort(losses[losses > 1e-9])[::-1]
    if not positive.size:
        return {"loss_usd": [], "probability": []}
    probability = np.arange(1, positive.size + 1) / losses.size
    return {"loss_usd": positive.tolist(), "probability": probability.tolist()}
