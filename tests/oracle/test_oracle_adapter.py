"""OracleAdapter, MockPriceFeed and Chainlink's MockV3Aggregator: model ⇄ chain parity (SPEC §4).

Every action goes through `OracleWorld.transact` / `.view` (tests/oracle/conftest.py), which
runs it on Anvil and in pymodel and asserts the same outcome, events and state; each test
then asserts what that outcome is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from eth_abi import encode
from hypothesis import event, example, given
from hypothesis import strategies as st

from chainio import RpcError
from difftest import strategies as s
from pymodel.core import ZERO_ADDRESS, EventLog
from pymodel.errors import Revert
from pymodel.evm import INT256_MAX, INT256_MIN
from pymodel.oracle_adapter import MAX_AGE_LIMIT, MAX_FEED_DECIMALS, OracleAdapter

MARKET = 1
HOUR = 3600
DAY = 24 * HOUR
# Seconds between "now" and the block a test prices at: room for the transactions it sends
# first, which Anvil mines at wall-clock time (mine_at asserts the room was enough).
AHEAD = 600
USD_8 = 10**8  # one dollar in an 8-decimal feed


def ok_events(*events: tuple) -> tuple:
    return ("ok", list(events))


def revert(name: str, *args: object) -> tuple:
    return ("revert", name, args)


@pytest.fixture
def feed(oracle):
    """A fresh 8-decimal MockPriceFeed at $2,000."""
    return oracle.deploy_mock_price_feed(8, 2_000 * USD_8)


@pytest.fixture
def priced(oracle, adapter, feed):
    """The adapter with MARKET on `feed`, max age one hour."""
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    return adapter


@pytest.fixture
def sequencer(oracle):
    """An L2 sequencer-uptime feed (0 decimals), up since its deployment."""
    return oracle.deploy_mock_price_feed(0, 0)


# ==============================================================================================
# Deployment and constants
# ==============================================================================================


def test_deploy__owner_is_initial_owner_and_constants_match(oracle, adapter, deployer):
    # The constructor's OwnershipTransferred(0, owner) was compared by `deploy_adapter`.
    assert oracle.view(adapter, "owner") == ("ok", deployer.address)
    assert adapter.chain.call("MAX_AGE_LIMIT") == MAX_AGE_LIMIT == 7 * DAY
    assert adapter.chain.call("MAX_FEED_DECIMALS") == MAX_FEED_DECIMALS == 36
    for name in (
        "MAX_SOURCES",
        "MAX_SPREAD_BPS",
        "MAX_BAND_BPS",
        "MAX_BAND_WINDOW",
        "MAX_PRICE_LIMIT",
        "MAX_GRACE_PERIOD",
    ):
        assert adapter.chain.call(name) == getattr(OracleAdapter, name), name


def test_deploy__zero_initial_owner__reverts_ownable_invalid_owner(project, rpc, registry, deployer):
    # The constructor run as an eth_call (no `to`): nothing is deployed, the revert comes back.
    creation = project.OracleAdapter.contract_type.deployment_bytecode.bytecode
    data = creation + encode(["address"], [ZERO_ADDRESS]).hex()
    with pytest.raises(RpcError) as chain:
        rpc.request("eth_call", [{"from": deployer.address, "data": data}, "latest"])
    with pytest.raises(Revert) as model:
        OracleAdapter(ZERO_ADDRESS, EventLog(), {}, ZERO_ADDRESS)
    chain_revert = registry.decode_revert(bytes.fromhex(chain.value.data[2:]))
    assert model.value.signature() == chain_revert == ("OwnableInvalidOwner", (ZERO_ADDRESS,))


# ==============================================================================================
# setFeed
# ==============================================================================================


def test_set_feed__by_owner__stores_config_and_emits_feed_set(oracle, adapter, feed):
    outcome = oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    assert outcome == ok_events((adapter.address, "FeedSet", (MARKET, feed.address, 8, HOUR)))
    assert oracle.view(adapter, "feedOf", MARKET) == ("ok", (feed.address, 8, HOUR))


def test_set_feed__again__replaces_config(oracle, priced, feed):
    other = oracle.deploy_mock_price_feed(18, 10**18)
    oracle.transact(priced, "setFeed", MARKET, other.address, MAX_AGE_LIMIT)
    assert oracle.view(priced, "feedOf", MARKET) == ("ok", (other.address, 18, MAX_AGE_LIMIT))


def test_feed_of__unset_market__is_all_zero(oracle, adapter):
    assert oracle.view(adapter, "feedOf", 2) == ("ok", (ZERO_ADDRESS, 0, 0))


def test_set_feed__zero_feed__reverts_zero_feed(oracle, adapter):
    assert oracle.transact(adapter, "setFeed", MARKET, ZERO_ADDRESS, HOUR) == revert("ZeroFeed")


def test_set_feed__zero_feed_and_zero_max_age__reverts_zero_feed_first(oracle, adapter):
    assert oracle.transact(adapter, "setFeed", MARKET, ZERO_ADDRESS, 0) == revert("ZeroFeed")


def test_set_feed__zero_max_age__reverts_invalid_max_age(oracle, adapter, feed):
    assert oracle.transact(adapter, "setFeed", MARKET, feed.address, 0) == revert("InvalidMaxAge", 0)


def test_set_feed__max_age_one_above_limit__reverts_invalid_max_age(oracle, adapter, feed):
    limit = MAX_AGE_LIMIT
    assert oracle.transact(adapter, "setFeed", MARKET, feed.address, limit + 1) == revert("InvalidMaxAge", limit + 1)
    assert oracle.transact(adapter, "setFeed", MARKET, feed.address, limit)[0] == "ok"


@pytest.mark.parametrize("decimals", [37, 255])
def test_set_feed__more_than_36_decimals__reverts_unsupported_feed_decimals(oracle, adapter, decimals):
    wide = oracle.deploy_mock_price_feed(decimals, 1)
    outcome = oracle.transact(adapter, "setFeed", MARKET, wide.address, HOUR)
    assert outcome == revert("UnsupportedFeedDecimals", decimals)


def test_set_feed__bad_max_age_and_bad_decimals__reverts_invalid_max_age_first(oracle, adapter):
    wide = oracle.deploy_mock_price_feed(37, 1)
    assert oracle.transact(adapter, "setFeed", MARKET, wide.address, 0) == revert("InvalidMaxAge", 0)


def test_set_feed__non_owner__reverts_ownable_unauthorized_account(oracle, adapter, feed, stranger):
    outcome = oracle.transact(adapter, "setFeed", MARKET, ZERO_ADDRESS, 0, sender=stranger)
    assert outcome == revert("OwnableUnauthorizedAccount", stranger)


# ==============================================================================================
# setSequencerFeed and ownership
# ==============================================================================================


def test_set_sequencer_feed__by_owner__emits_sequencer_feed_set(oracle, adapter, sequencer):
    outcome = oracle.transact(adapter, "setSequencerFeed", sequencer.address, HOUR)
    assert outcome == ok_events((adapter.address, "SequencerFeedSet", (sequencer.address, HOUR)))
    assert oracle.view(adapter, "sequencerFeed") == ("ok", sequencer.address)
    assert oracle.view(adapter, "sequencerGracePeriod") == ("ok", HOUR)


def test_set_sequencer_feed__zero_address__disables_check(oracle, adapter, sequencer):
    oracle.transact(adapter, "setSequencerFeed", sequencer.address, HOUR)
    outcome = oracle.transact(adapter, "setSequencerFeed", ZERO_ADDRESS, 0)
    assert outcome == ok_events((adapter.address, "SequencerFeedSet", (ZERO_ADDRESS, 0)))


def test_set_sequencer_feed__non_owner__reverts_ownable_unauthorized_account(oracle, adapter, sequencer, stranger):
    outcome = oracle.transact(adapter, "setSequencerFeed", sequencer.address, HOUR, sender=stranger)
    assert outcome == revert("OwnableUnauthorizedAccount", stranger)


def test_transfer_ownership__new_owner_configures__old_owner_reverts(oracle, adapter, feed, deployer, stranger):
    outcome = oracle.transact(adapter, "transferOwnership", stranger)
    assert outcome == ok_events((adapter.address, "OwnershipTransferred", (deployer.address, stranger)))
    assert oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR, sender=stranger)[0] == "ok"
    assert oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR) == revert(
        "OwnableUnauthorizedAccount", deployer.address
    )


def test_transfer_ownership__to_zero__reverts_ownable_invalid_owner(oracle, adapter):
    assert oracle.transact(adapter, "transferOwnership", ZERO_ADDRESS) == revert("OwnableInvalidOwner", ZERO_ADDRESS)


def test_transfer_ownership__non_owner__reverts_ownable_unauthorized_account(oracle, adapter, stranger):
    outcome = oracle.transact(adapter, "transferOwnership", stranger, sender=stranger)
    assert outcome == revert("OwnableUnauthorizedAccount", stranger)


def test_renounce_ownership__nobody_can_configure(oracle, adapter, feed, deployer):
    outcome = oracle.transact(adapter, "renounceOwnership")
    assert outcome == ok_events((adapter.address, "OwnershipTransferred", (deployer.address, ZERO_ADDRESS)))
    assert oracle.transact(adapter, "setSequencerFeed", ZERO_ADDRESS, 0) == revert(
        "OwnableUnauthorizedAccount", deployer.address
    )


# ==============================================================================================
# price: validation, in the documented order
# ==============================================================================================


def test_price__feed_not_set__reverts_feed_not_set(oracle, adapter):
    assert oracle.view(adapter, "price", 3) == revert("FeedNotSet", 3)


def test_price__fresh_answer__returns_wad(oracle, priced):
    assert oracle.view(priced, "price", MARKET) == ("ok", 2_000 * 10**18)


@pytest.mark.parametrize("answer", [0, -1, INT256_MIN])
def test_price__answer_not_positive__reverts_invalid_answer(oracle, priced, feed, answer):
    oracle.transact(feed, "setAnswer", answer)
    assert oracle.view(priced, "price", MARKET) == revert("InvalidAnswer", MARKET, answer)


def test_price__zero_updated_at__reverts_missing_timestamp(oracle, priced, feed):
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, 0)
    assert oracle.view(priced, "price", MARKET) == revert("MissingTimestamp", MARKET)


def test_price__zero_answer_and_zero_updated_at__reverts_invalid_answer_first(oracle, priced, feed):
    oracle.transact(feed, "setRoundData", 0, 0)
    assert oracle.view(priced, "price", MARKET) == revert("InvalidAnswer", MARKET, 0)


def test_price__updated_one_second_in_future__reverts_future_timestamp(oracle, priced, feed):
    t = oracle.now() + AHEAD
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, t + 1)
    assert oracle.view(priced, "price", MARKET, at=t) == revert("FutureTimestamp", MARKET, t + 1, t)


def test_price__updated_in_this_block__returns_price(oracle, priced, feed):
    t = oracle.now() + AHEAD
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, t)
    assert oracle.view(priced, "price", MARKET, at=t) == ("ok", 2_000 * 10**18)


def test_price__exactly_max_age_old__returns_price(oracle, priced, feed):
    t = oracle.now() + AHEAD
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, t - HOUR)
    assert oracle.view(priced, "price", MARKET, at=t) == ("ok", 2_000 * 10**18)


def test_price__stale_by_one_second__reverts_stale_price(oracle, priced, feed):
    t = oracle.now() + AHEAD
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, t - HOUR - 1)
    assert oracle.view(priced, "price", MARKET, at=t) == revert("StalePrice", MARKET, t - HOUR - 1, t, HOUR)


def test_price__feed_stops_updating__goes_stale_after_max_age(oracle, priced, feed):
    updated = oracle.now() + AHEAD
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, updated)
    assert oracle.view(priced, "price", MARKET, at=updated + HOUR)[0] == "ok"
    assert oracle.view(priced, "price", MARKET, at=updated + HOUR + 1)[0:2] == ("revert", "StalePrice")


# ==============================================================================================
# price: scaling to WAD
# ==============================================================================================


@pytest.mark.parametrize(
    ("decimals", "answer", "wad"),
    [
        (0, 2_000, 2_000 * 10**18),
        (6, 1_234_567, 1_234_567 * 10**12),
        (8, 2_000 * USD_8 + 1, 2_000 * 10**18 + 10**10),
        (18, 3 * 10**18 + 7, 3 * 10**18 + 7),
        (20, 5 * 10**20 + 99, 5 * 10**18),  # rounds down: the last two digits are dropped
        (36, 10**36 + 10**18 - 1, 10**18),  # rounds down
        (36, 10**18, 1),
    ],
)
def test_price__feed_decimals__scales_to_wad_rounding_down(oracle, adapter, decimals, answer, wad):
    feed = oracle.deploy_mock_price_feed(decimals, answer)
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    assert oracle.view(adapter, "price", MARKET) == ("ok", wad)


@pytest.mark.parametrize(("decimals", "answer"), [(36, 10**18 - 1), (20, 99), (19, 1)])
def test_price__answer_scales_to_zero__reverts_invalid_answer(oracle, adapter, decimals, answer):
    feed = oracle.deploy_mock_price_feed(decimals, answer)
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    assert oracle.view(adapter, "price", MARKET) == revert("InvalidAnswer", MARKET, answer)


def test_price__answer_would_overflow_wad_scaling__left_out_as_invalid_answer_not_a_panic(oracle, adapter):
    feed = oracle.deploy_mock_price_feed(0, INT256_MAX)
    oracle.transact(adapter, "setFeed", MARKET, feed.address, HOUR)
    assert oracle.view(adapter, "price", MARKET) == revert("InvalidAnswer", MARKET, INT256_MAX)


# ==============================================================================================
# price: L2 sequencer uptime
# ==============================================================================================


def _sequencer_status(oracle, adapter, sequencer, status: int, started_at: int, grace: int = HOUR) -> None:
    oracle.transact(sequencer, "setRoundData", status, started_at)
    oracle.transact(adapter, "setSequencerFeed", sequencer.address, grace)


def test_price__sequencer_down__reverts_sequencer_down(oracle, priced, sequencer):
    _sequencer_status(oracle, priced, sequencer, 1, oracle.now() - DAY)
    assert oracle.view(priced, "price", MARKET) == revert("SequencerDown")


def test_price__sequencer_without_round__reverts_sequencer_down(oracle, priced, sequencer):
    _sequencer_status(oracle, priced, sequencer, 0, 0)
    assert oracle.view(priced, "price", MARKET) == revert("SequencerDown")


def test_price__sequencer_up_exactly_grace_period__reverts_sequencer_grace_period(oracle, priced, feed, sequencer):
    t = oracle.now() + AHEAD
    _sequencer_status(oracle, priced, sequencer, 0, t - HOUR)
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, t)
    assert oracle.view(priced, "price", MARKET, at=t) == revert("SequencerGracePeriod", t - HOUR, t, HOUR)


def test_price__sequencer_up_one_second_past_grace__returns_price(oracle, priced, feed, sequencer):
    t = oracle.now() + AHEAD
    _sequencer_status(oracle, priced, sequencer, 0, t - HOUR - 1)
    oracle.transact(feed, "setRoundData", 2_000 * USD_8, t)
    assert oracle.view(priced, "price", MARKET, at=t) == ("ok", 2_000 * 10**18)


def test_price__sequencer_restart_dated_in_future__reverts_sequencer_grace_period(oracle, priced, sequencer):
    t = oracle.now() + AHEAD
    _sequencer_status(oracle, priced, sequencer, 0, t + 1, grace=0)
    assert oracle.view(priced, "price", MARKET, at=t) == revert("SequencerGracePeriod", t + 1, t, 0)


def test_price__sequencer_restart_in_this_block_with_zero_grace__reverts_sequencer_grace_period(
    oracle, priced, sequencer
):
    t = oracle.now() + AHEAD
    _sequencer_status(oracle, priced, sequencer, 0, t, grace=0)
    assert oracle.view(priced, "price", MARKET, at=t) == revert("SequencerGracePeriod", t, t, 0)


def test_price__sequencer_down_and_feed_not_set__reverts_feed_not_set_first(oracle, adapter, sequencer):
    _sequencer_status(oracle, adapter, sequencer, 1, oracle.now())
    assert oracle.view(adapter, "price", MARKET) == revert("FeedNotSet", MARKET)


def test_price__sequencer_down_and_invalid_answer__reverts_sequencer_down_first(oracle, priced, feed, sequencer):
    oracle.transact(feed, "setRoundData", -5, 0)
    _sequencer_status(oracle, priced, sequencer, 1, oracle.now())
    assert oracle.view(priced, "price", MARKET) == revert("SequencerDown")


def test_price__sequencer_check_disabled__ignores_down_sequencer(oracle, priced, sequencer):
    _sequencer_status(oracle, priced, sequencer, 1, oracle.now())
    oracle.transact(priced, "setSequencerFeed", ZERO_ADDRESS, HOUR)
    assert oracle.view(priced, "price", MARKET) == ("ok", 2_000 * 10**18)


# ==============================================================================================
# MockPriceFeed
# ==============================================================================================


def test_mock_price_feed__set_round_data__emits_answer_updated_and_new_round(oracle, feed, stranger):
    outcome = oracle.transact(feed, "setRoundData", -7, 12345, sender=stranger)
    assert outcome == ok_events(
        (feed.address, "AnswerUpdated", (-7, 2, 12345)),
        (feed.address, "NewRound", (2, stranger, 12345)),
    )
    assert oracle.view(feed, "latestRoundData") == ("ok", (2, -7, 12345, 12345, 2))


def test_mock_price_feed__set_answer__dates_round_at_block_time(oracle, feed):
    oracle.transact(feed, "setAnswer", 42)
    mined_at = oracle.block_timestamp()
    assert oracle.view(feed, "latestRoundData") == ("ok", (2, 42, mined_at, mined_at, 2))


def test_mock_price_feed__past_rounds__kept_by_get_round_data(oracle, feed):
    deployed_at = oracle.view(feed, "latestRoundData")[1][2]
    oracle.transact(feed, "setRoundData", 1, 0)
    oracle.transact(feed, "setRoundData", 2, 777)
    assert oracle.view(feed, "getRoundData", 1) == ("ok", (1, 2_000 * USD_8, deployed_at, deployed_at, 1))
    assert oracle.view(feed, "getRoundData", 2) == ("ok", (2, 1, 0, 0, 2))
    assert oracle.view(feed, "getRoundData", 3) == ("ok", (3, 2, 777, 777, 3))


@pytest.mark.parametrize("round_id", [0, 2, 2**80 - 1])
def test_mock_price_feed__unknown_round__reverts_round_not_found(oracle, feed, round_id):
    assert oracle.view(feed, "getRoundData", round_id) == revert("RoundNotFound", round_id)


def test_mock_price_feed__metadata__matches(oracle, feed):
    assert oracle.view(feed, "decimals") == ("ok", 8)
    assert oracle.view(feed, "description") == ("ok", "MockPriceFeed")
    assert oracle.view(feed, "version") == ("ok", 1)


# ==============================================================================================
# Chainlink's own MockV3Aggregator (SPEC §4)
# ==============================================================================================


@pytest.fixture
def chainlink(oracle):
    """Chainlink's MockV3Aggregator, 8 decimals, at $1,500."""
    return oracle.deploy_chainlink_mock(8, 1_500 * USD_8)


