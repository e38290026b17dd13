"""Real-market price paths: seeded GBM and Merton jump-diffusion, named incident presets and a
user's CSV series. Paths are float64 arrays (paths x steps+1) of USD prices: the market the
oracle watches, not anything on chain.

Randomness is per path (`numpy.random.default_rng([seed, path, stream])`), so path i is the
same whatever the chunking, the process or the grid point: common random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pymodel.config import default_config, default_market

YEAR = 365 * 24 * 3600
STREAM_PATH, STREAM_ORACLE, STREAM_KEEPER, STREAM_POPULATION = 1, 2, 3, 4


def path_rng(seed: int, path: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, path, stream])


BLOCK = 64  # paths per random block: draws depend on (seed, stream, block), never on chunking


def block_rows(
    seed: int, stream: int, first: int, count: int, make: Callable[[np.random.Generator, int], np.ndarray]
) -> np.ndarray:
    """Rows `first .. first+count-1` of a stream drawn in fixed blocks of BLOCK paths, so path i
    gets the same numbers in any chunk, process or grid point (common random numbers)."""
    low, high = first // BLOCK, (first + count - 1) // BLOCK
    rows = np.concatenate([make(np.random.default_rng([seed, stream, b]), BLOCK) for b in range(low, high + 1)])
    start = first - low * BLOCK
    return rows[start : start + count]


def generate_paths(config: Any, first: int, count: int) -> np.ndarray:
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


def csv_path(config: Any) -> np.ndarray:
    """The CSV series resampled at the step grid (last value at or before each step),
    starting at its first timestamp."""
    from simulator.config import read_price_csv

    times, prices = read_price_csv(config.path.csv_file)
    grid = times[0] + np.arange(config.steps + 1) * config.step_s
    index = np.searchsorted(np.asarray(times), grid, side="right") - 1
    return np.asarray(prices)[index]


# ---------------------------------------------------------------------------------------------
# Presets (docs/SIMULATOR.md lists each one's sources and fitted assumptions)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str  # where the figures come from (RESEARCH.md row and the public record)
    assumptions: str  # what was fitted, labelled as such
    overrides: dict[str, Any] = field(default_factory=dict)


def _system(symbol: str, price: float, **market: int) -> dict[str, Any]:
    return default_config(markets=[default_market(1, symbol, max(1, int(price)), 6, **market)]).model_dump()


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in [
        Preset(
            "black_thursday_2020",
            "Black Thursday, 12 Mar 2020 (BTC 7,353, -51%, first leg -23% within an hour)",
            "RESEARCH.md incident 1; BitMEX / MakerDAO post-mortems",
            "fitted: a -45% log-linear leg over 10 h from t=1 h, sigma 150%/yr, Merton jumps 4/h "
            "N(-2%, 2%); Chainlink 3600 s / 0.5%, landing latency lognormal median 60 s growing with "
            "volatility (congestion 2: 60-300 s observed, capped at 600 s); 16 h horizon. Jumps are "
            "compensated in every preset: the fitted leg is the expected log path",
            dict(
                system=_system("BTC-USD", 7353),
                horizon_s=16 * 3600,
                path=dict(
                    kind="preset",
                    preset="black_thursday_2020",
                    start_price=7353.0,
                    sigma=1.5,
                    jump_rate_per_hour=4,
                    jump_mean=-0.02,
                    jump_sd=0.02,
                    drop=-0.45,
                    drop_start_s=3600,
                    drop_duration_s=10 * 3600,
                ),
                oracle=dict(
                    sources=[
                        dict(
                            heartbeat_s=3600,
                            deviation_bps=50,
                            latency=dict(kind="lognormal", seconds=60, congestion=2, max_seconds=600),
                        )
                    ]
                ),
            ),
        ),
        Preset(
            "may_19_2021",
            "19 May 2021 (BTC 43,000, -30% in about two hours)",
            "RESEARCH.md incident 3",
            "fitted: a -30% leg over 2 h from t=30 min with 40% won back by the end, sigma 150%/yr, "
            "jumps 3/h N(-2%, 2%); Chainlink 3600 s / 0.5%, latency fixed 120 s; 6 h horizon",
            dict(
                system=_system("BTC-USD", 43000),
                horizon_s=6 * 3600,
                path=dict(
                    kind="preset",
                    preset="may_19_2021",
                    start_price=43000.0,
                    sigma=1.5,
                    jump_rate_per_hour=3,
                    drop=-0.30,
                    drop_start_s=1800,
                    drop_duration_s=2 * 3600,
                    recovery=0.4,
                ),
                oracle=dict(
                    sources=[dict(heartbeat_s=3600, deviation_bps=50, latency=dict(kind="fixed", seconds=120))]
                ),
            ),
        ),
        Preset(
            "oct_10_2025_cascade",
            "10 Oct 2025 cascade (BTC 116,799, -12.8% in under an hour; $3.2B liquidated in a minute)",
            "RESEARCH.md incident 5; Arbitrum feed gaps median 120 s, p99 990 s",
            "fitted: a -12.8% leg over 30 min from t=20 min, sigma 120%/yr, jumps 6/h N(-2%, 2%); "
            "Arbitrum-style feed 1755 s / 0.05%, landing latency lognormal median 120 s, log-sd 1.1 "
            "(p99 about 1,500 s), congestion 1, capped at the measured maximum gap 1,470 s; 4 h horizon",
            dict(
                system=_system("BTC-USD", 116799),
                horizon_s=4 * 3600,
                path=dict(
                    kind="preset",
                    preset="oct_10_2025_cascade",
                    start_price=116799.0,
                    sigma=1.2,
                    jump_rate_per_hour=6,
                    drop=-0.128,
                    drop_start_s=1200,
                    drop_duration_s=1800,
                ),
                oracle=dict(
                    sources=[
                        dict(
                            heartbeat_s=1755,
                            deviation_bps=5,
                            latency=dict(kind="lognormal", seconds=120, sigma=1.1, congestion=1, max_seconds=1470),
                        )
                    ]
                ),
            ),
        ),
        Preset(
            "oct_10_2025_base",
            "10 Oct 2025 on Base (ETH 4,346, -17.8%) with a 10-minute sequencer outage",
            "RESEARCH.md incident 6",
            "fitted: -17.8% over 45 min from t=15 min, sigma 150%/yr; feed 1200 s / 0.15%, latency 5 s; "
            "sequencer down at t=30 min for 10 min, then the 3600 s grace; 3 h horizon",
            dict(
                system=_system("ETH-USD", 4346),
                horizon_s=3 * 3600,
                path=dict(
                    kind="preset",
                    preset="oct_10_2025_base",
                    start_price=4346.0,
                    sigma=1.5,
                    drop=-0.178,
                    drop_start_s=900,
                    drop_duration_s=2700,
                ),
                oracle=dict(
                    sources=[dict(heartbeat_s=1200, deviation_bps=15, latency=dict(kind="fixed", seconds=5))],
                    sequencer=dict(down_at_s=1800, duration_s=600, grace_s=3600),
                ),
            ),
        ),
        Preset(
            "frozen_feed_collapse",
            "Frozen feed under a collapse (LUNA-style: market -90% in a day, the feed stops)",
            "RESEARCH.md incident 10; Venus lost about $11M",
            "fitted: -90% over 20 h from t=1 h, sigma 450%/yr (alt), jumps 2/h N(-8%, 6%); price "
            "scaled to 10 USD (the loss is scale-free); feed 3600 s / 1% frozen at t=2 h and resumed "
            "at t=20 h; market max age 86,400 s (alt feeds); 24 h horizon",
            dict(
                system=_system("ALT-USD", 10, oracle_max_age=86_400),
                horizon_s=24 * 3600,
                path=dict(
                    kind="preset",
                    preset="frozen_feed_collapse",
                    start_price=10.0,
                    sigma=4.5,
                    jump_rate_per_hour=2,
                    jump_mean=-0.08,
                    jump_sd=0.06,
                    drop=-0.90,
                    drop_start_s=3600,
                    drop_duration_s=20 * 3600,
                ),
                oracle=dict(
                    sources=[
                        dict(
                            heartbeat_s=3600,
                            deviation_bps=100,
                            latency=dict(kind="fixed", seconds=30),
                            frozen_at_s=2 * 3600,
                            resume_at_s=20 * 3600,
                        )
                    ]
                ),
            ),
        ),
        Preset(
            "short_squeeze",
            "JELLY-style short squeeze (meme at 100, +400% in an hour; the pool is short the squeeze)",
            "RESEARCH.md incident 9",
            "fitted: +400% over 1 h from t=15 min, 30% won back, sigma 500%/yr, jumps 4/h N(+5%, 5%); "
            "pull oracle published every second, keeper picks within 60 s (market max age 60 s); 70% of "
            "traders short; 2 h horizon",
            dict(
                system=_system("MEME-USD", 100, oracle_max_age=60),
                horizon_s=2 * 3600,
                population=dict(long_fraction=0.3),
                path=dict(
                    kind="preset",
                    preset="short_squeeze",
                    start_price=100.0,
                    sigma=5.0,
                    jump_rate_per_hour=4,
                    jump_mean=0.05,
                    jump_sd=0.05,
                    drop=4.0,
                    drop_start_s=900,
                    drop_duration_s=3600,
                    recovery=0.3,
                ),
                oracle=dict(sources=[dict(kind="pull", update_every_s=1, max_staleness_s=60)]),
            ),
        ),
    ]
}


def preset_overrides(name: str) -> dict[str, Any]:
    """What a preset sets on top of SimConfig's defaults (a deep copy)."""
    import copy

    return copy.deepcopy(PRESETS[name].overrides)


def preset_config_data(name: str, **overrides: Any) -> dict[str, Any]:
    """The SimConfig data of a preset, with top-level `overrides` merged (nested dicts merge)."""
    from simulator.config import SimConfig

    if name not in PRESETS:
        raise ValueError(f"preset {name!r} does not exist; known presets: {sorted(PRESETS)}")
    data = merge(SimConfig().model_dump(), preset_overrides(name))
    return merge(data, overrides)


def preset_config(name: str, **overrides: Any):  # -> SimConfig
    from simulator.config import SimConfig

    return SimConfig.model_validate(preset_config_data(name, **overrides))


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`; nested dicts merge, anything else (lists included) replaces."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
