"""The multi-source mark (issue 11): `setOracle` bounds, the lower median, the quorum, the spread
around the median, the price band with `updateMark`, `priceWithTime` and `markStatus`, over
Chainlink-style feeds and Pyth's own MockPyth: model ⇄ chain parity on every call.

Every action goes through `OracleWorld.transact` / `.view` (tests/oracle/conftest.py), which
asserts the model and the chain agree (outcome, events, the adapter's full state); each test then
asserts what that outcome is.
"""

from __future__ import annotations

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from pymodel.core import ZERO_ADDRESS
from pymodel.oracle_adapter import (
    MAX_AGE_LIMIT,
    MAX_BAND_BPS,
    MAX_BAND_WINDOW,
    MAX_CONF_BPS,
    MAX_GRACE_PERIOD,
    MAX_PRICE_LIMIT,
    MAX_PULL_LAG_TOLERANCE,
    MAX_SOURCES,
    MAX_SPREAD_BPS,
    MarkStatus,
    SourceHealth,
    SourceKind,
)

OK = SourceHealth.OK

MARKET = 1
HOUR = 3600
AHEAD = 600  # see test_oracle_adapter.py: room for the transactions a test sends first
WAD = 10**18
USD_8 = 10**8
PYTH_ID = (0xE7).to_bytes(32, "big")
CHAINLINK, PYTH = int(SourceKind.CHAINLINK), int(SourceKind.PYTH)
NO_ID = bytes(32)


def ok_events(*events: tuple) -> tuple:
    return ("ok", list(events))


def revert(name: str, *args: object) -> tuple:
    return ("revert", name, args)


def chainlink(feed) -> tuple:
    return (CHAINLINK, feed.address, NO_ID, HOUR)


def params(
    quorum: int = 2, spread: int = 100, band: int = 0, window: int = 0, max_price: int = 0, conf: int = 0, lag: int = 0
) -> tuple:
    return (quorum, spread, band, window, max_price, conf, lag)


@pytest.fixture
def trio(oracle):
    """Two 18-decimal MockPriceFeeds and an 8-decimal MockPyth, all at $2,000 now."""
    t = oracle.now()
    a = oracle.deploy_mock_price_feed(18, 2_000 * WAD)
    b = oracle.deploy_mock_price_feed(18, 2_000 * WAD)
    pyth = oracle.deploy_mock_pyth(PYTH_ID, 8, 2_000 * USD_8, t)
    return a, b, pyth


@pytest.fixture
def three(oracle, adapter, trio):
    """MARKET on the trio: quorum 2, 1% spread, no band."""
    a, b, pyth = trio
    sources = [chainlink(a), chainlink(b), (PYTH, pyth.address, PYTH_ID, HOUR)]
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params())[0] == "ok"
    return adapter


# ==============================================================================================
# setOracle
# ==============================================================================================


def test_set_oracle__three_sources__stores_them_and_emits_per_source(oracle, adapter, trio):
    a, b, pyth = trio
    sources = [chainlink(a), chainlink(b), (PYTH, pyth.address, PYTH_ID, 2 * HOUR)]
    outcome = oracle.transact(adapter, "setOracle", MARKET, sources, params(2, 150, 2_000, 600))
    assert outcome == ok_events(
        (adapter.address, "SourceSet", (MARKET, 0, CHAINLINK, a.address, NO_ID, 18, HOUR)),
        (adapter.address, "SourceSet", (MARKET, 1, CHAINLINK, b.address, NO_ID, 18, HOUR)),
        (adapter.address, "SourceSet", (MARKET, 2, PYTH, pyth.address, PYTH_ID, 8, 2 * HOUR)),
        (adapter.address, "OracleParamsSet", (MARKET, 2, 150, 2_000, 600, 0, 0, 0)),
    )
    assert oracle.view(adapter, "sourcesOf", MARKET)[1][2] == (PYTH, pyth.address, PYTH_ID, 8, 2 * HOUR)
    assert oracle.view(adapter, "oracleParamsOf", MARKET) == ("ok", (2, 150, 2_000, 600, 0, 0, 0))
    assert oracle.view(adapter, "feedOf", MARKET) == ("ok", (a.address, 18, HOUR))


