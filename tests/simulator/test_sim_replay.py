"""Proof on chain: a tier-1 path of a crash preset whose bad debt reaches the LP pool, exported
as a golden vector, replays on Anvil (model ⇄ chain parity at every action) and the chain's
BadDebtSettled events equal the simulator's ledger."""

from __future__ import annotations

from difftest.vectors import Vector, replay
from simulator.exact import run_exact
from simulator.export import bad_debt_events, path_vector
from simulator.paths import preset_config


def test_crash_path__exported_vector_replays__chain_bad_debt_equals_tier1_ledger(
    project, accounts, rpc, registry, tmp_path
):
    config = preset_config(
        "frozen_feed_collapse",
        population=dict(positions=5, insurance_usd=500, safety_module_usd=2_000),
        paths=1,
    )
    exact = run_exact(config, 0)
    totals = exact.totals()
    assert totals["from_pool"] > 0, "the path must push bad debt through to the pool"
    vector = Vector.load(path_vector(config, exact, "frozen_feed_collapse path 0").dump(tmp_path / "path.json"))

    snapshot = rpc.request("evm_snapshot")
    try:
        result = replay(vector, project, accounts, rpc, registry)
    finally:
        rpc.request("evm_revert", [snapshot])

    assert result.ok, result.summary(vector)
    assert result.actions_run == len(vector.actions) == len(exact.actions)
    chain = [
        event.args for outcome in result.chain.outcomes for event in outcome.events if event.event == "BadDebtSettled"
    ]
    assert chain == bad_debt_events(exact)
    assert sum(int(args[5]) for args in chain) == totals["from_pool"]
    assert sum(int(args[2]) for args in chain) == totals["shortfall"]


def test_median_of_three_path__exported_with_its_sources__replays_on_chain(project, accounts, rpc, registry, tmp_path):
    """A path whose mark is the adapter's median of three sources (one frozen at the crash), the
    keeper pushing the mark (`updateMark`) after every round: the vector deploys the three
    sources and posts each one's rounds; the chain agrees at every action."""
    stuck = dict(heartbeat_s=3600, deviation_bps=100, latency=dict(seconds=30), max_age_s=4200)
    config = preset_config(
        "frozen_feed_collapse",
        population=dict(positions=5, insurance_usd=500, safety_module_usd=2_000),
        oracle=dict(sources=[stuck | dict(frozen_at_s=7200), stuck, stuck], quorum=2, max_spread_bps=500),
        keepers=dict(update_mark=True),
        paths=1,
    )
    exact = run_exact(config, 0)
    assert exact.liquidations, "the median must let keepers liquidate"
    posted = {a.contract for a in exact.actions if a.function == "setRoundData"}
    assert posted == {"feed1", "feed1_1", "feed1_2"}
    assert any(a.function == "updateMark" and not a.outcome.reverted for a in exact.actions)
    vector = Vector.load(path_vector(config, exact, "median of three").dump(tmp_path / "path.json"))
    assert len(vector.config.markets[0].sources) == 3

    snapshot = rpc.request("evm_snapshot")
    try:
        result = replay(vector, project, accounts, rpc, registry)
    finally:
        rpc.request("evm_revert", [snapshot])

    assert result.ok, result.summary(vector)
    chain = [
        event.args for outcome in result.chain.outcomes for event in outcome.events if event.event == "BadDebtSettled"
    ]
    assert chain == bad_debt_events(exact)
