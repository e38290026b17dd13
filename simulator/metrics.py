"""Risk metrics over the paths of a run (USD): loss distributions per layer, tail risk of the
LP pool, probabilities of each backstop layer being used, and the capital ratios."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.config import SimConfig
from simulator.vectorised import LAG_BUCKETS, ChunkResult

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
    """Value at risk and conditional value at risk (expected shortfall) at `level`."""
    var = float(np.percentile(losses, level * 100))
    tail = losses[losses >= var]
    return var, float(tail.mean()) if tail.size else var


def summarise(
    config: SimConfig, result: ChunkResult, open_interest_usd: float, exact: list[Any] | None = None
) -> dict[str, Any]:
    """Every metric of the issue from the tier-2 paths (and ADL/haircut figures from any tier-1
    paths given in `exact`)."""
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
        "execution_minus_bankruptcy_gap_bps_by_oracle_lag": gaps,
        "insurance_to_open_interest": pop.insurance_usd / open_interest_usd if open_interest_usd else None,
        "backstop_to_p99_loss": (pop.insurance_usd + pop.safety_module_usd) / p99 if p99 > 0 else None,
        "open_interest_usd": open_interest_usd,
    }
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
