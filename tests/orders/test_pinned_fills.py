"""Fills pinned to the order (issue 17, items 1, 2 and 5; SPEC §5a): each source contributes its
first observation at or after `readyAt = submittedAt + max(1, minExecutionDelay)`, in `[readyAt,
readyAt + fillWindow]`; the order fills once every source has one or, after the window, on a
quorum of them. Any keeper at any time gets the same price; wrong round hints are refused by name;
a pushed pull print cannot lock other keepers out. Three-source ETH (two Chainlink-style feeds and
a Pyth id, quorum 2), through `difftest.ledger.Ledger`: model ⇄ chain on every action.
"""

from __future__ import annotations

import pytest

from difftest.orders import execute, submit, three_source_config
from pymodel.config import default_config
from pymodel.core import Env
from pymodel.system import pyth_update

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH, BTC = 1, 2
MAX_AGE = 3_600 + 600


READY = 2  # the default minExecutionDelay
MAX_DELAY = 300  # the default maxExecutionDelay
WINDOW = (MAX_DELAY - READY) // 2


@pytest.fixture
def ledger(make_ledger):
    ledger = make_ledger(three_source_config())
    owner, lp, *_ = ledger.actors
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    for trader in ledger.actors[2:5]:
        ledger.mint_and_approve(trader, 100_000 * USD)
    return ledger


def long_order(ledger, trader: str):
    assert not submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 10**30).reverted


def pinned_price(outcome) -> int:
    assert outcome.events_named("OrderExecuted"), (outcome.error, [e.name for e in outcome.events])
    return outcome.event("OrderExecuted").price


def round_ids(ledger) -> list[int]:
    """The model's latest round id of each Chainlink source (0 for the Pyth one)."""
    c = ledger.system.c
    return [getattr(source, "latest_round_id", 0) for source in c.sources[ETH]]


def test_two_keepers_at_different_times__same_price_wei_for_wei(ledger):
    """Two orders submitted in the same second: one filled right after the first rounds, the other
    near expiry after the market moved 3%: both at the first observations' median."""
    first, second, keeper, late_keeper = ledger.actors[2], ledger.actors[3], ledger.actors[4], ledger.actors[5]
    long_order(ledger, first)
    long_order(ledger, second)
    ready_at = ledger.now + READY
    ledger.advance(READY)
    ledger.set_source_price(ETH, 0, 3_000 * FEED)
    ledger.set_source_price(ETH, 1, 3_004 * FEED)
    ledger.set_source_price(ETH, 2, 3_002 * FEED)
    early = execute(ledger, first, ETH, keeper)
    for step in range(1, 6):  # later rounds: the market rallies 3%
        ledger.advance(MAX_DELAY // 6)
        ledger.set_price(ETH, (3_000 + 18 * step) * FEED)
    # The stored Pyth print is newer now: the late keeper brings the order's own (readyAt's).
    update = pyth_update(ETH, 2, 8, 3_002 * FEED, ready_at)
    late = ledger.act(late_keeper, "orderRouter", "executeOrder", second, ETH, [], [update])
    assert pinned_price(early) == pinned_price(late) == 3_002 * WAD  # median of the first three
    assert ledger.system.c.oracle.price(Env(keeper, ledger.now), ETH) == 3_090 * WAD  # the live mark moved on


def test_named_rounds__the_first_ones_fill__the_same_price_as_no_hints(ledger):
    trader, keeper = ledger.actors[2], ledger.actors[4]
    long_order(ledger, trader)
    ledger.advance(READY)
    ledger.set_price(ETH, 3_001 * FEED)
    first, pull = round_ids(ledger), [pyth_update(ETH, 2, 8, 3_001 * FEED, ledger.now)]
    ledger.advance(30)
    ledger.set_price(ETH, 3_050 * FEED)
    out = ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, first, pull)
    assert pinned_price(out) == 3_001 * WAD


def test_wrong_hints__a_later_round_or_a_missing_one__refused_by_name(ledger):
    trader, keeper = ledger.actors[2], ledger.actors[4]
    long_order(ledger, trader)
    ledger.advance(READY)
    ledger.set_price(ETH, 3_001 * FEED)
    first, pull = round_ids(ledger), [pyth_update(ETH, 2, 8, 3_001 * FEED, ledger.now)]
    ledger.advance(30)
    ledger.set_price(ETH, 3_050 * FEED)
    later = round_ids(ledger)  # their predecessors are newer than readyAt
    act = lambda hints: ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, hints, pull)  # noqa: E731
    assert act([later[0], first[1], 0]).error == ("BadRoundHint", (ETH, 0, later[0]))
    assert act([first[0], first[1] - 1, 0]).error == ("BadRoundHint", (ETH, 1, first[1] - 1))  # before readyAt
    assert act([first[0], 10**6, 0]).error == ("BadRoundHint", (ETH, 1, 10**6))  # no such round
    assert act([first[0]]).error == ("RoundHintCount", (1, 3))
    assert pinned_price(act(first)) == 3_001 * WAD  # the right ones still fill


