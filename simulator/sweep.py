"""Sensitivity sweeps: one parameter over a grid, or two over every pair of their grids, every
grid point on the same paths and draws (common random numbers: same seeds, per-path streams),
on local processes by default or on a Dask cluster given its scheduler address.

A parameter is a short name (`PARAMETERS`: the oracle's, the keepers', the backstop's, leverage,
open interest) or the dotted path of any numeric SimConfig field (`population.leverage_max`,
`path.sigma`, `market.initial_margin_bps` for the simulated market, `oracle.sources.heartbeat_s`
for every source, `oracle.sources.1.heartbeat_s` for one). Every grid point is validated before
anything runs: a value the field refuses (0.5 for an integer field, a leverage above the
market's maximum) raises SweepValueError naming the parameter and the value.

`break_even` reports where expected bad debt crosses the insurance bucket, each point judged
against its own bucket (so a sweep of `insurance_usd` finds the bucket that covers it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from pydantic import ValidationError

from simulator.config import SimConfig
from simulator.metrics import summarise
from simulator.population import sample_population
from simulator.vectorised import run_vectorised

Setter = Callable[[dict, Any], None]


class SweepError(ValueError):
    """A sweep that cannot run: unknown parameter, malformed grid, or a value a field refuses."""


class SweepValueError(SweepError):
    """A swept value the config refuses (named: parameter, value, the field's rule)."""


class SchedulerUnreachable(SweepError):
    """The Dask scheduler given does not answer."""


def _sources(data: dict, key: str, value: Any) -> None:
    for source in data["oracle"]["sources"]:
        if key == "latency_s":
            source["latency"]["seconds"] = value
        else:
            source[key] = value


def _market(data: dict, key: str, value: Any) -> None:
    for market in data["system"]["markets"]:
        if market["market_id"] == data["market_id"]:
            market[key] = value


def _population(*keys: str) -> Setter:
    def setter(data: dict, value: Any) -> None:
        for key in keys:
            data["population"][key] = value

    return setter


def _scale_open_interest(data: dict, value: Any) -> None:
    """`oi_scale`: every position's notional times `value` (the book's open interest scales;
    the leverage, the sides and the count stay)."""
    pop = data["population"]
    pop["notional_median_usd"] = pop["notional_median_usd"] * value
    pop["notional_max_usd"] = pop["notional_max_usd"] * value


# Short names: name -> how it changes the config data.
PARAMETERS: dict[str, Setter] = {
    "heartbeat_s": lambda d, v: _sources(d, "heartbeat_s", v),
    "deviation_bps": lambda d, v: _sources(d, "deviation_bps", v),
    "latency_s": lambda d, v: _sources(d, "latency_s", v),
    "max_age_s": lambda d, v: _market(d, "oracle_max_age", v),
    "keeper_latency_s": lambda d, v: d["keepers"]["latency"].__setitem__("seconds", v),
    "gas_cost_usd": lambda d, v: d["keepers"].__setitem__("gas_cost_usd", v),
    "insurance_usd": _population("insurance_usd"),
    "safety_module_usd": _population("safety_module_usd"),
    "lp_deposit_usd": _population("lp_deposit_usd"),
    "leverage": _population("leverage_min", "leverage_max"),  # every trader at this leverage
    "leverage_max": _population("leverage_max"),
    "positions": _population("positions"),
    "notional_median_usd": _population("notional_median_usd"),
    "oi_scale": _scale_open_interest,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def field_setter(name: str) -> Setter:
    """The setter of a dotted SimConfig field (`market.` is the simulated market's fields;
    a list step without an index applies to every element). Raises SweepError when the path
    does not lead to a number in the default config."""
    parts = name.split(".")
    probe = SimConfig().model_dump()
    prefix: list[str] = []
    if parts[0] == "market":
        probe = next(m for m in probe["system"]["markets"] if m["market_id"] == SimConfig().market_id)
        parts, prefix = parts[1:], ["market"]

    def walk(node: Any, rest: list[str]) -> bool:
        if not rest:
            return _is_number(node)
        head, tail = rest[0], rest[1:]
        if isinstance(node, list):
            if head.isdigit():
                return int(head) < len(node) and walk(node[int(head)], tail)
            return bool(node) and walk(node[0], rest)
        return isinstance(node, dict) and head in node and walk(node[head], tail)

    if not parts or not walk(probe, parts):
        raise SweepError(
            f"--sweep: unknown parameter {name!r}; one of {sorted(PARAMETERS)} or the dotted path of a numeric "
            "SimConfig field (e.g. population.leverage_max, path.sigma, market.initial_margin_bps)"
        )

    def assign(node: Any, rest: list[str], value: Any) -> None:
        head, tail = rest[0], rest[1:]
        if isinstance(node, list):
            targets = [node[int(head)]] if head.isdigit() else node
            for target in targets:
                assign(target, tail if head.isdigit() else rest, value)
            return
        if not tail:
            node[head] = value
        else:
            assign(node[head], tail, value)

    def setter(data: dict, value: Any) -> None:
        if prefix:
            for market in data["system"]["markets"]:
                if market["market_id"] == data["market_id"]:
                    assign(market, parts, value)
        else:
            assign(data, parts, value)

    return setter


def setter_of(name: str) -> Setter:
    return PARAMETERS[name] if name in PARAMETERS else field_setter(name)


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """`latency_s=0,60,300` -> ("latency_s", [0, 60, 300]); integral values come back as ints
    (so an integer field takes them), the others as floats (which an integer field refuses)."""
    name, _, values = text.partition("=")
    setter_of(name)  # unknown names fail here
    try:
        grid = [float(x) for x in values.split(",") if x.strip()]
    except ValueError:
        raise SweepError(f"--sweep {text!r}: values must be numbers separated by commas") from None
    if not grid:
        raise SweepError(f"--sweep {text!r}: give at least one value, e.g. {name}=0,60,300")
    return name, [int(v) if v.is_integer() else v for v in grid]


def with_values(config: SimConfig, assignment: dict[str, Any]) -> SimConfig:
    """`config` with each parameter set; SweepValueError when a value is refused."""
    data = config.model_dump()
    for parameter, value in assignment.items():
        setter_of(parameter)(data, value)
    try:
        return SimConfig.model_validate(data)
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'config'}: {e['msg']}" for e in error.errors())
        point = ", ".join(f"{k}={v!r}" for k, v in assignment.items())
        raise SweepValueError(f"--sweep {point} is refused: {where}") from None


def with_value(config: SimConfig, parameter: str, value: float) -> SimConfig:
    return with_values(config, {parameter: value})


def open_interest_usd(config: SimConfig) -> float:
    start = int(round(config.path.start_price * 10 ** config.market().feed_decimals))
    pop = sample_population(config, start)
    return sum(abs(s) for s in pop.sizes) / 1e18 * config.path.start_price


def run_point(config: SimConfig) -> tuple[dict[str, Any], Any]:
    """One grid point: the tier-2 summary (intervals included, no warnings: the caller
    reports convergence per point) and the per-path bad debt (for the break-even's interval)."""
    result = run_vectorised(config)
    return summarise(config, result, open_interest_usd(config), warn=False), result.values["shortfall"]


SCHEDULER_TIMEOUT_S = 10.0


def connect(scheduler: str | Any, timeout: float | None = None) -> Any:
    """A distributed.Client on `scheduler` (an address, or a Client passed through);
    SchedulerUnreachable when nothing answers within `timeout` seconds (SCHEDULER_TIMEOUT_S)."""
    from distributed import Client

    timeout = SCHEDULER_TIMEOUT_S if timeout is None else timeout
    if isinstance(scheduler, Client):
        return scheduler
    try:
        return Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SchedulerUnreachable(f"--scheduler {scheduler}: no Dask scheduler answers ({reason})") from None


def run_configs(configs: list[SimConfig], scheduler: str | Any | None = None, workers: int | None = None) -> list:
    if scheduler is not None:
        client = connect(scheduler)
        try:
            return client.gather(client.map(run_point, configs, pure=False))
        finally:
            if client is not scheduler:
                client.close()
    if workers == 1 or len(configs) == 1:
        return [run_point(c) for c in configs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_point, configs))


