"""Tier agreement on any config (issue 20 item 1): 40 configs drawn at random (seeded) over the
config space (simulator.matrix: leverage, both sides, partial thresholds, multi-day funding,
small pools, open-interest caps, keeper lag, gas, capacity and outages, every oracle model,
sequencer outages, CSV paths, skew impact and market depth on and off), each on both tiers:
the same liquidation steps per path (ties excepted) and every layer's total within the stated
tolerance (2% of the path's tier-1 shortfall plus $2). `make bench` runs a larger draw.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from simulator.config import SimConfig
from simulator.fidelity import outside_regime
from simulator.matrix import compare, random_config
from simulator.paths import preset_config_data
from simulator.vectorised import FastTierFallback, open_book, run_chunk

CONFIGS = 40


@pytest.mark.parametrize("block", range(4))
def test_matrix__tiers_agree_on_random_configs(tmp_path, block):
    size = CONFIGS // 4
    results = [compare(random_config(20, i, tmp_path), i) for i in range(block * size, (block + 1) * size)]
    failed = [f"config {r.index}: {r.detail}" for r in results if not r.within]
    assert failed == []
    assert sum(r.liquidations for r in results) > size  # configs that liquidate nobody test little


def test_matrix__covers_the_config_space(tmp_path):
    configs = [random_config(20, i, tmp_path) for i in range(CONFIGS)]
    kinds = {c.path.kind for c in configs}
    assert {"gbm", "merton", "csv"} <= kinds
    oracle = {
        (len(c.oracle.sources), c.oracle.sources[0].kind, c.oracle.sources[0].frozen_at_s is not None) for c in configs
    }
    assert {(1, "push", False), (1, "pull", False), (1, "push", True), (3, "push", True)} <= oracle
    assert any(c.depth.enabled for c in configs) and any(not c.depth.enabled for c in configs)
    assert any(c.keeper_limits.capacity() for c in configs) and any(c.oracle.sequencer for c in configs)
    assert any(c.keeper_limits.gas_volatility for c in configs) and any(c.keeper_limits.outages for c in configs)
    assert any(c.market().impact_bps == 0 for c in configs) and any(c.market().impact_bps > 0 for c in configs)
    assert any(c.horizon_s >= 2 * 86400 for c in configs)
    assert any(c.population.lp_deposit_usd <= 300_000 for c in configs)
    assert {0.0, 1.0} <= {c.population.long_fraction for c in configs}


def _crash(name: str = "may_19_2021", **extra) -> SimConfig:
    population = dict(positions=10, insurance_usd=2_000, safety_module_usd=5_000) | extra.pop("population", {})
    return SimConfig.model_validate(preset_config_data(name, population=population, paths=2, **extra))


def test_router_refusals__small_pool__orders_over_the_utilisation_limit_never_open():
    from simulator.exact import run_exact
    from simulator.population import sample_population

    config = _crash(population=dict(lp_deposit_usd=150_000, notional_median_usd=60_000))
    exact = run_exact(config, 0)
    cancelled = {
        i
        for i, a in enumerate(a for a in exact.actions if a.function == "executeOrder")
        if a.outcome.events_named("OrderCancelled")
    }
    pop = sample_population(config, int(exact.timeline.answer[0, 0]))
    book = open_book(config, pop, exact.timeline.answer[0, 0] / 1e8)
    assert cancelled and set(book.filled) == set(range(len(pop))) - cancelled


def test_keeper_capacity__liquidations_that_do_not_fit_wait__both_tiers():
    from simulator.exact import run_exact

    config = _crash("frozen_feed_collapse", keeper_limits=dict(block_gas_budget=300_000))
    unlimited = _crash("frozen_feed_collapse")
    exact = run_exact(config, 0)
    per_step = np.bincount([r.step for r in exact.liquidations])
    assert per_step.max() == 1
    assert max(np.bincount([r.step for r in run_exact(unlimited, 0).liquidations])) > 1
    fast = run_chunk(config, 0, 1, keep_steps=True)
    assert {r.trader: r.step for r in exact.liquidations} == {i: int(s) for i, s in enumerate(fast.steps[0]) if s >= 0}


def test_keeper_outage__nothing_liquidates_while_keepers_are_out():
    from simulator.exact import run_exact

    config = _crash(keeper_limits=dict(outages=[dict(at_s=0, duration_s=6 * 3600)]))
    assert run_exact(config, 0).liquidations == []
    assert run_chunk(config, 0, 1).values["liquidations"][0] == 0


def test_partial_threshold__named_warning_before_running__tranches_from_tier1():
    from simulator.exact import run_exact
    from simulator.vectorised import run_vectorised

    market = dict(partial_liquidation_threshold=30_000 * 10**6)
    data = preset_config_data("may_19_2021", population=dict(positions=6, notional_median_usd=50_000), paths=1)
    data["system"]["markets"][0] |= market
    config = SimConfig.model_validate(data)
    assert any("partial" in r for r in outside_regime(config))
    with pytest.warns(FastTierFallback):
        fast = run_vectorised(config)
    exact = run_exact(config, 0)
    assert len({r.trader for r in exact.liquidations}) < len(exact.liquidations)  # tranches
    assert fast.values["shortfall"][0] == pytest.approx(exact.totals()["shortfall"] / 1e6)
    assert list(fast.exact_paths) == [0]


def test_default_presets__stay_in_tier2(recwarn):
    config = _crash()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FastTierFallback)
        result = run_chunk(config, 0, 2)
    assert len(result.exact_paths) == 0
