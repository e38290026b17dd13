"""Tier 1 (exact, pymodel) against tier 2 (vectorised, floats) on sampled paths of every preset,
with the market as deployed: the same positions liquidated at the same steps (threshold ties
excepted and counted), and shortfall and per-layer totals within the relative tolerance that
docs/SIMULATOR.md states and explains.
"""

from __future__ import annotations

import pytest

from pymodel.config import default_config, default_market
from pymodel.oracle_adapter import MarkStatus
from simulator.config import SimConfig
from simulator.exact import GENESIS, ExactRun, run_exact
from simulator.oracles import BAND, OK
from simulator.paths import PRESETS, preset_config, preset_config_data
from simulator.vectorised import run_chunk

RELATIVE = 0.02  # per-layer totals: within 2% of the path's total shortfall
ABSOLUTE_USD = 2.0  # plus $2: a liquidation whose realised value is within cents of the reward
PATHS = 3


def comparable(name: str, **extra) -> SimConfig:
    population = dict(positions=10, insurance_usd=2_000, safety_module_usd=5_000)
    return SimConfig.model_validate(preset_config_data(name, population=population, paths=PATHS, **extra))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_tiers_agree__same_liquidations_and_layer_totals(name):
    config = comparable(name)
    vectorised = run_chunk(config, 0, PATHS, keep_steps=True)
    ties = 0
    liquidated = 0
    for path in range(PATHS):
        exact = run_exact(config, path)
        exact_steps = {row.trader: row.step for row in exact.liquidations}
        tie = {i for i, t in enumerate(vectorised.ties[path]) if t}
        ties += len(tie)
        vector_steps = {i: int(s) for i, s in enumerate(vectorised.steps[path]) if s >= 0}
        assert {i: s for i, s in exact_steps.items() if i not in tie} == {
            i: s for i, s in vector_steps.items() if i not in tie
        }, f"{name} path {path}"
        liquidated += len(exact_steps)
        totals = exact.totals()
        scale = totals["shortfall"] / 1e6
        for layer in ("shortfall", "from_insurance", "from_safety_module", "from_pool"):
            got = float(vectorised.values[layer][path])
            assert got == pytest.approx(totals[layer] / 1e6, rel=RELATIVE, abs=ABSOLUTE_USD + RELATIVE * scale), (
                f"{name} path {path} {layer}"
            )
    assert liquidated > 0, f"{name}: a preset that liquidates nobody tests nothing"
    assert ties <= liquidated // 10 + 1, f"{name}: {ties} ties"


def test_crash_preset__bad_debt_walks_every_layer_in_both_tiers():
    config = comparable("frozen_feed_collapse")
    exact = run_exact(config, 0)
    totals = exact.totals()
    assert totals["from_insurance"] > 0 and totals["from_safety_module"] > 0 and totals["from_pool"] > 0
    for row in exact.liquidations:
        assert row.shortfall == row.from_insurance + row.from_safety_module + row.from_pool
    vectorised = run_chunk(config, 0, 1)
    assert vectorised.values["from_pool"][0] > 0


def test_exact_tier__every_action_through_the_model_recorded():
    config = preset_config("may_19_2021", population=dict(positions=4), paths=1)
    exact = run_exact(config, 0)
    functions = {a.function for a in exact.actions}
    assert {"setRoundData", "deposit", "fund", "stake", "submitOrder", "executeOrder"} <= functions
    submitted = [a for a in exact.actions if a.function == "submitOrder"]
    executed = [a for a in exact.actions if a.function == "executeOrder"]
    assert len(submitted) == len(executed) == 4
    assert not any(a.outcome.reverted for a in submitted + executed)
    # Two-step: every fill is at a round observed after the submission, by the keeper.
    for action in executed:
        event = action.outcome.event("OrderExecuted")
        assert action.sender == "keeper" and event.observed_at > submitted[0].at + GENESIS
        assert action.outcome.events_named("PositionIncreased")
    assert [a.at for a in exact.actions] == sorted(a.at for a in exact.actions)


