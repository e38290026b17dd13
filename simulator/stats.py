"""Monte Carlo error: confidence intervals for the headline figures and a convergence check.

Intervals are percentile bootstraps over paths (`resamples` draws of the paths with replacement,
seeded from the run's seed on its own stream, so a run's intervals are reproducible), or, above
`BOOTSTRAP_MAX_PATHS` paths, batch means: the paths split into `BATCHES` consecutive batches, the
statistic computed on each, the interval the normal one of their mean (paths are independent,
so consecutive batches are too). A figure whose interval's half-width is above `tolerance` of
its estimate raises a ConvergenceWarning that says roughly how many paths would bring it under
(the half-width falls as 1/sqrt(paths)).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from simulator.rng import STREAM_BOOTSTRAP

BOOTSTRAP_MAX_PATHS = 20_000
BATCHES = 50
RESAMPLES = 400
LEVEL = 0.95
TOLERANCE = 0.10  # relative half-width above which a figure needs more paths


class ConvergenceWarning(UserWarning):
    """A headline figure's confidence interval is wider than the tolerance: run more paths."""


def mean(values: np.ndarray) -> np.ndarray:
    """Statistics reduce the last axis, so one call computes them on every resample at once."""
    return values.mean(axis=-1)


def quantile(level: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda values: np.percentile(values, level * 100, axis=-1)


def cvar(level: float) -> Callable[[np.ndarray], np.ndarray]:
    """Conditional value at risk (expected shortfall): the mean of the worst
    ceil((1 - level) x paths) losses, so a tail of zeros gives zero and ties do not widen it."""

    def statistic(values: np.ndarray) -> np.ndarray:
        n = values.shape[-1]
        k = max(1, math.ceil((1 - level) * n - 1e-9))
        worst = -np.partition(-values, k - 1, axis=-1)[..., :k]
        return worst.mean(axis=-1)

    return statistic


def probability_positive(values: np.ndarray) -> np.ndarray:
    return (values > 1e-9).mean(axis=-1)


def resample_indices(paths: int, seed: int, resamples: int = RESAMPLES) -> np.ndarray:
    """(resamples, paths) path indices drawn with replacement: the same for every statistic of
    a run (and every size of a sizing run: paired resamples)."""
    rng = np.random.default_rng([seed, STREAM_BOOTSTRAP, paths])
    return rng.integers(0, paths, size=(resamples, paths))


def interval(
    values: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    seed: int = 0,
    level: float = LEVEL,
    indices: np.ndarray | None = None,
) -> dict[str, float | str]:
    """{estimate, low, high, level, method} of `statistic` over the per-path `values`."""
    values = np.asarray(values, dtype=float)
    estimate = float(statistic(values))
    n = values.size
    if n < 2:
        return dict(estimate=estimate, low=estimate, high=estimate, level=level, method="none")
    if n > BOOTSTRAP_MAX_PATHS and indices is None:
        figures = np.array([float(statistic(b)) for b in np.array_split(values, BATCHES)])
        centre = float(figures.mean())
        half = _z(level) * float(figures.std(ddof=1)) / math.sqrt(len(figures))
        return dict(estimate=estimate, low=centre - half, high=centre + half, level=level, method="batch means")
    if indices is None:
        indices = resample_indices(n, seed)
    figures = statistic(values[indices])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(figures, [tail, 100 - tail])
    return dict(estimate=estimate, low=float(low), high=float(high), level=level, method="bootstrap")


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def check_convergence(
    intervals: dict[str, dict[str, float]], paths: int, tolerance: float = TOLERANCE, warn: bool = True
) -> dict[str, object]:
    """Which figures' relative half-width is above `tolerance`, and about how many paths would
    bring each under it; warns (ConvergenceWarning) once per such figure when `warn`."""
    needs: dict[str, int] = {}
    for name, ci in intervals.items():
        half = (ci["high"] - ci["low"]) / 2
        scale = abs(ci["estimate"])
        if scale <= 0 or half <= tolerance * scale:
            continue
        needs[name] = int(math.ceil(paths * (half / (tolerance * scale)) ** 2))
    if warn:
        for name, more in needs.items():
            ci = intervals[name]
            warnings.warn(
                ConvergenceWarning(
                    f"{name} = {ci['estimate']:,.4g} [{ci['low']:,.4g}, {ci['high']:,.4g}] at {paths:,} paths: the "
                    f"{ci['level']:.0%} interval is wider than +/-{tolerance:.0%}; about {more:,} paths needed"
                ),
                stacklevel=2,
            )
    return {"tolerance": tolerance, "converged": not needs, "paths_needed": needs}