def test_chainlink_mock__fresh_answer__adapter_returns_wad(oracle, adapter, chainlink):
    oracle.transact(adapter, "setFeed", MARKET, chainlink.address, HOUR)
    assert oracle.view(adapter, "price", MARKET) == ("ok", 1_500 * 10**18)
    assert oracle.transact(chainlink, "updateAnswer", 1_600 * USD_8) == ("ok", [])  # it emits nothing
    assert oracle.view(adapter, "price", MARKET) == ("ok", 1_600 * 10**18)


def test_chainlink_mock__stale_round__reverts_stale_price(oracle, adapter, chainlink):
    oracle.transact(adapter, "setFeed", MARKET, chainlink.address, HOUR)
    t = oracle.now() + AHEAD
    oracle.transact(chainlink, "updateRoundData", 9, 1_500 * USD_8, t - HOUR - 1, t - HOUR - 1)
    assert oracle.view(adapter, "price", MARKET, at=t) == revert("StalePrice", MARKET, t - HOUR - 1, t, HOUR)


def test_chainlink_mock__zero_timestamp__reverts_missing_timestamp(oracle, adapter, chainlink):
    oracle.transact(adapter, "setFeed", MARKET, chainlink.address, HOUR)
    oracle.transact(chainlink, "updateRoundData", 2, 1_500 * USD_8, 0, 0)
    assert oracle.view(adapter, "price", MARKET) == revert("MissingTimestamp", MARKET)