def test_population__respects_the_markets_minimum_position__every_order_fills():
    market = dict(min_margin=400 * 10**6, min_notional=20_000 * 10**6)
    system = default_config(markets=[default_market(1, "ETH-USD", 3000, 6, **market)])
    config = preset_config(
        "may_19_2021", system=system, population=dict(positions=6, notional_median_usd=600.0), paths=1
    )
    exact = ExactRun(config, 0)
    exact.setup()
    engine = exact.system.c.engine
    for trader in exact.traders:
        position = engine.position_of(trader, config.market_id)
        assert position.margin >= market["min_margin"]
        assert abs(position.size) * position.entry_price // 10**30 >= market["min_notional"]
    cancelled = [a for a in exact.actions if a.function == "executeOrder" and a.outcome.events_named("OrderCancelled")]
    assert cancelled == []


def test_squeeze_with_a_small_pool__adl_follows_the_plan_in_tier1__flagged_in_tier2():
    config = preset_config(
        "short_squeeze", paths=1, population=dict(positions=12, long_fraction=0.5, lp_deposit_usd=300_000)
    )
    exact = run_exact(config, 0)
    steps = [a for a in exact.actions if a.function == "autoDeleverage"]
    assert exact.adl_steps == len(steps) > 0 and exact.adl_notional > 0
    assert not any(a.outcome.reverted for a in steps)
    # Run by the keeper the owner granted the ADL-keeper role (issue 10), never the owner.
    grant = [a for a in exact.actions if a.function == "setAdlKeeper"]
    assert [(a.sender, a.args[0], a.args[1]) for a in grant] == [("owner", exact.actors["keeper"], True)]
    assert {a.sender for a in steps} == {"keeper"}
    for action in steps:
        event = action.outcome.event("AutoDeleveraged")
        assert event.ratio_after_bps < event.ratio_before_bps
    # Each block's ADL batch stops once the side is back at or under the target.
    last_of_block = {a.at: a for a in steps}
    target = config.system.adl_target_bps
    assert all(a.outcome.event("AutoDeleveraged").ratio_after_bps <= target for a in last_of_block.values())
    assert run_chunk(config, 0, 1).values["adl_triggered"][0] == 1


def test_median_of_three_with_one_stuck__tiers_agree__fewer_bad_debt_than_the_stuck_feed_alone():
    stuck = dict(heartbeat_s=3600, deviation_bps=100, latency=dict(seconds=30), max_age_s=4200)
    sources = [stuck | dict(frozen_at_s=7200), stuck, stuck]
    config = comparable("frozen_feed_collapse", oracle=dict(sources=sources, quorum=2, max_spread_bps=500))
    vectorised = run_chunk(config, 0, PATHS, keep_steps=True)
    alone = run_chunk(comparable("frozen_feed_collapse"), 0, PATHS)
    for path in range(PATHS):
        exact = run_exact(config, path)
        assert {r.trader: r.step for r in exact.liquidations} == {
            i: int(s) for i, s in enumerate(vectorised.steps[path]) if s >= 0
        }
        assert exact.totals()["shortfall"] / 1e6 == pytest.approx(float(vectorised.values["shortfall"][path]), rel=0.02)
    assert vectorised.values["shortfall"].sum() < alone.values["shortfall"].sum()


def test_gas_cost_above_every_reward__keepers_never_liquidate_in_either_tier():
    config = comparable("may_19_2021", keepers=dict(gas_cost_usd=2_000))
    assert run_exact(config, 0).liquidations == []
    assert run_chunk(config, 0, 1).values["liquidations"][0] == 0
    assert run_chunk(comparable("may_19_2021"), 0, 1).values["liquidations"][0] > 0


class _NamespaceWithoutAccumulate:
    """NumPy seen through a namespace whose minimum/maximum are plain functions (as in an
    array-API library without ufunc.accumulate): tier 2 only uses what `xp` offers."""

    def __getattr__(self, name):
        import numpy

        if name in ("minimum", "maximum"):
            function = getattr(numpy, name)
            return lambda *args, **kwargs: function(*args, **kwargs)
        return getattr(numpy, name)


