"""The traders and the backstop's capital of a scenario, drawn once per `population_seed` (the
same for every path, every price-path seed and every grid point of a sweep: common random
numbers).

Draws are floats (lognormal notional, uniform leverage); they become integers in on-chain units
here, once, so the exact tier only ever sees integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config import SimConfig
from simulator.rng import STREAM_KEEPER, STREAM_POPULATION, block_rows, path_rng

BPS = 10_000
WAD = 10**18


@dataclass(frozen=True)
class Population:
    """Position i: `sizes[i]` (signed, 1e18 base units) opened with `margins[i]` collateral
    units posted (target equity/notional = 1/leverage, plus fee, spread and impact on top)."""

    sizes: tuple[int, ...]
    margins: tuple[int, ...]
    leverages: tuple[float, ...]
    lp_deposit: int
    insurance: int
    safety_module: int
    gas_cost: int  # collateral units

    def __len__(self) -> int:
        return len(self.sizes)


def sample_population(config: SimConfig, start_answer: int) -> Population:
    """The population opened at the feed answer `start_answer` (the path's first price)."""
    pop = config.population
    market = config.market()
    decimals = config.system.collateral_decimals
    unit = 10**decimals
    scale = 10 ** (36 - decimals)
    price = start_answer * 10 ** (18 - market.feed_decimals)
    rng = path_rng(config.population_seed, 0, STREAM_POPULATION)
    n = pop.positions
    is_long = rng.random(n) < pop.long_fraction
    notional_usd = np.minimum(
        pop.notional_median_usd * np.exp(pop.notional_sigma * rng.standard_normal(n)), pop.notional_max_usd
    )
    leverage = rng.uniform(pop.leverage_min, pop.leverage_max, n)
    # Costs of the open, posted on top of the target equity: fee (twice, for rounding room),
    # spread and the largest impact.
    costs_bps = 2 * market.trading_fee_bps + market.spread_bps + market.max_impact_bps + 1
    sizes, margins = [], []
    # The market's minimum position (issue 8): notional and margin at least 1% above the minimums.
    min_notional = market.min_notional + market.min_notional // 100 + 1
    min_margin = market.min_margin + market.min_margin // 100 + 1
    for i in range(n):
        notional = max(int(notional_usd[i] * unit), unit, min_notional)
        size = notional * scale // price
        costs = notional * costs_bps // BPS + 1
        margin = max(notional * 10**6 // int(leverage[i] * 10**6), min_margin) + costs
        sizes.append(size if is_long[i] else -size)
        margins.append(margin)
    return Population(
        sizes=tuple(sizes),
        margins=tuple(margins),
        leverages=tuple(float(x) for x in leverage),
        lp_deposit=pop.lp_deposit_usd * unit,
        insurance=pop.insurance_usd * unit,
        safety_module=pop.safety_module_usd * unit,
        gas_cost=int(config.keepers.gas_cost_usd * unit),
    )


def keeper_latency_steps(config: SimConfig, first: int, count: int) -> np.ndarray:
    """Per path: how many steps late keepers see the chain (one draw per path)."""
    from simulator.oracles import draw_latency

    draws = block_rows(
        config.seed, STREAM_KEEPER, first, count, lambda rng, rows: draw_latency(config.keepers.latency, rng, rows)
    )
    return np.ceil(draws / config.step_s).astype(np.int64)