def test_chainlink_mock__rounds__model_equals_chain(oracle, chainlink):
    oracle.transact(chainlink, "updateRoundData", 2**80 - 1, -3, 5, 4)
    oracle.transact(chainlink, "updateAnswer", 7)  # latestRound 2**80: latestRoundData truncates it
    assert oracle.view(chainlink, "latestRoundData")[1][:2] == (0, 7)
    assert oracle.view(chainlink, "getRoundData", 2**80 - 1) == ("ok", (2**80 - 1, -3, 4, 5, 2**80 - 1))
    assert oracle.view(chainlink, "getRoundData", 12) == ("ok", (12, 0, 0, 0, 12))  # unknown: zeros
    assert oracle.view(chainlink, "version") == ("ok", 0)
    assert oracle.view(chainlink, "description") == ("ok", "v0.8/tests/MockV3Aggregator.sol")


# ==============================================================================================
# price: random feed states, model ⇄ chain
# ==============================================================================================


@dataclass(frozen=True)
class PriceCase:
    decimals: int
    max_age: int
    answer: int
    updated: tuple[str, int]  # ("age", seconds before the block) | ("future", seconds after) | ("zero", 0)
    sequencer: tuple[int, tuple[str, int], int] | None  # (status, started, grace period)

    @staticmethod
    def timestamp(kind: tuple[str, int], t: int) -> int:
        how, seconds = kind
        return {"age": t - seconds, "future": t + seconds, "zero": 0}[how]


