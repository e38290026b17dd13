"""Real-market price paths: seeded GBM and Merton jump-diffusion, the presets' fitted incident
shapes and a user's CSV series. Paths are float64 arrays (paths x steps+1) of USD prices: the
market the oracle watches, not anything on chain.

Randomness comes from `simulator.rng` in fixed blocks of paths, so path i is the same whatever
the chunking, the process or the grid point: common random numbers. The presets are data files
(`simulator.presets`); `PRESETS`, `preset_config` and `preset_config_data` are re-exported here
for callers of the earlier layout.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.config import SimConfig, preset_config, preset_config_data, read_price_csv
from simulator.presets import PRESETS, Preset, merge, preset_overrides
from simulator.rng import BLOCK, STREAM_KEEPER, STREAM_ORACLE, STREAM_PATH, STREAM_POPULATION, block_rows, path_rng

YEAR = 365 * 24 * 3600
__all__ = [
    "BLOCK",
    "PRESETS",
    "STREAM_KEEPER",
    "STREAM_ORACLE",
    "STREAM_PATH",
    "STREAM_POPULATION",
    "Preset",
    "block_rows",
    "crash_shape",
    "csv_path",
    "generate_paths",
    "merge",
    "path_rng",
    "preset_config",
    "preset_config_data",
    "preset_overrides",
]


def generate_paths(config: SimConfig, first: int, count: int) -> np.ndarray:
    """Paths `first .. first+count-1` of `config` (a SimConfig): float64 (count, steps+1)."""
    p = config.path
    steps, dt = config.steps, config.step_s
    if p.kind == "csv":
        return np.repeat(csv_path(config)[None, :], count, axis=0)
    times = np.arange(steps + 1) * dt
    drift = crash_shape(times, p.drop, p.drop_start_s, p.drop_duration_s, p.recovery, config.horizon_s)
    sigma_step = p.sigma * math.sqrt(dt / YEAR)
    jumps = p.kind in ("merton", "preset") and p.jump_rate_per_hour > 0
    lam = p.jump_rate_per_hour * dt / 3600

    def make(rng: np.random.Generator, rows: int) -> np.ndarray:
        normal = rng.standard_normal((rows, 1, steps))
        if not jumps:
            return normal
        return np.concatenate(
            [normal, rng.poisson(lam, (rows, 1, steps)).astype(float), rng.standard_normal((rows, 1, steps))], axis=1
        )

    draws = block_rows(config.seed, STREAM_PATH, first, count, make)
    increments = draws[:, 0] * sigma_step - 0.5 * sigma_step**2
    if jumps:
        n = draws[:, 1]
        increments += n * p.jump_mean + np.sqrt(n) * p.jump_sd * draws[:, 2]
        if p.kind == "preset":
            increments -= lam * p.jump_mean  # compensated: the fitted leg is the expected path
    log_path = np.concatenate((np.zeros((count, 1)), np.cumsum(increments, axis=1)), axis=1) + drift[None, :]
    return p.start_price * np.exp(log_path)


def crash_shape(times: np.ndarray, drop: float, start: int, duration: int, recovery: float, horizon: int) -> np.ndarray:
    """A deterministic log-drift: flat, then a linear fall of log(1 + drop) over `duration`,
    then `recovery` of it won back linearly by the horizon (a fitted incident shape)."""
    if drop == 0:
        return np.zeros_like(times, dtype=float)
    depth = math.log1p(drop)
    fall = np.clip((times - start) / duration, 0.0, 1.0) * depth
    end = start + duration
    if recovery > 0 and horizon > end:
        fall -= np.clip((times - end) / (horizon - end), 0.0, 1.0) * depth * recovery
    return fall


def csv_path(config: SimConfig) -> np.ndarray:
    """The CSV series resampled at the step grid (last value at or before each step),
    starting at its first timestamp."""
    times, prices = read_price_csv(config.path.csv_file)
    grid = times[0] + np.arange(config.steps + 1) * config.step_s
    index = np.searchsorted(np.asarray(times), grid, side="right") - 1
    return np.asarray(prices)[index]
