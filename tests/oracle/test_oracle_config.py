"""The mark's parameters in `pymodel/config.py`: the same bounds as `OracleAdapter.setOracle`,
each rejected with a message that names the field and the bound (no chain needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pymodel import oracle_adapter
from pymodel.config import (
    MAX_AGE_LIMIT,
    MAX_BAND_BPS,
    MAX_BAND_WINDOW,
    MAX_CONF_BPS,
    MAX_GRACE_PERIOD,
    MAX_PRICE_LIMIT,
    MAX_PULL_LAG_TOLERANCE,
    MAX_SOURCES,
    MAX_SPREAD_BPS,
    SourceConfig,
    default_market,
)

FEED = 10**8


def source(**overrides) -> SourceConfig:
    return SourceConfig(**{"initial_answer": 3_000 * FEED, **overrides})


def market(**overrides):
    return default_market(1, "ETH-USD", 3_000, 6, **overrides)


def test_bounds__same_as_contract_constants():
    ours = (
        MAX_SOURCES,
        MAX_AGE_LIMIT,
        MAX_SPREAD_BPS,
        MAX_BAND_BPS,
        MAX_BAND_WINDOW,
        MAX_PRICE_LIMIT,
        MAX_GRACE_PERIOD,
        MAX_CONF_BPS,
        MAX_PULL_LAG_TOLERANCE,
    )
    assert ours == (
        oracle_adapter.MAX_SOURCES,
        oracle_adapter.MAX_AGE_LIMIT,
        oracle_adapter.MAX_SPREAD_BPS,
        oracle_adapter.MAX_BAND_BPS,
        oracle_adapter.MAX_BAND_WINDOW,
        oracle_adapter.MAX_PRICE_LIMIT,
        oracle_adapter.MAX_GRACE_PERIOD,
        oracle_adapter.MAX_CONF_BPS,
        oracle_adapter.MAX_PULL_LAG_TOLERANCE,
    )


def test_default_market__one_chainlink_source_from_single_feed_fields():
    m = market(feed_decimals=18, initial_answer=3_000 * 10**18, oracle_max_age=60)
    assert m.oracle_sources() == (
        SourceConfig(kind="chainlink", decimals=18, max_age=60, initial_answer=3_000 * 10**18),
    )
    assert m.oracle_params() == (1, 500, 2_500, 900, 3_000 * 1_000 * 10**18, 100, 60)  # bound: 1,000x the price


@pytest.mark.parametrize(
    ("overrides", "field", "bound"),
    [
        (dict(oracle_quorum=0), "oracle_quorum", "greater than or equal to 1"),
        (
            dict(oracle_max_spread_bps=MAX_SPREAD_BPS + 1),
            "oracle_max_spread_bps",
            f"less than or equal to {MAX_SPREAD_BPS}",
        ),
        (dict(price_band_bps=MAX_BAND_BPS + 1), "price_band_bps", f"less than or equal to {MAX_BAND_BPS}"),
        (dict(price_band_window=MAX_BAND_WINDOW + 1), "price_band_window", f"less than or equal to {MAX_BAND_WINDOW}"),
        (dict(price_band_bps=-1), "price_band_bps", "greater than or equal to 0"),
        (dict(max_price=MAX_PRICE_LIMIT + 1), "max_price", f"less than or equal to {MAX_PRICE_LIMIT}"),
    ],
)
def test_market__rule_out_of_bounds__names_field_and_bound(overrides, field, bound):
    with pytest.raises(ValidationError) as error:
        market(**overrides)
    assert field in str(error.value) and bound in str(error.value)


def test_market__quorum_above_source_count__rejected_naming_both():
    with pytest.raises(ValidationError, match=r"oracle_quorum=2 must be at most the number of sources \(1\)"):
        market(oracle_quorum=2)
    assert market(sources=(source(), source()), oracle_quorum=2).oracle_quorum == 2


def test_market__more_than_max_sources__rejected():
    with pytest.raises(ValidationError, match=f"at most {MAX_SOURCES} items"):
        market(sources=tuple(source() for _ in range(MAX_SOURCES + 1)))


@pytest.mark.parametrize(
    ("overrides", "field", "bound"),
    [
        (dict(max_age=0), "max_age", "greater than 0"),
        (dict(max_age=MAX_AGE_LIMIT + 1), "max_age", f"less than or equal to {MAX_AGE_LIMIT}"),
        (dict(decimals=37), "decimals", "less than or equal to 36"),
        (dict(initial_answer=0), "initial_answer", "greater than 0"),
        (dict(kind="band"), "kind", "'chainlink' or 'pyth'"),
    ],
)
def test_source__out_of_bounds__names_field_and_bound(overrides, field, bound):
    with pytest.raises(ValidationError) as error:
        source(**overrides)
    assert field in str(error.value) and bound in str(error.value)


def test_pyth_source__answer_above_int64__rejected():
    with pytest.raises(ValidationError, match=r"initial_answer=9223372036854775808 of a pyth source must be at most"):
        source(kind="pyth", initial_answer=2**63)
    assert source(kind="pyth", initial_answer=2**63 - 1).initial_answer == 2**63 - 1
