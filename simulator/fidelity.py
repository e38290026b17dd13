"""Where tier 2 stands for tier 1, and what happens where it does not (issue 20 item 1).

Tier 2 models in closed form: the opening book with the router's refusals, funding at its fixed
point, the keepers' lag, gas and capacity rules and the engine's tier rule at every step, the
waterfall, the depth model. It does not model partial-liquidation tranches (a position above
`partial_liquidation_threshold` closes in steps with a cooldown, its refund kept as margin) or
ADL trades. `outside_regime` names what a config may need before anything runs (the warning
`FastTierFallback`); at run time every path where one of them happens (a position liquidated
above the threshold, a side's profit ratio within 10% of the ADL trigger, a funding or keeper
queue that did not settle) is re-run on tier 1 and tier 1's figures replace tier 2's.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from simulator.config import SimConfig

LAG_BUCKETS = (0, 60, 300, 900, 3600)  # seconds: gap statistics by oracle lag


class FastTierFallback(UserWarning):
    """A config, or some of its paths, lies outside what tier 2 models in closed form (partial
    liquidation tranches, ADL trades, a funding or keeper queue that does not settle): those
    paths run on tier 1 (`simulator.exact`), whose figures replace tier 2's."""


def outside_regime(config: SimConfig) -> list[str]:
    """What in `config` tier 2 may hand to tier 1, before running (empty: nothing)."""
    reasons = []
    market = config.market()
    unit = 10**config.system.collateral_decimals
    if config.population.notional_max_usd * 2 * unit > market.partial_liquidation_threshold:
        reasons.append(
            f"positions up to ${config.population.notional_max_usd:,.0f} may pass the partial-liquidation "
            f"threshold (${market.partial_liquidation_threshold / unit:,.0f}) at liquidation: those paths run on tier 1"
        )
    if config.keepers.adl:
        reasons.append("ADL on: paths whose side profit ratio comes within 10% of the trigger run on tier 1")
    return reasons


def warn_outside_regime(config: SimConfig) -> list[str]:
    """`outside_regime` as a FastTierFallback warning (the ADL note only when the pool is small
    enough for it to matter: open interest above a fifth of the deposit)."""
    reasons = outside_regime(config)
    pop = config.population
    oi = pop.positions * pop.notional_median_usd
    shown = [r for r in reasons if not r.startswith("ADL") or oi * 5 > pop.lp_deposit_usd]
    if shown:
        warnings.warn(FastTierFallback("; ".join(shown)), stacklevel=3)
    return shown


def replace_with_exact(
    config: SimConfig,
    first: int,
    rows: np.ndarray,
    values: dict[str, np.ndarray],
    gap_sum: np.ndarray,
    gap_count: np.ndarray,
    steps: np.ndarray | None,
    ties: np.ndarray | None,
) -> None:
    """Runs chunk rows `rows` (paths first + row) on tier 1 and writes its figures over tier 2's,
    in place."""
    from simulator.exact import run_exact

    warnings.warn(
        FastTierFallback(f"{len(rows)} path(s) from {first} outside tier 2's closed form: run on tier 1"),
        stacklevel=3,
    )
    unit = 10.0**config.system.collateral_decimals
    dt = config.step_s
    buckets = np.array(LAG_BUCKETS[1:], dtype=float)
    for row in rows:
        exact = run_exact(config, first + int(row))
        totals = exact.totals()
        liquidations = exact.liquidations
        for layer in ("shortfall", "from_insurance", "from_safety_module", "from_pool"):
            values[layer][row] = totals[layer] / unit
        values["liquidations"][row] = len(liquidations)
        values["penalties"][row] = sum(r.penalty for r in liquidations) / unit
        values["insurance_touched"][row] = float(totals["from_insurance"] > 0)
        values["insurance_depleted"][row] = float(exact.first_insurance_empty_step is not None)
        values["safety_module_slashed"][row] = float(totals["from_safety_module"] > 0)
        values["slash_cap_binds"][row] = float(config.population.safety_module_usd > 0 and totals["from_pool"] > 0)
        values["adl_triggered"][row] = float(values["adl_triggered"][row] > 0 or exact.adl_steps > 0)
        empty = exact.first_insurance_empty_step
        values["depletion_time"][row] = np.nan if empty is None else empty * dt
        values["unrealised_shortfall"][row] = exact.unrealised_shortfall / unit
        gap_sum[row] = 0.0
        gap_count[row] = 0.0
        for r in liquidations:
            long = r.size_closed > 0
            b, e = r.bankruptcy_price, r.execution_price
            gap = ((b - e) if long else (e - b)) / max(b, 1) * 10_000
            k = int(np.searchsorted(buckets, float(r.oracle_lag), side="right"))
            gap_sum[row, k] += gap
            gap_count[row, k] += 1
        if steps is not None:
            steps[row] = -1
            ties[row] = False
            for r in liquidations:
                if steps[row, r.trader] < 0:
                    steps[row, r.trader] = r.step


def exact_share(result: Any) -> float:
    """Share of a run's paths tier 1 ran (a ChunkResult from run_vectorised)."""
    total = len(next(iter(result.values.values())))
    return len(result.exact_paths) / total if total else 0.0