def _relative_time(limit: int) -> st.SearchStrategy[tuple[str, int]]:
    """A timestamp relative to the block: on, one inside or one outside `limit`, anything up to
    twice the limit, one second or more in the future, or zero."""
    return st.one_of(
        st.tuples(st.just("age"), st.sampled_from([0, 1, max(limit - 1, 0), limit, limit + 1])),
        st.tuples(st.just("age"), st.integers(0, 2 * limit + 1)),
        st.tuples(st.just("future"), st.sampled_from([1, 2, HOUR])),
        st.just(("zero", 0)),
    )


@st.composite
def price_cases(draw: st.DrawFn) -> PriceCase:
    decimals = draw(st.one_of(st.sampled_from([0, 6, 8, 18, 20, 36]), st.integers(0, MAX_FEED_DECIMALS)))
    max_age = draw(st.one_of(st.sampled_from([1, HOUR, DAY + HOUR, MAX_AGE_LIMIT]), st.integers(1, MAX_AGE_LIMIT)))
    unit = 10**decimals
    wad_step = 10 ** max(decimals - 18, 0)  # the smallest answer that does not scale to zero
    answer = draw(
        st.one_of(
            st.integers(1, 10**6).map(lambda usd: usd * unit),
            st.integers(1, 10**7 * unit),
            st.sampled_from([0, -1, 1, wad_step - 1, wad_step, INT256_MAX, INT256_MIN]),
            s.int256(),
        )
    )
    updated = draw(_relative_time(max_age))
    sequencer = None
    if draw(st.integers(0, 2)) == 0:  # a third of the cases run behind a sequencer-uptime feed
        grace = draw(st.one_of(st.sampled_from([0, 1, HOUR]), st.integers(0, DAY)))
        status = draw(st.sampled_from([0, 0, 0, 0, 1, 2, -1]))  # mostly up: 0
        sequencer = (status, draw(_relative_time(grace)), grace)
    return PriceCase(decimals, max_age, answer, updated, sequencer)


