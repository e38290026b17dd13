"""The multi-source mark in the whole system (issue 11), through `difftest.ledger.Ledger`: every
action runs on the model and on Anvil, with the same outcome, ordered events, full state
(every source, the adapter's rules and band state) and conservation required after each step.

Scenarios: a frozen source outvoted while liquidations proceed (and the same freeze with one
feed, where nobody can be liquidated); a single spike that liquidates nobody, on one feed
(the band) and on three (the median); an order-fill view (`priceWithTime`); the gas of a
liquidation with three sources against one.
"""

from __future__ import annotations

from typing import Any

import pytest

from difftest.ledger import Ledger
from difftest.orders import close, execute, submit
from pymodel.config import SourceConfig, SystemConfig, default_config, default_market
from pymodel.core import Env
from pymodel.oracle_adapter import MarkStatus, SourceHealth
from pymodel.system import source_specs

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH, BTC = 1, 2
MAX_AGE = 3_600 + 600


def three_source_config(**overrides: Any) -> SystemConfig:
    """ETH on two Chainlink-style feeds and a Pyth price (8 decimals each), quorum 2, 2% spread
    around the median, a 25% band over 900 s; BTC on one feed."""
    sources = (
        SourceConfig(kind="chainlink", decimals=8, max_age=MAX_AGE, initial_answer=3_000 * FEED),
        SourceConfig(kind="chainlink", decimals=8, max_age=MAX_AGE, initial_answer=3_000 * FEED),
        SourceConfig(kind="pyth", decimals=8, max_age=MAX_AGE, initial_answer=3_000 * FEED),
    )
    values: dict[str, Any] = dict(sources=sources, oracle_quorum=2, oracle_max_spread_bps=200)
    values.update(overrides)
    eth = default_market(ETH, "ETH-USD", 3_000, 6, **values)
    return default_config(markets=[eth, default_market(BTC, "BTC-USD", 60_000, 6)])


def funded(ledger: Ledger) -> tuple[str, str, str]:
    """An LP with $1M in the pool, a trader long 10 ETH at 3,000 with $3,100 of margin (~9.7x,
    liquidated below ~2,770), a keeper. The order fills at the next round, published at 3,000
    on every source (each source's last observation is then `ledger.now`)."""
    owner, lp, trader, keeper = ledger.actors[:4]
    for actor in (lp, trader):
        ledger.mint_and_approve(actor, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    assert not submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD).reverted
    ledger.advance(max(1, ledger.system.c.order_router.min_execution_delay))
    first = ledger.system.config.markets[0].oracle_sources()[0]
    ledger.set_price(ETH, 3_000 * 10**first.decimals)
    assert execute(ledger, trader, ETH, keeper).events_named("OrderExecuted")
    assert size(ledger, trader) == 10 * WAD
    return lp, trader, keeper


def size(ledger: Ledger, trader: str) -> int:
    return ledger.system.c.engine.position_of(trader, ETH).size


def chain_view(ledger: Ledger, function: str, *args: Any) -> Any:
    """The chain's answer at the latest block (the last action's, at `ledger.now`), checked
    against the model's at the same time."""
    model = getattr(ledger.system.c.oracle, {"priceWithTime": "price_with_time", "markStatus": "mark_status"}[function])
    chain = ledger.deployment.contracts["oracle"].call(function, *args)
    assert tuple(model(Env(ledger.actors[0], ledger.now), *args)) == tuple(chain)
    return chain


# ==============================================================================================
# A frozen source
# ==============================================================================================


def test_frozen_source__outvoted__liquidation_proceeds(make_ledger):
    ledger = make_ledger(three_source_config())
    _, trader, keeper = funded(ledger)
    ledger.act(keeper, "oracle", "updateMark", ETH)

    # The market falls 10% in one step; source 0 is frozen: it keeps publishing 3,000.
    ledger.advance(60)
    ledger.set_source_price(ETH, 0, 3_000 * FEED)
    ledger.set_source_price(ETH, 1, 2_700 * FEED)
    ledger.set_source_price(ETH, 2, 2_700 * FEED)
    assert chain_view(ledger, "markStatus", ETH) == (MarkStatus.LIVE, 3, 2, SourceHealth.OK)  # 3 fresh, 2 agree
    ledger.act(keeper, "oracle", "updateMark", ETH)

    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert not out.reverted
    assert out.event("Liquidated").oracle_price == 2_700 * WAD
    assert size(ledger, trader) == 0