def test_set_feed__after_three_sources__one_source_quorum_one_spread_and_band_kept(oracle, three, trio):
    a, _, _ = trio
    oracle.transact(three, "setOracle", MARKET, [chainlink(a)] * 3, params(3, 100, 500, 60))
    assert oracle.transact(three, "setFeed", MARKET, a.address, HOUR)[0] == "ok"
    assert len(oracle.view(three, "sourcesOf", MARKET)[1]) == 1
    assert oracle.view(three, "oracleParamsOf", MARKET) == ("ok", (1, 100, 500, 60, 0, 0, 0))


@pytest.mark.parametrize("count", [0, MAX_SOURCES + 1])
def test_set_oracle__source_count_out_of_bounds__reverts_invalid_source_count(oracle, adapter, trio, count):
    sources = [chainlink(trio[0])] * count
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params(1)) == revert("InvalidSourceCount", count)


def test_set_oracle__max_sources__accepted(oracle, adapter, trio):
    sources = [chainlink(trio[0])] * MAX_SOURCES
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params(MAX_SOURCES))[0] == "ok"


def test_set_oracle__zero_feed__reverts_zero_feed(oracle, adapter, trio):
    sources = [chainlink(trio[0]), (CHAINLINK, ZERO_ADDRESS, NO_ID, HOUR)]
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params()) == revert("ZeroFeed")


@pytest.mark.parametrize("max_age", [0, MAX_AGE_LIMIT + 1])
def test_set_oracle__max_age_out_of_bounds__reverts_invalid_max_age(oracle, adapter, trio, max_age):
    sources = [chainlink(trio[0]), (CHAINLINK, trio[1].address, NO_ID, max_age)]
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params()) == revert("InvalidMaxAge", max_age)


def test_set_oracle__chainlink_with_37_decimals__reverts_unsupported_feed_decimals(oracle, adapter):
    wide = oracle.deploy_mock_price_feed(37, 1)
    outcome = oracle.transact(adapter, "setOracle", MARKET, [chainlink(wide)], params(1))
    assert outcome == revert("UnsupportedFeedDecimals", 37)


@pytest.mark.parametrize("expo", [1, -37])
def test_set_oracle__pyth_exponent_out_of_bounds__reverts_unsupported_exponent(oracle, adapter, expo):
    pyth = oracle.deploy_mock_pyth(PYTH_ID, -expo, 5, oracle.now())
    outcome = oracle.transact(adapter, "setOracle", MARKET, [(PYTH, pyth.address, PYTH_ID, HOUR)], params(1))
    assert outcome == revert("UnsupportedExponent", expo)


def test_set_oracle__pyth_unknown_price_id__reverts_price_feed_not_found(oracle, adapter, trio):
    other = (0xE8).to_bytes(32, "big")
    outcome = oracle.transact(adapter, "setOracle", MARKET, [(PYTH, trio[2].address, other, HOUR)], params(1))
    assert outcome == revert("PriceFeedNotFound")


@pytest.mark.parametrize(("quorum", "count"), [(0, 1), (2, 1), (4, 3)])
def test_set_oracle__quorum_out_of_bounds__reverts_invalid_quorum(oracle, adapter, trio, quorum, count):
    sources = [chainlink(trio[0])] * count
    outcome = oracle.transact(adapter, "setOracle", MARKET, sources, params(quorum))
    assert outcome == revert("InvalidQuorum", quorum, count)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (params(1, MAX_SPREAD_BPS + 1), ("InvalidMaxSpread", MAX_SPREAD_BPS + 1)),
        (params(1, 0, MAX_BAND_BPS + 1), ("InvalidBand", MAX_BAND_BPS + 1)),
        (params(1, 0, 0, MAX_BAND_WINDOW + 1), ("InvalidBandWindow", MAX_BAND_WINDOW + 1)),
        (params(1, 0, 0, 0, MAX_PRICE_LIMIT + 1), ("InvalidMaxPrice", MAX_PRICE_LIMIT + 1)),
        (params(1, conf=MAX_CONF_BPS + 1), ("InvalidMaxConfidence", MAX_CONF_BPS + 1)),
        (params(1, lag=MAX_PULL_LAG_TOLERANCE + 1), ("InvalidPullLagTolerance", MAX_PULL_LAG_TOLERANCE + 1)),
    ],
)
def test_set_oracle__parameter_above_bound__reverts_and_keeps_config(oracle, three, trio, bad, error):
    outcome = oracle.transact(three, "setOracle", MARKET, [chainlink(trio[0])], bad)
    assert outcome == revert(*error)
    assert len(oracle.view(three, "sourcesOf", MARKET)[1]) == 3  # unchanged (and model == chain)