def test_vectorised_tier__runs_against_another_array_namespace__same_results():
    import numpy

    config = comparable("oct_10_2025_cascade")
    reference = run_chunk(config, 0, PATHS, keep_steps=True)
    other = run_chunk(config, 0, PATHS, xp=_NamespaceWithoutAccumulate(), keep_steps=True)
    assert (reference.steps == other.steps).all()
    for key, values in reference.values.items():
        assert numpy.array_equal(values, other.values[key], equal_nan=True), key


def test_multi_source_timeline__is_the_adapters_mark_and_state_at_every_step():
    """The simulator's vectorised mark (tier 2's price) against the deployed OracleAdapter fed
    each source's rounds (tier 1): the same lower median at every live step, degraded exactly
    where the adapter is below quorum or beyond the spread."""
    healthy = dict(heartbeat_s=1200, deviation_bps=30, latency=dict(kind="lognormal", seconds=20), max_age_s=1500)
    sources = [
        healthy | dict(frozen_at_s=3600),
        healthy,
        healthy,
        dict(kind="pull", max_staleness_s=120, max_age_s=300),
    ]
    config = comparable("frozen_feed_collapse", oracle=dict(sources=sources, quorum=3, max_spread_bps=150))
    run = ExactRun(config, 0)
    run.setup()
    oracle, timeline = run.system.c.oracle, run.timeline
    scale = 10 ** (18 - timeline.decimals)
    states = set()
    for step in range(1, config.steps + 1):
        at = step * config.step_s
        run.post_step(step, at)
        status = MarkStatus(oracle.mark_status(run.env(at), config.market_id)[0])
        states.add(status)
        if timeline.blocked[0, step] == OK:
            assert status == MarkStatus.LIVE, step
            assert oracle.price(run.env(at), config.market_id) == int(timeline.answer[0, step]) * scale, step
        else:
            assert status in (MarkStatus.BELOW_QUORUM, MarkStatus.SPREAD_TOO_WIDE), step
    assert MarkStatus.LIVE in states and states - {MarkStatus.LIVE}, states


