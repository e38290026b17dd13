"""Endogenous cascades (issue 20 item 2): market depth moves the price the next oracle round
reports, in both tiers; keepers' per-block capacity, a gas price that rises with volatility;
bad debt per $ of open interest rises with open interest once the book moves the market.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.bench import open_interest_usd, scaled_book
from simulator.cascade import depth_shift, gas_cost_usd
from simulator.config import SimConfig
from simulator.exact import run_exact
from simulator.matrix import ABSOLUTE_USD, RELATIVE, compare
from simulator.paths import preset_config_data
from simulator.vectorised import run_chunk


def test_depth_shift__square_root_impact_from_the_next_step__halves_every_half_life():
    config = scaled_book("oct_10_2025_cascade", 1, True)
    steps = config.steps + 1
    sold = np.zeros((1, steps))
    sold[0, 10] = 4 * config.depth.depth_usd  # longs sold: four times the depth
    shift = depth_shift(config, sold)
    move = config.depth.impact_bps / 10_000 * math.sqrt(4)
    assert shift[0, :11].tolist() == [0.0] * 11
    assert shift[0, 11] == pytest.approx(-move)
    half = int(config.depth.half_life_s // config.step_s)
    assert shift[0, 11 + half] == pytest.approx(-move / 2)
    bought = depth_shift(config, -sold)  # shorts closed: bought, the price rises
    assert bought[0, 11] == pytest.approx(move)


def test_depth__the_path_is_a_function_of_the_book__tiers_agree():
    small, large = (
        scaled_book("oct_10_2025_cascade", 1, True, paths=2),
        scaled_book("oct_10_2025_cascade", 100, True, paths=2),
    )
    assert run_exact(small, 0).prices != run_exact(large, 0).prices
    without = scaled_book("oct_10_2025_cascade", 100, False, paths=2)
    assert run_exact(without, 0).prices == run_exact(scaled_book("oct_10_2025_cascade", 1, False, paths=2), 0).prices
    result = compare(large)
    assert result.within, result.detail
    assert result.liquidations > 0


def test_bad_debt_per_dollar_of_open_interest__rises_with_open_interest_only_with_depth():
    bps = {}
    for depth in (False, True):
        for k in (1, 100):
            config = scaled_book("oct_10_2025_cascade", k, depth, paths=20)
            bps[depth, k] = run_chunk(config, 0, 20).values["shortfall"].mean() / open_interest_usd(config)
    assert bps[False, 100] == pytest.approx(bps[False, 1], rel=0.05)  # homogeneous without depth
    assert bps[True, 100] > 1.3 * bps[True, 1]


def test_gas_rises_with_volatility__keepers_wait_out_the_crash__both_tiers():
    # High leverage: the positions the expensive blocks delay go past bankruptcy (the relational
    # bounds left the default book's liquidations at the trigger without a shortfall).
    population = dict(
        positions=10,
        insurance_usd=2_000,
        safety_module_usd=5_000,
        notional_median_usd=3_000,
        leverage_min=8,
        leverage_max=10,
    )
    data = preset_config_data("may_19_2021", population=population, paths=2, keepers=dict(gas_cost_usd=3))
    calm = SimConfig.model_validate(data)
    stormy = SimConfig.model_validate(data | dict(keeper_limits=dict(gas_volatility=40)))
    prices = np.array([[100.0, 100.0, 98.0, 98.0]])
    assert gas_cost_usd(stormy, prices)[0].tolist() == pytest.approx([3, 3, 3 * (1 + 40 * 200 / 98), 3])
    late, early = run_exact(stormy, 0), run_exact(calm, 0)
    # Keepers wait out the expensive blocks of the crash: later liquidations, more bad debt.
    assert [r.step for r in late.liquidations] != [r.step for r in early.liquidations]
    assert late.totals()["shortfall"] > early.totals()["shortfall"]
    for config in (calm, stormy):
        result = compare(config)
        assert result.within, result.detail
    assert RELATIVE == 0.02 and ABSOLUTE_USD == 2.0  # the tolerance docs/SIMULATOR.md states