def test_set_oracle__every_parameter_at_bound__accepted(oracle, adapter, trio):
    bound = params(
        1, MAX_SPREAD_BPS, MAX_BAND_BPS, MAX_BAND_WINDOW, MAX_PRICE_LIMIT, MAX_CONF_BPS, MAX_PULL_LAG_TOLERANCE
    )
    assert oracle.transact(adapter, "setOracle", MARKET, [chainlink(trio[0])], bound)[0] == "ok"


def test_set_oracle__non_owner__reverts_ownable_unauthorized_account(oracle, adapter, trio, stranger):
    outcome = oracle.transact(adapter, "setOracle", MARKET, [chainlink(trio[0])], params(1), sender=stranger)
    assert outcome == revert("OwnableUnauthorizedAccount", stranger)


# ==============================================================================================
# Median, quorum, spread
# ==============================================================================================


def test_price__three_fresh_sources__median(oracle, three, trio):
    a, b, pyth = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_010 * WAD, t)
    oracle.transact(b, "setRoundData", 1_995 * WAD, t)
    oracle.push_pyth(pyth, PYTH_ID, 8, 2_000 * USD_8, t)
    assert oracle.view(three, "price", MARKET, at=t) == ("ok", 2_000 * WAD)


def test_price__even_count__lower_median(oracle, three, trio):
    a, b, _ = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_010 * WAD, t)
    oracle.transact(b, "setRoundData", 2_000 * WAD + 1, t)
    # The Pyth source is stale at t + HOUR + 1: two fresh, the lower one is the mark.
    assert oracle.view(three, "price", MARKET, at=t + HOUR) == ("ok", 2_000 * WAD + 1)


def test_price__one_source_wrong_by_10x__outvoted(oracle, three, trio):
    a, b, pyth = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 20_000 * WAD, t)
    oracle.transact(b, "setRoundData", 2_000 * WAD, t)
    oracle.push_pyth(pyth, PYTH_ID, 8, 2_001 * USD_8, t)
    assert oracle.view(three, "price", MARKET, at=t) == ("ok", 2_001 * WAD)
    assert oracle.view(three, "markStatus", MARKET) == ("ok", (MarkStatus.LIVE, 3, 2, OK))


def test_price__two_of_three_stale__reverts_first_stale_source(oracle, three, trio):
    a, b, pyth = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_000 * WAD, t - HOUR - 1)
    oracle.transact(b, "setRoundData", 2_000 * WAD, t - HOUR - 5)
    oracle.push_pyth(pyth, PYTH_ID, 8, 2_000 * USD_8, t)
    assert oracle.view(three, "price", MARKET, at=t) == revert("StalePrice", MARKET, t - HOUR - 1, t, HOUR)
    assert oracle.view(three, "markStatus", MARKET) == ("ok", (MarkStatus.BELOW_QUORUM, 1, 1, SourceHealth.STALE))


def test_price__one_stuck_source__outvoted_until_stale(oracle, three, trio):
    """A source stuck at $2,000 (its rounds keep coming, the answer does not move) while the
    market falls 40%: the two live sources make the mark from the first round on."""
    a, b, pyth = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_000 * WAD, t)  # stuck
    oracle.transact(b, "setRoundData", 1_200 * WAD, t)
    oracle.push_pyth(pyth, PYTH_ID, 8, 1_200 * USD_8, t)
    assert oracle.view(three, "price", MARKET, at=t) == ("ok", 1_200 * WAD)