def test_frozen_source__stops_updating__outvoted_then_dropped_as_stale(make_ledger):
    ledger = make_ledger(three_source_config())
    _, trader, keeper = funded(ledger)
    frozen_at = ledger.now
    ledger.advance(MAX_AGE)
    ledger.set_source_price(ETH, 1, 2_700 * FEED)
    ledger.set_source_price(ETH, 2, 2_700 * FEED)
    # Source 0 (last round at `frozen_at`) is exactly max-age old: still fresh, but outvoted.
    assert chain_view(ledger, "markStatus", ETH) == (MarkStatus.LIVE, 3, 2, SourceHealth.OK)
    ledger.advance(1)
    ledger.set_source_price(ETH, 1, 2_690 * FEED)
    assert chain_view(ledger, "markStatus", ETH) == (MarkStatus.LIVE, 2, 2, SourceHealth.STALE)  # now stale: left out
    assert chain_view(ledger, "priceWithTime", ETH) == (2_690 * WAD, frozen_at + MAX_AGE)

    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert out.event("Liquidated").oracle_price == 2_690 * WAD


def test_frozen_single_feed__nobody_liquidated_until_stale(make_ledger):
    """The same fall under today's single feed: the frozen feed is the mark, so the position
    cannot be liquidated while the market is 10% lower (the issue's motivation)."""
    ledger = make_ledger(default_config())
    _, trader, keeper = funded(ledger)
    ledger.advance(60)
    ledger.set_price(ETH, 3_000 * FEED)  # frozen: the real market is at 2,700
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert out.error is not None and out.error[0] == "PositionHealthy"
    ledger.advance(MAX_AGE + 1)
    assert ledger.act(keeper, "engine", "liquidate", trader, ETH).error[0] == "StalePrice"
    assert size(ledger, trader) == 10 * WAD


def test_two_sources_stale__market_degraded__nothing_acts(make_ledger):
    ledger = make_ledger(three_source_config())
    _, trader, keeper = funded(ledger)
    start = ledger.now
    ledger.advance(MAX_AGE + 1)
    ledger.set_source_price(ETH, 2, 2_000 * FEED)  # only the Pyth source is fresh: below quorum 2
    assert chain_view(ledger, "markStatus", ETH) == (MarkStatus.BELOW_QUORUM, 1, 1, SourceHealth.STALE)
    stale = ("StalePrice", (ETH, start, ledger.now, MAX_AGE))
    assert ledger.act(keeper, "engine", "liquidate", trader, ETH).error == stale
    # A close order cannot be filled either: its execution (no new round) reverts on the mark.
    closing = close(ledger, trader, ETH, 0, keeper=keeper, new_round=False)
    # Pinned fills (issue 17): no source has published since readyAt: the fill waits.
    assert closing.error[0] == "FillNotReady"
    stale = ("StalePrice", (ETH, start, ledger.now, MAX_AGE))
    assert ledger.act(keeper, "oracle", "updateMark", ETH).error == stale
    assert size(ledger, trader) == 10 * WAD


# ==============================================================================================
# A single bad print
# ==============================================================================================


def test_single_spike__one_feed__band_rejects__nobody_liquidated(make_ledger):
    ledger = make_ledger(default_config())  # one feed, 25% band over 900 s
    lp, trader, keeper = funded(ledger)
    ledger.act(keeper, "oracle", "updateMark", ETH)

    ledger.advance(30)
    ledger.set_price(ETH, 1_500 * FEED)  # a -50% print
    band = ("PriceOutsideBand", (ETH, 1_500 * WAD, 3_000 * WAD))
    assert ledger.act(keeper, "engine", "liquidate", trader, ETH).error == band
    # A keeper records the print as pending; the same observation still confirms nothing.
    assert ledger.act(keeper, "oracle", "updateMark", ETH).return_value is False
    assert ledger.act(keeper, "engine", "liquidate", trader, ETH).error == band

    ledger.advance(30)
    ledger.set_price(ETH, 3_010 * FEED)  # the next print: back in the band
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert out.error is not None and out.error[0] == "PositionHealthy"
    assert ledger.act(keeper, "oracle", "updateMark", ETH).return_value is True
    assert size(ledger, trader) == 10 * WAD
    assert ledger.system.c.oracle.mark_of(ETH) == (3_010 * WAD, ledger.now, 0, 0)