@pytest.mark.parametrize("window_hours", [1, 168])
def test_slash_cap__per_window__tiers_agree(tmp_path, window_hours):
    """Two gaps two hours apart, longs only, no insurance: every shortfall of a slash window
    together takes at most maxSlashBps of the safety module's assets at the window's start. With
    a one-hour window the second gap opens a new window (30% of what is left); with a week it
    finds the cap already spent."""
    prices = [3000 if t < 60 else 2300 if t < 180 else 1500 for t in range(241)]
    series = tmp_path / "two_gaps.csv"
    series.write_text("timestamp,price\n" + "".join(f"{t * 60},{p}\n" for t, p in enumerate(prices)))
    data = SimConfig().model_dump() | dict(horizon_s=240 * 60, step_s=60, paths=1)
    data |= dict(path=dict(kind="csv", csv_file=str(series)))
    data["population"] |= dict(positions=12, long_fraction=1.0, insurance_usd=0, safety_module_usd=5_000)
    data["oracle"] = dict(sources=[dict(heartbeat_s=3600, deviation_bps=50)])
    data["system"]["slash_window"] = window_hours * 3600
    config = SimConfig.model_validate(data)
    exact = run_exact(config, 0)
    slashed = {}
    for row in exact.liquidations:
        slashed[row.step] = slashed.get(row.step, 0) + row.from_safety_module
    assert sorted(slashed) == [60, 180]
    windows = [e for a in exact.actions for e in a.outcome.events if e.name == "SlashWindowStarted"]
    caps = [e.values[1] * config.system.max_slash_bps // 10_000 for e in windows]
    # Both gaps leave bad debt for the pool, so the cap binds in every window.
    if window_hours == 1:
        assert [e.values[0] - GENESIS for e in windows] == [60 * 60, 180 * 60]
        assert [slashed[60], slashed[180]] == caps
    else:
        assert len(windows) == 1 and [slashed[60], slashed[180]] == [caps[0], 0]
    vectorised = run_chunk(config, 0, 1)
    totals = exact.totals()
    for layer in ("shortfall", "from_insurance", "from_safety_module", "from_pool"):
        assert float(vectorised.values[layer][0]) == pytest.approx(totals[layer] / 1e6, rel=1e-3, abs=0.01), layer
    assert vectorised.values["slash_cap_binds"][0] == 1


def band_config(tmp_path, prices: list[float], update_mark: bool = True) -> SimConfig:
    series = tmp_path / "band.csv"
    series.write_text("timestamp,price\n" + "".join(f"{t * 60},{p}\n" for t, p in enumerate(prices)))
    data = SimConfig().model_dump() | dict(horizon_s=(len(prices) - 1) * 60, step_s=60, paths=1)
    data |= dict(path=dict(kind="csv", csv_file=str(series)), keepers=dict(update_mark=update_mark, gas_cost_usd=0))
    data["population"] |= dict(positions=8, long_fraction=1.0, leverage_min=5, leverage_max=9)
    data["oracle"] = dict(sources=[dict(heartbeat_s=3600, deviation_bps=50)])
    return SimConfig.model_validate(data)


@pytest.mark.parametrize("shape", ["spike", "crash"])
def test_price_band__armed_by_update_mark__tiers_and_adapter_agree(tmp_path, shape):
    """Keepers push the mark after every round: a -30% print beyond the 25% band, 60 s after the
    last accepted mark, is refused (MarkPending; nothing liquidates on it). A spike that comes
    back is never accepted and liquidates nobody; a crash confirmed by the next, newer round
    liquidates one step later. Tier 2's band mirror, tier 1 and the adapter's markStatus agree."""
    drift = [3000 - 20 * t for t in range(10)]  # a round lands every step (0.67% moves)
    after = [2800 - 10 * t for t in range(10)] if shape == "spike" else [1940 - 20 * t for t in range(10)]
    config = band_config(tmp_path, drift + [1960] + after)
    run = ExactRun(config, 0)
    result = run.run()
    pushed = [a for a in result.actions if a.function == "updateMark"]
    pending = [a for a in pushed if a.outcome.events_named("MarkPending")]
    assert [a.at for a in pending] == [600]
    assert run.timeline.blocked[0].tolist()[10] == BAND
    assert [s for s, b in enumerate(run.timeline.blocked[0]) if b == BAND] == [10]
    steps = {r.trader: r.step for r in result.liquidations}
    if shape == "spike":
        assert steps == {}
        # Without anyone pushing the mark the band never arms: the print liquidates everyone.
        unarmed = run_exact(band_config(tmp_path, drift + [1960] + after, update_mark=False), 0)
        assert {r.step for r in unarmed.liquidations} == {10} and len(unarmed.liquidations) == 8
    else:
        assert steps and min(steps.values()) == 11
    vectorised = run_chunk(config, 0, 1, keep_steps=True)
    assert steps == {i: int(s) for i, s in enumerate(vectorised.steps[0]) if s >= 0}


def test_price_band__timeline_state_is_the_adapters_mark_status(tmp_path):
    config = band_config(tmp_path, [3000 - 20 * t for t in range(10)] + [1960] + [1950 - 20 * t for t in range(5)])
    run = ExactRun(config, 0)
    run.setup()
    oracle = run.system.c.oracle
    for step in range(1, config.steps + 1):
        at = step * config.step_s
        run.post_step(step, at)
        if run.landed(step):
            run.act("keeper", at, "oracle", "updateMark", config.market_id)
        status = MarkStatus(oracle.mark_status(run.env(at), config.market_id)[0])
        expected = MarkStatus.OUTSIDE_BAND if run.timeline.blocked[0, step] == BAND else MarkStatus.LIVE
        assert status == expected, step
