"""Fuzz campaigns (difftest/campaign.py): two shards through a real Dask `LocalCluster`, and the
same campaign again with one shard's Anvil killed and the other's stopped (SIGSTOP) mid-sequence.

Each shard starts its own Anvil, so these tests use no pytest chain fixture. Budgets are tiny
(a few sequences a shard): what is checked is the plumbing, the record and the faults, not
the fuzzing itself (tests/fuzz/test_ledger_machine.py does that).
"""

from __future__ import annotations

import pytest

from difftest.campaign import ROOT, CampaignOptions, run_campaign
from difftest.campaign_record import CampaignRecord, Fault, ShardSpec
from difftest.fuzz_report import summary_lines
from difftest.ledger import GENESIS
from difftest.shard import chunk_seed, run_shard
from pymodel.mock_price_feed import MockPriceFeed

pytestmark = pytest.mark.xdist_group("campaign")

SEED = 20_261_208
STEPS = 40  # transactions, both shards together
STALL_TIMEOUT = 4.0


def _options(**changes) -> CampaignOptions:
    return CampaignOptions(**{"shards": 2, "profile": "dev", "steps": STEPS, "seed": SEED, "chunk": 2, **changes})


@pytest.fixture(scope="module")
def cluster_record(tmp_path_factory) -> tuple[CampaignRecord, list[tuple[int, int]]]:
    from distributed import Client, LocalCluster

    seen: list[tuple[int, int]] = []  # (shards reporting, transactions) as the progress line saw them
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        record = run_campaign(
            _options(scheduler=client), on_progress=lambda p: seen.append((len(p.latest), p.totals()[1]))
        )
    path = record.dump(tmp_path_factory.mktemp("campaign") / "fuzz-campaign.json")
    return CampaignRecord.load(path), seen  # the record as written (schema round trip)


def test_two_shards_on_a_local_cluster__record_and_progress(cluster_record):
    record, seen = cluster_record
    assert record.passed, "\n".join(summary_lines(record))
    assert record.scheduler.startswith("dask tcp://")
    assert record.seeds == [r.seed for r in record.results] and len(set(record.seeds)) == 2
    assert record.git_commit and all(r.commit == record.git_commit for r in record.results)
    for result in record.results:
        assert result.status == "passed" and result.transactions >= STEPS // 2 and result.sequences >= 1
        assert result.infrastructure_errors == [] and result.restarts == 0
        assert result.fuzz_s > 0 and result.anvil_cpu_s > 0
    assert record.totals.transactions == sum(r.transactions for r in record.results)
    assert record.totals.mismatches == record.totals.invariant_violations == 0
    assert record.coverage == record.results[0].coverage.add(record.results[1].coverage)
    # The live line saw both shards and transactions as they came.
    assert seen and max(n for n, _ in seen) == 2 and max(tx for _, tx in seen) > 0


def test_killed_and_stalled_anvils__reported_restarted_retried(cluster_record):
    """Shard 0's Anvil is killed, shard 1's stopped, at a block write inside a sequence. Both
    report the interrupted sequence as an infrastructure error, retried (the call and the block
    named), restart on a fresh Anvil, and finish with exactly the counts of the campaign without
    faults: the retried chunk ran the same sequences from its seed, and nothing of the
    interrupted one was counted."""
    faults = {0: Fault(kind="kill", after_transactions=8), 1: Fault(kind="stop", after_transactions=8)}
    record = run_campaign(_options(faults=faults, rpc_timeout=STALL_TIMEOUT))
    clean, _ = cluster_record
    assert record.passed, "\n".join(summary_lines(record))
    assert record.totals.infrastructure_errors == 2
    for result, baseline in zip(record.results, clean.results, strict=True):
        assert result.status == "passed" and result.restarts == 1
        (error,) = result.infrastructure_errors
        assert error.status == "infrastructure error, retried" and error.attempt == 0
        assert error.sequence >= 1, "the fault fired inside a sequence"
        assert "after block " in error.error, "the block is named"
        assert (result.sequences, result.transactions, result.outcomes) == (
            baseline.sequences,
            baseline.transactions,
            baseline.outcomes,
        )
    killed, stalled = (r.infrastructure_errors[0].error for r in record.results)
    assert "the pipelined block write" in killed and "mining the next one at t=" in killed and "failed" in killed
    assert "the pipelined block write" in stalled and "mining the next one at t=" in stalled
    assert f"did not answer within {STALL_TIMEOUT:.1f} s" in stalled
    assert "infrastructure error, retried" in "\n".join(summary_lines(record))


def test_a_seeded_model_bug__shrunk_sequence_and_regression_vector_collected(monkeypatch):
    """A shard (run in this process, so the model can be broken here) whose model's feed is one
    wei off after deployment: the shard fails with a mismatch, the seeds that reproduce it, the
    shrunk sequence, and the regression vector the machine wrote, read back into the result."""
    set_round_data = MockPriceFeed.set_round_data

    def one_wei_off(self, env, answer, updated_at):
        set_round_data(self, env, answer + (env.timestamp > GENESIS), updated_at)

    monkeypatch.setattr(MockPriceFeed, "set_round_data", one_wei_off)
    spec = ShardSpec(shard=0, seed=3, profile="dev", steps_per_sequence=3, max_sequences=10, root=str(ROOT))
    result = run_shard(spec)
    failure = result.failure
    assert result.status == "failed" and failure is not None and failure.kind == "mismatch"
    assert (failure.shard, failure.seed, failure.chunk_seed) == (0, 3, chunk_seed(3, failure.chunk))
    assert failure.error.startswith("ParityError: ") and "setRoundData" in failure.error
    steps = [line for line in failure.shrunk_sequence if line.startswith("state.")]
    assert steps and steps[-1] == "state.teardown()"
    (vector,) = failure.regression_vectors
    assert vector.name.startswith("regression-") and vector.vector["actions"]
    assert vector.vector["actions"][-1]["function"] == "setRoundData"