def test_single_spike__three_sources__median_ignores_it__nobody_liquidated(make_ledger):
    ledger = make_ledger(three_source_config(price_band_bps=0))  # the median alone
    _, trader, keeper = funded(ledger)
    ledger.advance(30)
    ledger.set_source_price(ETH, 1, 300 * FEED)  # one source prints -90%
    ledger.set_source_price(ETH, 0, 3_001 * FEED)
    ledger.set_source_price(ETH, 2, 2_999 * FEED)
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert out.error is not None and out.error[0] == "PositionHealthy"
    assert size(ledger, trader) == 10 * WAD


def test_spike_attacker__cannot_profit_from_recording_a_bad_print(make_ledger):
    """A keeper who records a spike as pending, then pushes a second bad print the other way,
    still gets no liquidation: a confirmation must lie beyond the band on the same side."""
    ledger = make_ledger(default_config())
    _, trader, keeper = funded(ledger)
    ledger.act(keeper, "oracle", "updateMark", ETH)
    ledger.advance(10)
    ledger.set_price(ETH, 4_500 * FEED)
    ledger.act(keeper, "oracle", "updateMark", ETH)
    ledger.advance(10)
    ledger.set_price(ETH, 1_500 * FEED)
    assert ledger.act(keeper, "engine", "liquidate", trader, ETH).error[0] == "PriceOutsideBand"
    assert size(ledger, trader) == 10 * WAD


def test_real_crash__confirmed_by_second_print__liquidation_proceeds(make_ledger):
    ledger = make_ledger(default_config())
    _, trader, keeper = funded(ledger)
    ledger.act(keeper, "oracle", "updateMark", ETH)
    ledger.advance(10)
    ledger.set_price(ETH, 2_000 * FEED)  # -33%: beyond the 25% band
    assert ledger.act(keeper, "oracle", "updateMark", ETH).return_value is False
    ledger.advance(10)
    ledger.set_price(ETH, 1_990 * FEED)  # confirmed
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    assert out.event("Liquidated").oracle_price == 1_990 * WAD


# ==============================================================================================
# Orders: the observation time behind the mark
# ==============================================================================================


def test_price_with_time__oldest_contributing_observation(make_ledger):
    ledger = make_ledger(three_source_config())
    funded(ledger)
    submitted = ledger.now
    ledger.advance(20)
    ledger.set_source_price(ETH, 0, 3_000 * FEED, updated_at=ledger.now - 15)
    ledger.set_source_price(ETH, 1, 3_002 * FEED, updated_at=ledger.now - 5)
    # Source 2 (Pyth) still holds the round the open order filled at: the mark's oldest observation
    # is then, no later than `submitted`.
    mark, observed_at = chain_view(ledger, "priceWithTime", ETH)
    assert mark == 3_000 * WAD
    assert observed_at <= submitted  # an order submitted at `submitted` must not fill at this mark
    ledger.set_source_price(ETH, 2, 3_001 * FEED, updated_at=ledger.now - 1)
    assert chain_view(ledger, "priceWithTime", ETH) == (3_001 * WAD, ledger.now - 15)


# ==============================================================================================
# Gas
# ==============================================================================================


