"""Pull sources nobody picks (issue 17, item 3): a Pyth source's confidence interval is at most
`maxConfBps` of its price, and its print counts only when it is no more than `pullLagTolerance`
seconds older than the newest fresh push (Chainlink) observation. So whoever pushes a pull update
chooses only among prints at least as recent as what the push feeds already show: with two push
feeds and one pull source, the mark stays between the two push prices whatever is pushed.
Model ⇄ chain parity on every call (tests/oracle/conftest.py).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pymodel.mock_pyth import encode_price_feed_update
from pymodel.oracle_adapter import MarkStatus, SourceHealth, SourceKind

MARKET = 1
HOUR = 3600
AHEAD = 600
WAD = 10**18
USD_8 = 10**8
PYTH_ID = (0xEA).to_bytes(32, "big")
CHAINLINK, PYTH = int(SourceKind.CHAINLINK), int(SourceKind.PYTH)
NO_ID = bytes(32)
CONF_BPS = 100  # 1%
LAG = 60


def revert(name: str, *args: object) -> tuple:
    return ("revert", name, args)


def push(oracle, pyth, answer: int, publish_time: int, conf: int = 0) -> None:
    update = encode_price_feed_update(PYTH_ID, answer, conf, -8, publish_time)
    assert oracle.transact(pyth, "updatePriceFeeds", [update])[0] == "ok"


@pytest.fixture
def world(oracle, adapter):
    """MARKET on two 18-decimal push feeds and a MockPyth id (8 decimals): quorum 2, 1% spread,
    confidence at most 1%, pull prints at most 60 s behind the newest push observation."""
    t0 = oracle.now()
    a = oracle.deploy_mock_price_feed(18, 2_790 * WAD)
    b = oracle.deploy_mock_price_feed(18, 2_800 * WAD)
    pyth = oracle.deploy_mock_pyth(PYTH_ID, 8, 2_795 * USD_8, t0 - 4_000)
    sources = [
        (CHAINLINK, a.address, NO_ID, HOUR),
        (CHAINLINK, b.address, NO_ID, HOUR),
        (PYTH, pyth.address, PYTH_ID, 4_200),
    ]
    params = (2, 100, 0, 0, 0, CONF_BPS, LAG)
    assert oracle.transact(adapter, "setOracle", MARKET, sources, params)[0] == "ok"
    return a, b, pyth


def test_pull__confidence_at_the_bound_counts_one_unit_wider_left_out(oracle, adapter, world):
    a, b, pyth = world
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_790 * WAD, t)
    oracle.transact(b, "setRoundData", 2_900 * WAD, t)  # beyond the spread of the pull print
    at_bound = 2_795 * USD_8 * CONF_BPS // 10_000
    push(oracle, pyth, 2_795 * USD_8, t - 1, conf=at_bound)
    assert oracle.view(adapter, "price", MARKET, at=t) == ("ok", 2_795 * WAD)  # median of three
    push(oracle, pyth, 2_795 * USD_8, t, conf=at_bound + 1)
    health = oracle.view(adapter, "sourceHealthOf", MARKET)
    assert health == ("ok", (SourceHealth.OK, SourceHealth.OK, SourceHealth.WIDE_CONFIDENCE))
    # Two left: 2,790 and 2,900 are 3.9% apart: the market refuses rather than take the wide print.
    assert oracle.view(adapter, "price", MARKET)[1] == "SpreadTooWide"


def test_pull__only_source_too_uncertain__confidence_too_wide(oracle, adapter, world):
    _, _, pyth = world
    oracle.transact(adapter, "setOracle", MARKET, [(PYTH, pyth.address, PYTH_ID, HOUR)], (1, 0, 0, 0, 0, CONF_BPS, LAG))
    t = oracle.now()
    push(oracle, pyth, 2_000 * USD_8, t, conf=21 * USD_8)  # 1.05%
    assert oracle.view(adapter, "price", MARKET) == revert("ConfidenceTooWide", MARKET, 21 * USD_8, 2_000 * USD_8)


def test_attack__chosen_20_minute_old_pull_print__left_out_mark_unmoved(oracle, adapter, world):
    """The issue's case: both push feeds fresh at 2,790 / 2,800; an attacker pushes a signed print
    from 20 minutes ago at 2,772 to drag the median down and liquidate a long. It is left out: the
    mark stays the push feeds' lower median."""
    a, b, pyth = world
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_790 * WAD, t)
    oracle.transact(b, "setRoundData", 2_800 * WAD, t)
    push(oracle, pyth, 2_772 * USD_8, t - 1_200)
    assert oracle.view(adapter, "price", MARKET, at=t) == ("ok", 2_790 * WAD)
    status = oracle.view(adapter, "markStatus", MARKET)
    assert status == ("ok", (MarkStatus.LIVE, 2, 2, SourceHealth.BEHIND_PUSH))


@pytest.mark.parametrize(("lag", "counts"), [(LAG, True), (LAG + 1, False)])
def test_pull__print_behind_the_newest_push_by_the_tolerance_counts_one_second_more_left_out(
    oracle, adapter, world, lag, counts
):
    a, b, pyth = world
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_790 * WAD, t - 500)
    oracle.transact(b, "setRoundData", 2_800 * WAD, t)  # the newest push observation
    push(oracle, pyth, 2_796 * USD_8, t - lag)
    assert oracle.view(adapter, "price", MARKET, at=t) == ("ok", (2_796 if counts else 2_790) * WAD)


def test_attack__one_push_feed_stale__an_old_pushed_print_is_not_the_mark(oracle, adapter, world):
    """The issue's second case: one push feed stale, an attacker pushes a print 4.76% away dated
    before the live push round. Left out: below quorum, the market waits for a fresh print."""
    a, b, pyth = world
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_790 * WAD, t - HOUR - 1)  # stale
    oracle.transact(b, "setRoundData", 2_800 * WAD, t)
    push(oracle, pyth, 2_667 * USD_8, t - 300)
    assert oracle.view(adapter, "price", MARKET, at=t)[1] == "StalePrice"
    assert oracle.view(adapter, "sourceHealthOf", MARKET)[1] == (
        SourceHealth.STALE,
        SourceHealth.OK,
        SourceHealth.BEHIND_PUSH,
    )


@settings(max_examples=min(30, settings().max_examples))
@given(answer=st.integers(1, 10_000 * USD_8), behind=st.integers(-AHEAD + 1, 3_000))
@example(answer=1, behind=0)
@example(answer=10_000 * USD_8, behind=LAG)
def test_pull__whatever_is_pushed__mark_between_the_push_prices(oracle, adapter, world, answer, behind):
    """The bound of the pull rule: two fresh push prices p1 <= p2 and any print the pusher can
    choose (any price, any publish time up to now): the mark is in [p1, p2] or the market
    refuses (the pull print within the spread of the lower median); never outside."""
    a, b, pyth = world
    t = oracle.now() + AHEAD
    oracle.transact(a, "setRoundData", 2_790 * WAD, t - 30)
    oracle.transact(b, "setRoundData", 2_800 * WAD, t)
    stored = oracle.view(pyth, "getPriceUnsafe", PYTH_ID)[1][3]
    publish = max(t - behind, stored + 1)
    push(oracle, pyth, answer, publish)
    outcome = oracle.view(adapter, "price", MARKET, at=t)
    if outcome[0] == "ok":
        assert 2_790 * WAD <= outcome[1] <= 2_800 * WAD
