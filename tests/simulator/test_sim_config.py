"""SimConfig rejects every bad value before anything runs, naming the field and the rule."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from simulator.config import SimConfig
from simulator.paths import PRESETS, preset_config, preset_config_data


def test_defaults_and_every_preset__validate():
    assert SimConfig().steps == 1440
    for name in PRESETS:
        config = preset_config(name)
        assert config.path.preset == name and config.market().market_id == config.market_id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"oracle": {"sources": [{"latency": {"seconds": -1}}]}},
            r"oracle\.sources\.0\.latency\.seconds\n.*greater than or equal to 0",
        ),
        ({"keepers": {"latency": {"seconds": -5}}}, r"keepers\.latency\.seconds\n.*greater than or equal to 0"),
        ({"population": {"leverage_max": 11.0}}, r"leverage_max=11.0 is above the market's maximum 10"),
        ({"population": {"leverage_min": 5.0, "leverage_max": 3.0}}, r"leverage_min=5.0 is above leverage_max=3.0"),
        ({"path": {"kind": "preset", "preset": "no_such_crash"}}, r"preset 'no_such_crash' does not exist"),
        ({"path": {"start_price": 0}}, r"path\.start_price\n.*greater than 0"),
        ({"oracle": {"quorum": 2}}, r"quorum=2 is above the number of sources \(1\)"),
        ({"horizon_s": 100, "step_s": 60}, r"horizon_s=100 must be a multiple of step_s=60"),
        ({"market_id": 9}, r"market_id=9 is not one of the system's markets"),
        ({"paths": 0}, r"paths\n.*greater than or equal to 1"),
        ({"oracle": {"sources": [{"deviation_bps": 10_001}]}}, r"deviation_bps\n.*less than or equal to 10000"),
        ({"surprise": 1}, r"surprise\n.*Extra inputs are not permitted"),
        ({"oracle": {"max_spread_bps": 5_001}}, r"oracle\.max_spread_bps\n.*less than or equal to 5000"),
        ({"oracle": {"sources": [{"max_age_s": 60}] * 6}}, r"oracle\.sources\n.*at most 5 items"),
    ],
    ids=[
        "negative_oracle_latency",
        "negative_keeper_latency",
        "leverage_above_market_max",
        "leverage_range_reversed",
        "unknown_preset",
        "non_positive_start_price",
        "quorum_above_sources",
        "horizon_not_whole_steps",
        "unknown_market",
        "zero_paths",
        "deviation_above_bps",
        "unknown_field",
        "spread_above_the_adapters_bound",
        "more_sources_than_the_adapter_takes",
    ],
)
def test_bad_value__rejected_naming_the_field(change, message):
    data = SimConfig().model_dump() | change
    with pytest.raises(ValidationError, match=message):
        SimConfig.model_validate(data)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("timestamp,price\n0,100\n60,99\n60,98\n", r"line 4: timestamps must increase strictly \(60 after 60\)"),
        ("0,100\n60,0\n", r"line 2: price must be positive, got 0.0"),
        ("0,100\n30,-2\n", r"line 2: price must be positive"),
        ("0,100\n60,abc\n", r"line 2: not a number"),
        ("0,100\n", r"needs at least two rows"),
    ],
    ids=["repeated_timestamp", "zero_price", "negative_price", "not_a_number", "one_row"],
)
def test_bad_csv__rejected_with_line_and_rule(tmp_path, rows, message):
    path = tmp_path / "series.csv"
    path.write_text(rows)
    with pytest.raises(ValidationError, match=message):
        SimConfig.model_validate(SimConfig().model_dump() | {"path": {"kind": "csv", "csv_file": str(path)}})


def test_csv_series__resampled_on_the_step_grid(tmp_path):
    from simulator.paths import generate_paths

    path = tmp_path / "series.csv"
    path.write_text("timestamp,price\n1000,100\n1090,90\n1200,80\n")
    config = SimConfig.model_validate(
        SimConfig().model_dump() | {"path": {"kind": "csv", "csv_file": str(path)}, "horizon_s": 180}
    )
    assert generate_paths(config, 0, 2).tolist() == [[100.0, 100.0, 90.0, 90.0]] * 2  # 1000, 1060, 1120, 1180


def test_config_file__yaml_and_json(tmp_path):
    data = preset_config_data("may_19_2021", paths=7)
    (tmp_path / "a.json").write_text(json.dumps(data, default=str))
    import yaml

    (tmp_path / "a.yaml").write_text(yaml.safe_dump(json.loads(json.dumps(data, default=str))))
    assert SimConfig.load(tmp_path / "a.json") == SimConfig.load(tmp_path / "a.yaml")
    assert SimConfig.load(tmp_path / "a.yaml").paths == 7


def test_config_file__starts_from_a_preset__fields_override(tmp_path):
    import yaml

    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"preset": "oct_10_2025_cascade", "paths": 12, "population": {"positions": 7}}))
    config = SimConfig.load(path)
    expected = preset_config("oct_10_2025_cascade", paths=12, population=dict(positions=7))
    assert config.model_dump(exclude={"preset"}) == expected.model_dump(exclude={"preset"})
    assert config.oracle.sources[0].heartbeat_s == 1755 and config.population.long_fraction == 0.7

    path.write_text(yaml.safe_dump({"preset": "black_friday"}))
    with pytest.raises(ValidationError, match=r"preset 'black_friday' does not exist"):
        SimConfig.load(path)
