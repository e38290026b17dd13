"""Sensitivity sweeps: one parameter over a grid, every grid point on the same paths and draws
(common random numbers: same seed, per-path streams), on local processes by default or on a
Dask cluster given its scheduler address. Reports the break-even latency at which expected bad
debt exceeds the insurance bucket."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from simulator.config import SimConfig
from simulator.metrics import summarise
from simulator.population import sample_population
from simulator.vectorised import run_vectorised


def _sources(data: dict, key: str, value: Any) -> None:
    for source in data["oracle"]["sources"]:
        if key == "latency_s":
            source["latency"]["seconds"] = value
        else:
            source[key] = value


def _market(data: dict, market_id: int, key: str, value: Any) -> None:
    for market in data["system"]["markets"]:
        if market["market_id"] == market_id:
            market[key] = value


# Sweepable parameters: name -> how it changes the config data.
PARAMETERS: dict[str, Callable[[dict, Any], None]] = {
    "heartbeat_s": lambda d, v: _sources(d, "heartbeat_s", int(v)),
    "deviation_bps": lambda d, v: _sources(d, "deviation_bps", int(v)),
    "latency_s": lambda d, v: _sources(d, "latency_s", float(v)),
    "max_age_s": lambda d, v: _market(d, d["market_id"], "oracle_max_age", int(v)),
    "keeper_latency_s": lambda d, v: d["keepers"]["latency"].__setitem__("seconds", float(v)),
    "insurance_usd": lambda d, v: d["population"].__setitem__("insurance_usd", int(v)),
    "safety_module_usd": lambda d, v: d["population"].__setitem__("safety_module_usd", int(v)),
}


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """`latency_s=0,60,300` -> ("latency_s", [0, 60, 300])."""
    name, _, values = text.partition("=")
    if name not in PARAMETERS:
        raise ValueError(f"--sweep: unknown parameter {name!r}; one of {sorted(PARAMETERS)}")
    try:
        grid = [float(x) for x in values.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--sweep {text!r}: values must be numbers separated by commas") from None
    if not grid:
        raise ValueError(f"--sweep {text!r}: give at least one value, e.g. {name}=0,60,300")
    return name, grid


def with_value(config: SimConfig, parameter: str, value: float) -> SimConfig:
    data = config.model_dump()
    PARAMETERS[parameter](data, value)
    return SimConfig.model_validate(data)


def open_interest_usd(config: SimConfig) -> float:
    start = int(round(config.path.start_price * 10 ** config.market().feed_decimals))
    pop = sample_population(config, start)
    return sum(abs(s) for s in pop.sizes) / 1e18 * config.path.start_price


def run_point(config: SimConfig) -> dict[str, Any]:
    """One grid point: the tier-2 summary."""
    return summarise(config, run_vectorised(config), open_interest_usd(config))


def sweep(
    config: SimConfig,
    parameter: str,
    values: list[float],
    scheduler: str | Any | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Runs every grid point; `scheduler` is a Dask scheduler address (or a distributed.Client),
    else local processes (`workers`, default: the CPU count)."""
    configs = [with_value(config, parameter, v) for v in values]
    if scheduler is not None:
        from distributed import Client

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            summaries = client.gather(client.map(run_point, configs, pure=False))
        finally:
            if client is not scheduler:
                client.close()
    elif workers == 1 or len(configs) == 1:
        summaries = [run_point(c) for c in configs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            summaries = list(pool.map(run_point, configs))
    return [{"parameter": parameter, "value": v, "summary": s} for v, s in zip(values, summaries, strict=True)]


def break_even(points: list[dict[str, Any]], insurance_usd: float) -> float | None:
    """The smallest swept value at which the expected shortfall exceeds the insurance bucket,
    interpolated linearly between grid points; None if it never does."""
    previous = None
    for point in points:
        mean = point["summary"]["distribution_usd"]["shortfall"]["mean"]
        if mean > insurance_usd:
            if previous is None:
                return float(point["value"])
            x0, y0 = previous
            x1 = point["value"]
            return float(x0 + (insurance_usd - y0) * (x1 - x0) / (mean - y0)) if mean != y0 else float(x1)
        previous = (point["value"], mean)
    return None
