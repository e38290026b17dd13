"""`ape run simulate` at its edges: every bad input is one line naming the error, exit code 2,
and nothing written; a relative CSV is read from the config's folder; a short CSV warns."""

from __future__ import annotations

import importlib.util
import json
import socket
import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simulator.config import ConfigFileError, ShortSeriesWarning, SimConfig
from simulator.paths import preset_config
from simulator.sweep import SweepValueError, parse_sweep, with_values

ROOT = Path(__file__).resolve().parents[2]


def load_cli():
    spec = importlib.util.spec_from_file_location("simulate_script", ROOT / "scripts" / "simulate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def small(name: str = "oct_10_2025_cascade", paths: int = 40, **extra):
    return preset_config(name, population=dict(positions=30), paths=paths, **extra)


def invoke(*args: str):
    return CliRunner().invoke(load_cli(), list(args))


def refused(result, name: str) -> str:
    """The failure is exit code 2 with one line `Error: <name>: ...`."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith(f"Error: {name}: "), result.output
    assert not any("Traceback" in line for line in lines)
    return lines[-1]


def write_series(path, rows: int, step: int = 60) -> None:
    path.write_text("timestamp,price\n" + "".join(f"{i * step},{100 - i * 0.1:.2f}\n" for i in range(rows)))


def test_relative_csv_file__read_from_the_configs_folder(tmp_path, monkeypatch):
    folder = tmp_path / "scenario"
    folder.mkdir()
    write_series(folder / "series.csv", 31)
    (folder / "s.yaml").write_text(
        yaml.safe_dump({"path": {"kind": "csv", "csv_file": "series.csv"}, "horizon_s": 1800})
    )
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = SimConfig.load(folder / "s.yaml")
    assert config.path.csv_file == folder / "series.csv"


def test_short_csv_under_a_long_horizon__warns_by_name(tmp_path):
    write_series(tmp_path / "short.csv", 3)
    data = SimConfig().model_dump() | {"path": {"kind": "csv", "csv_file": str(tmp_path / "short.csv")}}
    with pytest.warns(ShortSeriesWarning, match=r"covers 120 s but horizon_s=86400: its last price is held"):
        SimConfig.model_validate(data)
    (tmp_path / "s.json").write_text(json.dumps({"path": data["path"], "paths": 5}))
    result = invoke("--config", str(tmp_path / "s.json"), "--exact-paths", "0")
    assert result.exit_code == 0, result.output
    assert "warning: ShortSeriesWarning: csv_file" in result.output


def test_preset_with_config__refused(tmp_path):
    (tmp_path / "s.yaml").write_text("paths: 5\n")
    line = refused(invoke("--preset", "may_19_2021", "--config", str(tmp_path / "s.yaml")), "UsageError")
    assert "put `preset: may_19_2021` in" in line


def test_fractional_value_on_an_integer_field__refused_not_truncated(tmp_path):
    assert parse_sweep("deviation_bps=0.5,1.7") == ("deviation_bps", [0.5, 1.7])
    with pytest.raises(SweepValueError, match=r"deviation_bps=0.5 is refused: oracle.sources.0.deviation_bps"):
        with_values(small(), {"deviation_bps": 0.5})
    line = refused(
        invoke(
            "--preset", "may_19_2021", "--paths", "5", "--sweep", "deviation_bps=0.5,1.7", "--out", str(tmp_path / "o")
        ),
        "SweepValueError",
    )
    assert "fractional part" in line and not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("name", "text", "error", "message"),
    [
        ("broken.yaml", "paths: [1, 2\n", "ConfigFileError", "not valid YAML"),
        ("empty.json", "", "ConfigFileError", "is empty"),
        ("list.json", "[1, 2]", "ConfigFileError", "expected a mapping of SimConfig fields, got list"),
        ("bad.json", '{"paths": 3,}', "ConfigFileError", "not valid JSON"),
        ("wrong.yaml", "population: {leverage_max: 50}\n", "ValidationError", "leverage_max=50.0 is above"),
    ],
    ids=["broken_yaml", "empty_json", "not_a_mapping", "broken_json", "invalid_field"],
)
def test_bad_config_file__one_line_exit_2_nothing_written(tmp_path, name, text, error, message):
    (tmp_path / name).write_text(text)
    line = refused(invoke("--config", str(tmp_path / name), "--out", str(tmp_path / "out")), error)
    assert message in line and not (tmp_path / "out").exists()
    if error == "ConfigFileError":
        with pytest.raises(ConfigFileError):
            SimConfig.load(tmp_path / name)


def test_invalid_swept_value_and_unknown_parameter__named(tmp_path):
    base = ["--preset", "may_19_2021", "--paths", "5", "--out", str(tmp_path / "out")]
    assert "leverage_max=50" in refused(invoke(*base, "--sweep", "population.leverage_max=5,50"), "SweepValueError")
    assert "unknown parameter 'nope'" in refused(invoke(*base, "--sweep", "nope=1,2"), "SweepError")
    assert "values must be numbers" in refused(invoke(*base, "--sweep", "latency_s=0,soon"), "SweepError")
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler__named_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setattr("simulator.sweep.SCHEDULER_TIMEOUT_S", 1.0)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = invoke(
            "--preset", "may_19_2021", "--paths", "5", "--sweep", "latency_s=0,60",
            "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path / "out"),
        )  # fmt: skip
    assert f"tcp://127.0.0.1:{port}: no Dask scheduler answers" in refused(result, "SchedulerUnreachable")
    assert not (tmp_path / "out").exists()


def test_cli__sizing_run__recommendation_interval_and_curves(tmp_path):
    result = invoke(
        "--preset", "oct_10_2025_cascade", "--paths", "80", "--size", "insurance",
        "--target-p-lp-loss", "0.05", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "recommended insurance_usd: $" in result.output and "90% interval $" in result.output
    sizing = json.loads((tmp_path / "sizing.json").read_text())
    assert sizing["met"] and sizing["interval_usd"]["low"] <= sizing["recommended_usd"]
    for name in ("capital_at_risk.png", "loss_exceedance.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    assert "needs one target" in refused(invoke("--preset", "may_19_2021", "--size", "insurance"), "UsageError")


def test_cli__two_parameter_grid__heat_map(tmp_path):
    result = invoke(
        "--preset", "may_19_2021", "--paths", "10", "--sweep", "latency_s=0,600",
        "--sweep", "population.leverage_max=3,9", "--workers", "1", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    points = json.loads((tmp_path / "sweep.json").read_text())["points"]
    assert [p["values"] for p in points] == [
        {"latency_s": a, "population.leverage_max": b} for a in (0, 600) for b in (3, 9)
    ]
    assert (tmp_path / "heat_map.png").read_bytes()[:4] == b"\x89PNG"


def test_cli__seeds__the_path_seed_and_the_population_seed_apart(tmp_path):
    runs = {}
    for name, flags in {"base": [], "seed": ["--seed", "4"], "book": ["--population-seed", "4"]}.items():
        out = tmp_path / name
        result = invoke("--preset", "may_19_2021", "--paths", "5", "--exact-paths", "0", *flags, "--out", str(out))
        assert result.exit_code == 0, result.output
        runs[name] = json.loads((out / "summary.json").read_text())["open_interest_usd"]
        config = json.loads((out / "config.json").read_text())
        assert (config["seed"], config["population_seed"]) == {"base": (0, 0), "seed": (4, 0), "book": (0, 4)}[name]
    assert runs["seed"] == runs["base"] != runs["book"]  # a new path seed keeps the book