@pytest.mark.parametrize(("offset", "ok"), [(-1, True), (0, True), (1, False)])
def test_price__two_sources_at_spread_bound_plus_minus_one_wei(oracle, adapter, trio, offset, ok):
    a, b, _ = trio
    oracle.transact(adapter, "setOracle", MARKET, [chainlink(a), chainlink(b)], params(2, 100))
    t = oracle.now() + AHEAD
    low = 2_000 * WAD
    high = low + low * 100 // 10_000 + offset  # 1% above the lower median, +-1 wei
    oracle.transact(a, "setRoundData", high, t)
    oracle.transact(b, "setRoundData", low, t)
    outcome = oracle.view(adapter, "price", MARKET, at=t)
    assert outcome == (("ok", low) if ok else revert("SpreadTooWide", MARKET, low, 1, 2))
    status = oracle.view(adapter, "markStatus", MARKET)[1]
    assert status == ((MarkStatus.LIVE, 2, 2, OK) if ok else (MarkStatus.SPREAD_TOO_WIDE, 2, 1, OK))


def test_price_with_time__oldest_agreeing_observation__outlier_ignored(oracle, three, trio):
    a, b, pyth = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 9_000 * WAD, t - 100)  # outvoted: its time does not count
    oracle.transact(b, "setRoundData", 2_000 * WAD, t - 30)
    oracle.push_pyth(pyth, PYTH_ID, 8, 2_000 * USD_8, t - 10)
    assert oracle.view(three, "priceWithTime", MARKET, at=t) == ("ok", (2_000 * WAD, t - 30))
    assert oracle.view(three, "price", MARKET) == ("ok", 2_000 * WAD)


def test_price_with_time__degraded__same_revert_as_price(oracle, three, trio):
    a, b, _ = trio
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 0, t)
    oracle.transact(b, "setRoundData", -1, t)
    assert oracle.view(three, "priceWithTime", MARKET, at=t) == revert("InvalidAnswer", MARKET, 0)
    assert oracle.view(three, "price", MARKET) == revert("InvalidAnswer", MARKET, 0)


def test_mark_status__not_configured_and_sequencer_down(oracle, adapter):
    assert oracle.view(adapter, "markStatus", 3) == ("ok", (MarkStatus.NOT_CONFIGURED, 0, 0, OK))
    sequencer = oracle.deploy_mock_price_feed(0, 1)  # answer 1: down
    feed = oracle.deploy_mock_price_feed(8, 2_000 * USD_8)
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    oracle.transact(adapter, "setSequencerFeed", sequencer.address, 0)
    assert oracle.view(adapter, "markStatus", MARKET) == ("ok", (MarkStatus.SEQUENCER_DOWN, 0, 0, OK))


def test_set_sequencer_feed__grace_period_above_bound__reverts_and_keeps_the_old_one(oracle, adapter):
    sequencer = oracle.deploy_mock_price_feed(0, 0)
    assert oracle.transact(adapter, "setSequencerFeed", sequencer.address, MAX_GRACE_PERIOD)[0] == "ok"
    outcome = oracle.transact(adapter, "setSequencerFeed", ZERO_ADDRESS, MAX_GRACE_PERIOD + 1)
    assert outcome == revert("InvalidGracePeriod", MAX_GRACE_PERIOD + 1)
    assert oracle.view(adapter, "sequencerGracePeriod") == ("ok", MAX_GRACE_PERIOD)
    assert oracle.view(adapter, "sequencerFeed") == ("ok", sequencer.address)


# ==============================================================================================
# Sanity bound (step 5b)
# ==============================================================================================


@pytest.mark.parametrize(("above", "ok"), [(0, True), (1, False)])
def test_price__median_at_max_price__live_one_wei_above__price_above_bound(oracle, three, trio, above, ok):
    """A median of 2,000 * WAD against a bound of 2,000 * WAD (+/- 1 wei): at the bound it is the
    mark; above it the market is degraded with a named error, in `price`, `priceWithTime`,
    `updateMark` and `markStatus` alike, and nothing is recorded."""
    a, _, _ = trio
    bound = 2_000 * WAD - above
    assert oracle.transact(three, "setOracle", MARKET, [chainlink(a)], params(1, 100, 0, 0, bound))[0] == "ok"
    if ok:
        assert oracle.view(three, "price", MARKET) == ("ok", 2_000 * WAD)
        assert oracle.view(three, "markStatus", MARKET) == ("ok", (MarkStatus.LIVE, 1, 1, OK))
        return
    error = revert("PriceAboveBound", MARKET, 2_000 * WAD, bound)
    assert oracle.view(three, "price", MARKET) == error
    assert oracle.view(three, "priceWithTime", MARKET) == error
    assert oracle.transact(three, "updateMark", MARKET) == error
    assert oracle.view(three, "markOf", MARKET) == ("ok", (0, 0, 0, 0))
    assert oracle.view(three, "markStatus", MARKET) == ("ok", (MarkStatus.ABOVE_BOUND, 1, 1, OK))