def sweep(
    config: SimConfig,
    parameter: str,
    values: list[float],
    scheduler: str | Any | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Runs every grid point; `scheduler` is a Dask scheduler address (or a distributed.Client),
    else local processes (`workers`, default: the CPU count). Every point is validated first."""
    return sweep_grid(config, [(parameter, values)], scheduler, workers)


def sweep_grid(
    config: SimConfig,
    axes: list[tuple[str, list[float]]],
    scheduler: str | Any | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Every combination of the axes' values (one or two axes; the first varies slowest). A
    point: {parameter, value} of the first axis, `values` of all, its insurance bucket and its
    summary."""
    names = [name for name, _ in axes]
    if len(set(names)) != len(names):
        raise SweepError(f"--sweep: {names} repeats a parameter")
    assignments = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in axes))]
    configs = [with_values(config, a) for a in assignments]  # all refused values fail before anything runs
    results = run_configs(configs, scheduler, workers)
    return [
        {
            "parameter": names[0],
            "value": a[names[0]],
            "values": a,
            "insurance_usd": c.population.insurance_usd,
            "summary": summary,
            "shortfall_per_path": shortfall,  # not written to sweep.json (see `for_json`)
        }
        for a, c, (summary, shortfall) in zip(assignments, configs, results, strict=True)
    ]


