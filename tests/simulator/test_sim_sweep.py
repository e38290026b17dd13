"""Sweeps: common random numbers across the grid, local processes and a Dask LocalCluster give
the same numbers, break-even interpolation, the CLI end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.paths import preset_config
from simulator.sweep import break_even, parse_sweep, sweep

ROOT = Path(__file__).resolve().parents[2]


def small(name: str = "oct_10_2025_cascade", paths: int = 40, **extra):
    return preset_config(name, population=dict(positions=30), paths=paths, **extra)


def test_sweep__common_random_numbers__only_the_swept_layer_moves():
    points = sweep(small(), "insurance_usd", [0, 1_000, 50_000], workers=1)
    shortfall = [p["summary"]["distribution_usd"]["shortfall"]["mean"] for p in points]
    insurance = [p["summary"]["distribution_usd"]["from_insurance"]["mean"] for p in points]
    pool = [p["summary"]["distribution_usd"]["from_pool"]["mean"] for p in points]
    assert shortfall[0] > 0 and shortfall == pytest.approx([shortfall[0]] * 3, rel=1e-12)  # same paths, same draws
    assert insurance[0] < insurance[1] < insurance[2]
    assert pool[0] >= pool[1] >= pool[2]
    assert [p["insurance_usd"] for p in points] == [0, 1_000, 50_000]


def test_sweep__dask_local_cluster_two_workers__same_as_local_processes():
    from distributed import Client, LocalCluster

    config = small()
    local = sweep(config, "latency_s", [0, 600], workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        remote = sweep(config, "latency_s", [0, 600], scheduler=client)
    assert [p["summary"]["distribution_usd"] for p in remote] == [p["summary"]["distribution_usd"] for p in local]
    late, prompt = (p["summary"]["distribution_usd"]["shortfall"]["mean"] for p in reversed(local))
    assert late > prompt  # a round landing 10 minutes late leaves more bad debt


def test_break_even__interpolated_between_grid_points():
    def point(value, mean, bucket=None):
        out = {"value": value, "summary": {"distribution_usd": {"shortfall": {"mean": mean}}}}
        return out if bucket is None else out | {"insurance_usd": bucket}

    points = [point(0, 1_000), point(60, 3_000), point(120, 9_000)]
    assert break_even(points, 6_000) == {"kind": "exceeds_above", "value": pytest.approx(90)}
    assert break_even(points, 500) == {"kind": "always_exceeds", "value": None}
    assert break_even(points, 10_000) == {"kind": "never_exceeds", "value": None}
    # A sweep of the bucket itself: each point against its own bucket, so the bad debt (the same
    # on every point) is covered from the bucket equal to it, not "0" against the base config's.
    buckets = [point(v, 4_000, bucket=v) for v in (0, 2_000, 8_000, 16_000)]
    assert break_even(buckets, 8_000) == {"kind": "covered_from", "value": pytest.approx(4_000)}


def test_parse_sweep__unknown_parameter_or_values_rejected():
    assert parse_sweep("latency_s=0,60") == ("latency_s", [0.0, 60.0])
    with pytest.raises(ValueError, match="unknown parameter 'latency'"):
        parse_sweep("latency=0,60")
    with pytest.raises(ValueError, match="values must be numbers"):
        parse_sweep("latency_s=0,soon")


def load_cli():
    spec = importlib.util.spec_from_file_location("simulate_script", ROOT / "scripts" / "simulate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def test_cli__preset_run__table_json_csv_vector_and_plots(tmp_path):
    result = CliRunner().invoke(
        load_cli(), ["--preset", "may_19_2021", "--paths", "30", "--seed", "3", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "bad debt (shortfall)" in result.output and "P(insurance touched)" in result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["paths"] == 30
    for name in ("paths.csv", "worst_path_ledger.csv", "worst_path.vector.json", "loss_by_layer.png", "worst_path.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "loss_by_layer.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "paths.csv").read_text().splitlines()) == 31


def test_cli__bad_input__clear_message_nothing_run(tmp_path):
    cli = load_cli()
    unknown = CliRunner().invoke(cli, ["--preset", "black_friday"])
    assert unknown.exit_code != 0 and "'black_friday' does not exist" in unknown.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"population": {"leverage_max": 50}}))
    invalid = CliRunner().invoke(cli, ["--config", str(bad), "--out", str(tmp_path / "out")])
    assert invalid.exit_code != 0 and "leverage_max=50.0 is above the market's maximum" in invalid.output
    assert not (tmp_path / "out").exists()


def test_run_on_two_processes__identical_to_one_process__chunking_does_not_matter():
    from simulator.vectorised import run_vectorised

    config = small(paths=70)
    one = run_vectorised(config, chunk=70)
    two = run_vectorised(config, chunk=30, workers=2)
    assert one.values["shortfall"].sum() > 0
    assert all(np.array_equal(one.values[k], two.values[k], equal_nan=True) for k in one.values)
    assert (one.gap_count == two.gap_count).all()