@given(case=price_cases())
@example(case=PriceCase(8, HOUR, 2_000 * USD_8, ("age", HOUR), None))
@example(case=PriceCase(8, HOUR, 2_000 * USD_8, ("age", HOUR + 1), None))
@example(case=PriceCase(8, HOUR, 2_000 * USD_8, ("future", 1), None))
@example(case=PriceCase(8, HOUR, 2_000 * USD_8, ("zero", 0), None))
@example(case=PriceCase(8, HOUR, 2_000 * USD_8, ("age", 0), (0, ("age", 60), 60)))
def test_price__random_feed_and_sequencer_state__model_equals_chain(oracle, adapter, sequencer, case):
    feed = oracle.feed_with_decimals(case.decimals)
    t = oracle.now() + AHEAD
    oracle.transact(adapter, "setFeed", MARKET, feed.address, case.max_age)
    oracle.transact(feed, "setRoundData", case.answer, case.timestamp(case.updated, t))
    if case.sequencer is None:
        oracle.transact(adapter, "setSequencerFeed", ZERO_ADDRESS, 0)
    else:
        status, started, grace = case.sequencer
        oracle.transact(sequencer, "setRoundData", status, case.timestamp(started, t))
        oracle.transact(adapter, "setSequencerFeed", sequencer.address, grace)

    outcome = oracle.view(adapter, "price", MARKET, at=t)  # asserts model == chain

    event(outcome[0] if outcome[0] == "ok" else outcome[1])
