"""What a sizing decision rests on: intervals and the convergence check, separate seeds for the
book and the market, the sizing mode, sweeps over any numeric field and two-parameter grids, the
four baselines of the median comparison."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import stats
from simulator.api import median_vs_single, simulate
from simulator.paths import preset_config
from simulator.population import sample_population
from simulator.sizing import SizingError, size_backstop
from simulator.sweep import SweepError, break_even, sweep, sweep_grid, with_values


def small(paths: int = 60, **extra):
    return preset_config("oct_10_2025_cascade", population=dict(positions=30), paths=paths, **extra)


def test_interval__seeded_contains_the_estimate__narrows_with_paths():
    rng = np.random.default_rng(7)
    few, many = rng.exponential(100, 200), rng.exponential(100, 5_000)
    a, b = stats.interval(few, stats.mean, seed=1), stats.interval(few, stats.mean, seed=1)
    assert a == b and a["low"] <= a["estimate"] <= a["high"]
    wide, narrow = a["high"] - a["low"], (lambda c: c["high"] - c["low"])(stats.interval(many, stats.mean, seed=1))
    assert narrow < wide / 3  # about sqrt(25) narrower
    batch = stats.interval(rng.exponential(100, stats.BOOTSTRAP_MAX_PATHS + 1), stats.mean)
    assert batch["method"] == "batch means" and batch["low"] < 100 < batch["high"]


def test_cvar__mean_of_the_worst_tail__zeros_give_zero():
    losses = np.array([0.0] * 990 + list(range(1, 11)))
    assert stats.cvar(0.99)(losses) == pytest.approx(5.5)
    assert stats.cvar(0.99)(np.zeros(1000)) == 0


def test_convergence__warns_with_the_paths_needed():
    intervals = {"mean_bad_debt_usd": {"estimate": 100.0, "low": 60.0, "high": 140.0, "level": 0.95}}
    with pytest.warns(stats.ConvergenceWarning, match=r"about 1,600 paths needed"):
        report = stats.check_convergence(intervals, paths=100)
    assert report == {"tolerance": 0.1, "converged": False, "paths_needed": {"mean_bad_debt_usd": 1600}}
    assert stats.check_convergence(intervals, paths=100, tolerance=0.5, warn=False)["converged"]


def test_summary__every_headline_figure_has_an_interval():
    with pytest.warns(stats.ConvergenceWarning):
        summary = simulate(small(), exact_paths=0).summary
    for name, ci in summary["intervals"].items():
        assert ci["low"] <= ci["estimate"] <= ci["high"] or ci["low"] == ci["high"], name
    assert summary["intervals"]["mean_bad_debt_usd"]["estimate"] == summary["distribution_usd"]["shortfall"]["mean"]
    assert not summary["convergence"]["converged"]  # 60 paths is not enough, and it says so
    lag = summary["oracle_lag_at_landing"]
    assert lag["rounds"] > 0 and lag["seconds"]["p50"] >= 60  # the cascade's feed lands 120 s late (median)


def test_population_seed__the_book_stays_when_the_path_seed_changes():
    start = 116_799 * 10**8
    base = sample_population(small(), start)
    assert sample_population(small(seed=5), start) == base
    assert sample_population(small(population_seed=5), start) != base


def test_sizing__smallest_bucket_meeting_the_target__with_its_interval():
    config = preset_config("oct_10_2025_cascade", population=dict(positions=30, safety_module_usd=0), paths=120)
    sizing = size_backstop(config, "insurance_usd", "p_lp_loss", target=0.02, grid=6, refine=4)
    assert sizing["met"] and sizing["recommended_usd"] > 0
    curve = {row["size_usd"]: row for row in sizing["curve"]}
    assert curve[sizing["recommended_usd"]]["p_lp_loss"] <= 0.02
    below = max(s for s in curve if s < sizing["recommended_usd"])
    assert curve[below]["p_lp_loss"] > 0.02  # nothing smaller evaluated meets it
    means = [row["mean"] for row in sizing["curve"]]
    assert means == sorted(means, reverse=True)  # LP loss falls as the bucket grows
    ci = sizing["interval_usd"]
    assert ci["low"] <= sizing["recommended_usd"] <= ci["high"]
    bare = with_values(config, {"insurance_usd": 0})
    cvar = size_backstop(bare, "safety_module_usd", "lp_cvar99", target=100.0, grid=5, refine=3)
    assert cvar["recommended_usd"] > 0
    assert cvar["met"] and cvar["metric_at_recommended"] <= 100
    with pytest.raises(SizingError, match="a probability in"):
        size_backstop(config, target=1.5)


def test_sweep__any_numeric_field__leverage_and_open_interest():
    config = small(paths=30)
    assert with_values(config, {"population.leverage_max": 4}).population.leverage_max == 4
    assert with_values(config, {"market.oracle_max_age": 7200}).market().oracle_max_age == 7200
    with pytest.raises(SweepError, match=r"market.initial_margin_bps=500 is refused: .*tierMaintenanceBps"):
        with_values(config, {"market.initial_margin_bps": 500})  # below the maintenance tiers: named
    assert with_values(config, {"oi_scale": 2}).population.notional_median_usd == 40_000
    with pytest.raises(SweepError, match="unknown parameter 'population.nope'"):
        with_values(config, {"population.nope": 1})
    points = sweep(config, "oi_scale", [1, 4], workers=1)
    low, high = (p["summary"]["open_interest_usd"] for p in points)
    assert high == pytest.approx(4 * low, rel=0.05)  # the cap at notional_max scales too


def test_two_parameter_grid__every_pair():
    points = sweep_grid(small(paths=20), [("latency_s", [0, 600]), ("leverage", [3, 9])], workers=1)
    assert [tuple(p["values"].values()) for p in points] == [(0, 3), (0, 9), (600, 3), (600, 9)]
    debt = {tuple(p["values"].values()): p["summary"]["distribution_usd"]["shortfall"]["mean"] for p in points}
    assert debt[(600, 9)] >= debt[(0, 3)]


def test_insurance_sweep__judged_against_the_swept_bucket():
    points = sweep(small(paths=40), "insurance_usd", [0, 500, 100_000], workers=1)
    even = break_even(points, 8_000)
    mean = points[0]["summary"]["distribution_usd"]["shortfall"]["mean"]
    assert even["kind"] == "covered_from" and 500 < even["value"] < 100_000 and even["value"] >= mean * 0.99


def test_median_vs_single__four_baselines():
    result = median_vs_single(small(paths=30))
    for case in ("single_feed_healthy", "single_feed_stuck", "median_of_3_healthy", "median_of_3"):
        assert set(result[case]) == {"shortfall", "from_pool", "unrealised_shortfall", "bad_debt"}
    stuck, healthy = result["single_feed_stuck"]["bad_debt"], result["single_feed_healthy"]["bad_debt"]
    assert stuck > healthy  # a stuck feed hides the crash's bad debt until the horizon
    assert result["bad_debt_saved_usd"] == pytest.approx(stuck - result["median_of_3"]["bad_debt"])
    saved = result["intervals"]["bad_debt_saved_usd"]
    assert saved["low"] <= result["bad_debt_saved_usd"] <= saved["high"]


def test_break_even__has_an_interval_from_the_paths():
    from simulator.sweep import break_even_interval

    config = preset_config("oct_10_2025_cascade", population=dict(positions=30, insurance_usd=1000), paths=60)
    points = sweep(config, "latency_s", [0, 600, 1800], workers=1)
    even = break_even(points)
    ci = break_even_interval(points, seed=0)
    assert even["kind"] == "exceeds_above" and ci is not None
    assert ci["low"] <= even["value"] <= ci["high"] and 0 < ci["share"] <= 1