def for_json(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.items() if k != "shortfall_per_path"} for p in points]


def break_even(points: list[dict[str, Any]], insurance_usd: float | None = None) -> dict[str, Any]:
    """Where expected bad debt crosses the insurance bucket along a one-parameter sweep, each
    point against its own bucket (`insurance_usd` of the point; the argument where a point has
    none). `kind`: `exceeds_above` (bad debt under the bucket at the start, over it from
    `value`, interpolated linearly), `covered_from` (over it at the start, covered from
    `value`: a sweep of the bucket itself), `always_exceeds` / `never_exceeds` (no crossing
    on the grid; `value` None)."""
    gaps = []
    for point in points:
        bucket = point.get("insurance_usd", insurance_usd)
        gaps.append((float(point["value"]), point["summary"]["distribution_usd"]["shortfall"]["mean"] - bucket))
    over = gaps[0][1] > 0
    for (x0, y0), (x1, y1) in itertools.pairwise(gaps):
        if (y1 > 0) != over:
            value = x0 + (0 - y0) * (x1 - x0) / (y1 - y0) if y1 != y0 else x1
            return {"kind": "covered_from" if over else "exceeds_above", "value": float(value)}
    return {"kind": "always_exceeds" if over else "never_exceeds", "value": None}


def break_even_interval(
    points: list[dict[str, Any]], insurance_usd: float | None = None, seed: int = 0, level: float = 0.95
) -> dict[str, Any] | None:
    """The break-even's Monte Carlo interval: the paths resampled (the same resamples at every
    grid point, as the points share their paths), the crossing found in each resample; the
    share of resamples with a crossing of the same kind is given too. None without per-path
    values or a crossing."""
    import numpy as np

    from simulator import stats

    even = break_even(points, insurance_usd)
    if even["value"] is None or any(p.get("shortfall_per_path") is None for p in points):
        return None
    per_path = np.stack([np.asarray(p["shortfall_per_path"]) for p in points])  # points x paths
    indices = stats.resample_indices(per_path.shape[1], seed)
    means = per_path[:, indices].mean(axis=2)  # points x resamples
    found = []
    for column in means.T:
        fake = [
            {"value": p["value"], "insurance_usd": p.get("insurance_usd", insurance_usd),
             "summary": {"distribution_usd": {"shortfall": {"mean": float(m)}}}}
            for p, m in zip(points, column, strict=True)
        ]  # fmt: skip
        other = break_even(fake, insurance_usd)
        if other["kind"] == even["kind"]:
            found.append(other["value"])
    if not found:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(found, [tail, 100 - tail])
    return {"low": float(low), "high": float(high), "level": level, "share": len(found) / len(indices)}


def describe_break_even(parameter: str, even: dict[str, Any]) -> str:
    value = even["value"]
    ci = even.get("interval")
    if ci is not None:
        value_text = f"{value:,.4g} ({ci['level']:.0%} interval {ci['low']:,.4g} - {ci['high']:,.4g})"
    else:
        value_text = f"{value:,.4g}" if value is not None else ""
    return {
        "exceeds_above": f"break-even {parameter}: {value_text}: expected bad debt exceeds the insurance bucket above",
        "covered_from": f"break-even {parameter}: {value_text}: the insurance bucket covers expected bad debt from",
        "always_exceeds": f"break-even {parameter}: none on the grid (expected bad debt exceeds the bucket everywhere)",
        "never_exceeds": f"break-even {parameter}: none on the grid (expected bad debt stays under the bucket)",
    }[even["kind"]]
