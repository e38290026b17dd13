"""Risk metrics over the paths of a run (USD): loss distributions per layer, tail risk of the
LP pool, probabilities of each backstop layer being used, the capital ratios, the oracle's price
lag at landing, and the headline figures' confidence intervals with a convergence check
(simulator.stats)."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator import stats
from simulator.config import SimConfig
from simulator.oracles import price_lag, simulate_oracle
from simulator.paths import generate_paths
from simulator.vectorised import LAG_BUCKETS, ChunkResult

LAG_SAMPLE_PATHS = 1_000  # paths whose every landing round is measured for the price lag

LAYERS = ("shortfall", "from_insurance", "from_safety_module", "from_pool")


def distribution(values: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(values.mean()),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "p99": float(np.percentile(values, 99)),
        "max": float(values.max()),
    }


def var_cvar(losses: np.ndarray, level: float) -> tuple[float, float]:
    """Value at risk (the `level` quantile) and conditional value at risk (expected shortfall:
    the mean of the worst ceil((1 - level) x paths) losses)."""
    return float(np.percentile(losses, level * 100)), float(stats.cvar(level)(losses))


def headline_intervals(config: SimConfig, values: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """The headline figures with their confidence intervals (one set of resamples for all)."""
    n = values["shortfall"].size
    indices = stats.resample_indices(n, config.seed) if 1 < n <= stats.BOOTSTRAP_MAX_PATHS else None
    lp = values["from_pool"]
    figures = {
        "mean_bad_debt_usd": (values["shortfall"], stats.mean),
        "p99_bad_debt_usd": (values["shortfall"], stats.quantile(0.99)),
        "mean_lp_loss_usd": (lp, stats.mean),
        "lp_loss_cvar99_usd": (lp, stats.cvar(0.99)),
        "p_lp_loss": (lp, stats.probability_positive),
        "p_insurance_depleted": (values["insurance_depleted"], stats.mean),
        "mean_unliquidated_usd": (values["unrealised_shortfall"], stats.mean),
    }
    return {
        name: stats.interval(series, statistic, config.seed, indices=indices)
        for name, (series, statistic) in figures.items()
    }


def oracle_lag_at_landing(config: SimConfig, paths: int = LAG_SAMPLE_PATHS) -> dict[str, Any] | None:
    """The price lag of every round as it lands, on the first `paths` paths: seconds since the
    market showed that price, and bps between it and the market's price at landing (positive:
    the chain shows more than the market). None when no round lands after the opening."""
    count = min(paths, config.paths)
    prices = generate_paths(config, 0, count)
    timeline = simulate_oracle(config, prices, 0)
    seconds, bps = price_lag(timeline, prices, config.step_s)
    lands = timeline.lands.copy()
    lands[:, 0] = False
    if not lands.any():
        return None
    s, b = seconds[lands], bps[lands]

    def spread(x: np.ndarray) -> dict[str, float]:
        return {"p50": float(np.percentile(x, 50)), "p99": float(np.percentile(x, 99)), "max": float(x.max())}

    return {"paths": count, "rounds": int(lands.sum()), "seconds": spread(s), "bps": spread(np.abs(b))}


def summarise(
    config: SimConfig,
    result: ChunkResult,
    open_interest_usd: float,
    exact: list[Any] | None = None,
    warn: bool = True,
) -> dict[str, Any]:
    """Every metric of the issue from the tier-2 paths (and ADL/haircut figures from any tier-1
    paths given in `exact`); with `warn`, a ConvergenceWarning per headline figure whose interval
    is wider than the tolerance."""
    v = result.values
    pop = config.population
    lp_loss = v["from_pool"]
    var95, cvar95 = var_cvar(lp_loss, 0.95)
    _, cvar99 = var_cvar(lp_loss, 0.99)
    _, cvar999 = var_cvar(lp_loss, 0.999)
    depletion = v["depletion_time"][~np.isnan(v["depletion_time"])]
    p99 = float(np.percentile(v["shortfall"], 99))
    gaps = {
        f"{LAG_BUCKETS[b]}s+": (float(result.gap_sum[b] / result.gap_count[b]) if result.gap_count[b] else None)
        for b in range(len(LAG_BUCKETS))
    }
    summary: dict[str, Any] = {
        "paths": int(v["shortfall"].size),
        "tier": "vectorised (approximate)",
        "distribution_usd": {layer: distribution(v[layer]) for layer in LAYERS},
        "unrealised_shortfall_usd": distribution(v["unrealised_shortfall"]),
        "liquidations_per_path": float(v["liquidations"].mean()),
        "lp_loss_usd": {"VaR95": var95, "CVaR95": cvar95, "CVaR99": cvar99, "CVaR99.9": cvar999},
        "probability": {
            "insurance_touched": float(v["insurance_touched"].mean()),
            "insurance_depleted": float(v["insurance_depleted"].mean()),
            "safety_module_slashed": float(v["safety_module_slashed"].mean()),
            "slash_cap_binds": float(v["slash_cap_binds"].mean()),
            "adl_triggered": float(v["adl_triggered"].mean()),
        },
        "time_to_insurance_depletion_s": (
            {"mean": float(depletion.mean()), "p50": float(np.percentile(depletion, 50))} if depletion.size else None
        ),
        # keyed on the price lag at the liquidation (now minus when the chain's price was seen)
        "execution_minus_bankruptcy_gap_bps_by_oracle_lag": gaps,
        "insurance_to_open_interest": pop.insurance_usd / open_interest_usd if open_interest_usd else None,
        "backstop_to_p99_loss": (pop.insurance_usd + pop.safety_module_usd) / p99 if p99 > 0 else None,
        "open_interest_usd": open_interest_usd,
        "oracle_lag_at_landing": oracle_lag_at_landing(config),
    }
    intervals = headline_intervals(config, v)
    summary["intervals"] = intervals
    summary["convergence"] = stats.check_convergence(intervals, summary["paths"], warn=warn)
    if exact:
        unit = 10**config.system.collateral_decimals
        summary["exact_sample"] = {
            "paths": len(exact),
            "adl_notional_usd": [r.adl_notional / unit for r in exact],
            "adl_steps": [r.adl_steps for r in exact],
            "haircut_usd": [r.haircut / unit for r in exact],
            "shortfall_usd": [r.totals()["shortfall"] / unit for r in exact],
        }
    return summary