@pytest.mark.parametrize(("config", "sources"), [(default_config, 1), (three_source_config, 3)])
def test_gas__liquidation__one_and_three_sources(make_ledger, config, sources, record_property):
    ledger = make_ledger(config())
    _, trader, keeper = funded(ledger)
    ledger.advance(60)
    ledger.set_price(ETH, 2_700 * FEED)
    ledger.act(keeper, "engine", "liquidate", trader, ETH)
    gas = ledger.last_chain.gas_used
    record_property(f"liquidation_gas_{sources}_sources", gas)
    print(f"liquidation gas with {sources} source(s): {gas}")
    assert ledger.last_chain.events and gas is not None
    assert 100_000 < gas < 1_000_000


# ==============================================================================================
# setOracle and updateMark through the ledger (full state compared after each)
# ==============================================================================================


def test_set_oracle__owner_reconfigures_live_market__stranger_and_bad_bounds_revert(make_ledger):
    ledger = make_ledger(three_source_config())
    owner, stranger = ledger.actors[0], ledger.actors[7]
    market = ledger.system.config.markets[0]
    specs = [tuple(spec) for spec in source_specs(market, ledger.deployment.addresses.sources[ETH])]

    out = ledger.act(owner, "oracle", "setOracle", ETH, specs[:2], (2, 300, 1_000, 60, 0, 100, 60))
    assert [event.name for event in out.events] == ["SourceSet", "SourceSet", "OracleParamsSet"]
    assert ledger.system.c.oracle.oracle_params_of(ETH) == (2, 300, 1_000, 60, 0, 100, 60)
    assert len(ledger.system.c.oracle.sources_of(ETH)) == 2

    reverts = ledger.act(stranger, "oracle", "setOracle", ETH, specs, (1, 0, 0, 0, 0, 0, 0))
    assert reverts.error == ("OwnableUnauthorizedAccount", (stranger,))
    assert ledger.act(owner, "oracle", "setOracle", ETH, specs, (4, 0, 0, 0, 0, 0, 0)).error == (
        "InvalidQuorum",
        (4, 3),
    )
    assert ledger.act(owner, "oracle", "setOracle", ETH, [], (1, 0, 0, 0, 0, 0, 0)).error == (
        "InvalidSourceCount",
        (0,),
    )
    assert len(ledger.system.c.oracle.sources_of(ETH)) == 2  # unchanged by the reverts


def test_update_mark__unlisted_market__reverts_feed_not_set(make_ledger):
    ledger = make_ledger(three_source_config())
    assert ledger.act(ledger.actors[5], "oracle", "updateMark", 99).error == ("FeedNotSet", (99,))


def test_pyth_first_and_four_sources__even_count_lower_median_through_the_ledger(make_ledger):
    """A market whose first source is Pyth (deployment, snapshot and `set_price` go through every
    source) and an even number of sources: the mark is the lower of the two middle prices."""
    sources = (
        SourceConfig(kind="pyth", decimals=8, max_age=MAX_AGE, initial_answer=3_000 * FEED),
        SourceConfig(kind="chainlink", decimals=18, max_age=MAX_AGE, initial_answer=3_000 * WAD),
        SourceConfig(kind="chainlink", decimals=6, max_age=MAX_AGE, initial_answer=3_000 * USD),
        SourceConfig(kind="pyth", decimals=10, max_age=MAX_AGE, initial_answer=3_000 * 10**10),
    )
    eth = default_market(ETH, "ETH-USD", 3_000, 6, sources=sources, oracle_quorum=3, oracle_max_spread_bps=100)
    ledger = make_ledger(default_config(markets=[eth]))
    funded(ledger)
    ledger.advance(10)
    ledger.set_price(ETH, 2_990 * FEED)  # every source, each in its own units
    assert chain_view(ledger, "priceWithTime", ETH) == (2_990 * WAD, ledger.now)
    ledger.advance(10)
    ledger.set_source_price(ETH, 0, 2_991 * FEED)
    ledger.set_source_price(ETH, 1, 2_992 * WAD)
    ledger.set_source_price(ETH, 2, 2_993 * USD)
    ledger.set_source_price(ETH, 3, 2_994 * 10**10)
    assert chain_view(ledger, "priceWithTime", ETH) == (2_992 * WAD, ledger.now)  # lower median of 4
    assert chain_view(ledger, "markStatus", ETH) == (MarkStatus.LIVE, 4, 4, SourceHealth.OK)