def test_pull_update_outside_the_window__not_the_orders_print__fill_waits(ledger):
    trader, keeper = ledger.actors[2], ledger.actors[4]
    long_order(ledger, trader)
    ready_at = ledger.now + READY
    ledger.advance(READY)
    ledger.set_source_price(ETH, 0, 3_000 * FEED)
    ledger.set_source_price(ETH, 1, 3_000 * FEED)
    ledger.advance(20)
    late = pyth_update(ETH, 2, 8, 2_950 * FEED, ledger.now)  # 20 s after readyAt: beyond the 10 s window
    out = ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [late])
    assert out.error == ("FillNotReady", (ETH, 2, ready_at + WINDOW))
    inside = pyth_update(ETH, 2, 8, 3_010 * FEED, ready_at + 5)
    assert pinned_price(ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [inside])) == 3_000 * WAD


def test_attack__print_pushed_at_the_submission_second__does_not_lock_other_keepers_out(ledger):
    """The issue's lock-out: the trader pushes a Pyth print dated at its own submission second, so
    that the oldest agreeing observation stays before readyAt. The print is not the order's (it
    is before readyAt): another keeper fills at the push feeds' first rounds and its own pull
    update, the trader's print changes nothing."""
    trader, other_keeper = ledger.actors[2], ledger.actors[5]
    long_order(ledger, trader)
    ledger.set_source_price(ETH, 2, 2_990 * FEED, sender=trader)  # dated at submission
    ledger.advance(READY)
    ledger.set_source_price(ETH, 0, 3_000 * FEED)
    ledger.set_source_price(ETH, 1, 3_002 * FEED)
    update = pyth_update(ETH, 2, 8, 3_001 * FEED, ledger.now)
    out = ledger.act(other_keeper, "orderRouter", "executeOrder", trader, ETH, [], [update])
    assert pinned_price(out) == 3_001 * WAD


def test_attack__quorum_market_one_slow_source__fills_on_the_quorum_once_the_window_closed(ledger):
    """The issue's slow source: the Pyth source is never pushed after the order. The order waits
    for it only until the fill window closes, then fills on the two push feeds (quorum 2)."""
    trader, keeper = ledger.actors[2], ledger.actors[4]
    long_order(ledger, trader)
    ready_at = ledger.now + READY
    ledger.advance(READY)
    ledger.act(ledger.actors[0], "feed1", "setRoundData", 3_000 * FEED, ledger.now)
    ledger.act(ledger.actors[0], "feed1_1", "setRoundData", 3_004 * FEED, ledger.now)
    assert execute(ledger, trader, ETH, keeper).error == ("FillNotReady", (ETH, 2, ready_at + WINDOW))
    ledger.advance(WINDOW)
    assert execute(ledger, trader, ETH, keeper).error == ("FillNotReady", (ETH, 2, ready_at + WINDOW))
    ledger.advance(1)
    assert pinned_price(execute(ledger, trader, ETH, keeper)) == 3_000 * WAD  # lower median of two


def test_window_closed_below_quorum__pinned_below_quorum(ledger):
    trader, keeper = ledger.actors[2], ledger.actors[4]
    long_order(ledger, trader)
    ledger.advance(READY)
    ledger.act(ledger.actors[0], "feed1", "setRoundData", 3_000 * FEED, ledger.now)
    ledger.advance(WINDOW + 1)
    assert execute(ledger, trader, ETH, keeper).error == ("PinnedBelowQuorum", (ETH, 1, 2))


def test_pinned_execute_order__one_and_three_sources__fills(ledger, make_ledger):
    """`executeOrder` with pinned rounds (found by the oracle, one pull update) fills on the
    three-source market and on the default one-source one (`make bench` prints its gas)."""
    trader, keeper = ledger.actors[2], ledger.actors[4]
    long_order(ledger, trader)
    ledger.advance(READY)
    ledger.set_price(ETH, 3_000 * FEED)
    update = pyth_update(ETH, 2, 8, 3_000 * FEED, ledger.now)
    assert pinned_price(ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [update])) == 3_000 * WAD
    one_ledger = make_ledger(default_config())
    lp, trader = one_ledger.actors[1], one_ledger.actors[2]
    one_ledger.mint_and_approve(lp, 1_000_000 * USD)
    one_ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    one_ledger.mint_and_approve(trader, 100_000 * USD)
    long_order(one_ledger, trader)
    one_ledger.advance(READY)
    one_ledger.set_price(ETH, 3_000 * FEED)
    assert pinned_price(one_ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], [])) == 3_000 * WAD