def test_price__absurd_answer_without_a_market_bound__source_left_out_at_the_global_limit(oracle, adapter):
    """No `maxPrice` (a `setFeed` market): a source whose answer would exceed MAX_PRICE_LIMIT once
    scaled (it would overflow the pool's valuation) is left out as absurd: with one source the
    market is below quorum with `InvalidAnswer`, never a panic further on."""
    feed = oracle.deploy_mock_price_feed(8, 2**200)
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    assert oracle.view(adapter, "oracleParamsOf", MARKET) == ("ok", (1, 0, 0, 0, 0, 0, 0))
    assert oracle.view(adapter, "price", MARKET) == revert("InvalidAnswer", MARKET, 2**200)
    assert oracle.view(adapter, "markStatus", MARKET) == ("ok", (MarkStatus.BELOW_QUORUM, 0, 0, SourceHealth.ABSURD))


def test_price__answer_exactly_at_the_global_limit__is_the_mark(oracle, adapter):
    feed = oracle.deploy_mock_price_feed(8, MAX_PRICE_LIMIT // 10**10)
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    assert oracle.view(adapter, "price", MARKET) == ("ok", MAX_PRICE_LIMIT)


def test_price__one_source_beyond_the_bound__outvoted_by_the_median(oracle, three, trio):
    """The bound applies to the mark, not to each source: one source gone absurd is outvoted by
    the median (the spread rule leaves it out) and the market stays live."""
    a, b, pyth = trio
    assert (
        oracle.transact(
            three,
            "setOracle",
            MARKET,
            [chainlink(a), chainlink(b), (PYTH, pyth.address, PYTH_ID, HOUR)],
            params(2, 100, 0, 0, 3_000 * WAD, lag=HOUR),  # the Pyth print is older than b's round
        )[0]
        == "ok"
    )
    t = oracle.now() + AHEAD
    oracle.transact(b, "setRoundData", 10**30, t)
    assert oracle.view(three, "price", MARKET, at=t) == ("ok", 2_000 * WAD)


# ==============================================================================================
# Pyth source
# ==============================================================================================


def test_pyth__older_update__ignored_by_mock_pyth(oracle, trio):
    _, _, pyth = trio
    t = oracle.now()
    assert oracle.push_pyth(pyth, PYTH_ID, 8, 1_000 * USD_8, t - 1) == ("ok", [])
    fresh = oracle.push_pyth(pyth, PYTH_ID, 8, 1_000 * USD_8, t + 5)
    assert fresh == ok_events((pyth.address, "PriceFeedUpdate", (PYTH_ID, t + 5, 1_000 * USD_8, 0)))
    assert oracle.view(pyth, "getPriceUnsafe", PYTH_ID) == ("ok", (1_000 * USD_8, 0, -8, t + 5))


def test_pyth__update_data__equals_mock_pyth_encoding(oracle, trio):
    _, _, pyth = trio
    args = (PYTH_ID, -5, 7, -8, 11, 13, 1_800_000_000, 17)
    assert oracle.view(pyth, "createPriceFeedUpdateData", *args)[0] == "ok"  # model == chain


def test_pyth__exponent_changed__source_left_out(oracle, adapter, trio):
    _, b, pyth = trio
    sources = [(PYTH, pyth.address, PYTH_ID, HOUR), chainlink(b)]
    oracle.transact(adapter, "setOracle", MARKET, sources, params(2))
    t = oracle.now() + AHEAD
    oracle.push_pyth(pyth, PYTH_ID, 6, 2_000 * 10**6, t)  # exponent -6 instead of -8
    oracle.transact(b, "setRoundData", 2_000 * WAD, t)
    assert oracle.view(adapter, "price", MARKET, at=t) == revert("UnexpectedExponent", MARKET, -6)


def test_pyth__stale_publish_time__reverts_stale_price(oracle, adapter, trio):
    _, _, pyth = trio
    oracle.transact(adapter, "setOracle", MARKET, [(PYTH, pyth.address, PYTH_ID, 60)], params(1))
    t = oracle.now() + AHEAD
    oracle.push_pyth(pyth, PYTH_ID, 8, 2_000 * USD_8, t - 61)
    assert oracle.view(adapter, "price", MARKET, at=t) == revert("StalePrice", MARKET, t - 61, t, 60)


# ==============================================================================================
# Price band and updateMark
# ==============================================================================================


@pytest.fixture
def banded(oracle, adapter, trio):
    """MARKET on one 18-decimal feed with a 10% band over 600 s, a mark accepted at $2,000."""
    a, _, _ = trio
    oracle.transact(adapter, "setOracle", MARKET, [chainlink(a)], params(1, 0, 1_000, 600))
    oracle.transact(a, "setRoundData", 2_000 * WAD, oracle.now())
    outcome = oracle.transact(adapter, "updateMark", MARKET)
    assert outcome[1][0][1] == "MarkAccepted"
    return adapter


def test_update_mark__first_call__accepts_and_records(oracle, banded):
    price, accepted_at, pending, pending_at = oracle.view(banded, "markOf", MARKET)[1]
    assert (price, pending, pending_at) == (2_000 * WAD, 0, 0)
    assert accepted_at == oracle.block_timestamp()


@pytest.mark.parametrize(("move", "ok"), [(200 * WAD, True), (200 * WAD + 1, False), (-200 * WAD, True)])
def test_price__move_at_band_bound__accepted_one_wei_beyond__reverts(oracle, banded, trio, move, ok):
    a, _, _ = trio
    t = oracle.block_timestamp() + 60
    oracle.transact(a, "setRoundData", 2_000 * WAD + move, t)
    outcome = oracle.view(banded, "price", MARKET, at=t)
    beyond = revert("PriceOutsideBand", MARKET, 2_200 * WAD + 1, 2_000 * WAD)
    assert outcome == (("ok", 2_000 * WAD + move) if ok else beyond)


def test_band__single_spike__rejected_then_next_print_accepted(oracle, banded, trio):
    a, _, _ = trio
    t = oracle.block_timestamp() + 60
    oracle.transact(a, "setRoundData", 1_000 * WAD, t)  # a -50% print
    assert oracle.view(banded, "markStatus", MARKET, at=t) == ("ok", (MarkStatus.OUTSIDE_BAND, 1, 1, OK))
    pending = oracle.transact(banded, "updateMark", MARKET)
    assert pending == ok_events((banded.address, "MarkPending", (MARKET, 1_000 * WAD, 2_000 * WAD, t)))
    assert oracle.view(banded, "price", MARKET)[1] == "PriceOutsideBand"  # the same observation
    oracle.transact(a, "setRoundData", 2_010 * WAD, t + 5)  # the next print is back in the band
    assert oracle.view(banded, "price", MARKET, at=t + 10) == ("ok", 2_010 * WAD)
    accepted = oracle.transact(banded, "updateMark", MARKET)
    assert accepted[1][0][1] == "MarkAccepted"
    assert oracle.view(banded, "markOf", MARKET)[1][2:] == (0, 0)  # pending cleared


def test_band__move_confirmed_by_second_observation(oracle, banded, trio):
    a, _, _ = trio
    t = oracle.block_timestamp() + 60
    oracle.transact(a, "setRoundData", 1_000 * WAD, t)
    oracle.mine_at(t)
    assert oracle.transact(banded, "updateMark", MARKET)[1][0][1] == "MarkPending"  # pending
    oracle.transact(a, "setRoundData", 950 * WAD, t + 5)  # a second print beyond the band, same side
    assert oracle.view(banded, "price", MARKET, at=t + 10) == ("ok", 950 * WAD)
    assert oracle.transact(banded, "updateMark", MARKET)[1][0][1] == "MarkAccepted"


def test_band__second_observation_on_the_other_side__not_a_confirmation(oracle, banded, trio):
    a, _, _ = trio
    t = oracle.block_timestamp() + 60
    oracle.transact(a, "setRoundData", 1_000 * WAD, t)
    oracle.mine_at(t)
    assert oracle.transact(banded, "updateMark", MARKET)[1][0][1] == "MarkPending"
    oracle.transact(a, "setRoundData", 3_000 * WAD, t + 5)
    outcome = oracle.view(banded, "price", MARKET, at=t + 10)
    assert outcome == revert("PriceOutsideBand", MARKET, 3_000 * WAD, 2_000 * WAD)


def test_band__without_recorded_pending__second_print_needs_its_own_confirmation(oracle, banded, trio):
    a, _, _ = trio
    t = oracle.block_timestamp() + 60
    oracle.transact(a, "setRoundData", 1_000 * WAD, t)
    oracle.transact(a, "setRoundData", 990 * WAD, t + 5)  # nobody recorded the first one
    assert oracle.view(banded, "price", MARKET, at=t + 10)[1] == "PriceOutsideBand"


def test_band__window_elapsed__any_move_accepted(oracle, banded, trio):
    a, _, _ = trio
    accepted_at = oracle.view(banded, "markOf", MARKET)[1][1]
    oracle.transact(a, "setRoundData", 1_000 * WAD, accepted_at + 600)
    assert oracle.view(banded, "price", MARKET, at=accepted_at + 600)[1] == "PriceOutsideBand"
    oracle.transact(a, "setRoundData", 1_000 * WAD, accepted_at + 601)
    assert oracle.view(banded, "price", MARKET, at=accepted_at + 601) == ("ok", 1_000 * WAD)


def test_update_mark__degraded_market__reverts_like_price(oracle, banded, trio, stranger):
    a, _, _ = trio
    oracle.transact(a, "setRoundData", 0, oracle.now())
    assert oracle.transact(banded, "updateMark", MARKET, sender=stranger) == revert("InvalidAnswer", MARKET, 0)
    assert oracle.transact(banded, "updateMark", 3, sender=stranger) == revert("FeedNotSet", 3)


# ==============================================================================================
# Random source states: model ⇄ chain
# ==============================================================================================


answers = st.one_of(
    st.sampled_from([0, -1, 1_980, 1_999, 2_000, 2_001, 2_020, 2_021, 20_000]).map(lambda usd: usd * WAD),
    st.integers(1_900 * WAD, 2_100 * WAD),
    st.integers(-1, 10**6 * WAD),
)
ages = st.one_of(st.sampled_from([0, 1, HOUR - 1, HOUR, HOUR + 1, -1]), st.integers(-5, 2 * HOUR))


@given(
    observed=st.lists(st.tuples(answers, ages), min_size=3, max_size=3),
    quorum=st.integers(1, 3),
    spread=st.one_of(st.sampled_from([0, 1, 100, MAX_SPREAD_BPS]), st.integers(0, MAX_SPREAD_BPS)),
)
@example(observed=[(2_000 * WAD, 0), (2_020 * WAD, 0), (2_020 * WAD + 1, 0)], quorum=2, spread=100)
@example(observed=[(2_000 * WAD, HOUR + 1), (2_020 * WAD, 0), (2_021 * WAD, 0)], quorum=2, spread=100)
def test_price__random_three_sources__model_equals_chain(oracle, adapter, observed, quorum, spread):
    feeds = [oracle.feed_with_decimals(18), oracle.feed_with_decimals(17), oracle.feed_with_decimals(19)]
    decimals = [18, 17, 19]
    oracle.transact(adapter, "setOracle", MARKET, [chainlink(f) for f in feeds], params(quorum, spread))
    t = oracle.now() + AHEAD
    for feed, places, (answer, age) in zip(feeds, decimals, observed, strict=True):
        scaled = answer * 10**places // WAD
        oracle.transact(feed, "setRoundData", scaled, t - age)
    outcome = oracle.view(adapter, "priceWithTime", MARKET, at=t)  # asserts model == chain
    status = oracle.view(adapter, "markStatus", MARKET)
    assert (outcome[0] == "ok") == (status[1][0] == MarkStatus.LIVE)
    event(MarkStatus(status[1][0]).name)
