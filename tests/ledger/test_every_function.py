"""Every state-changing function of the core ledger, run through `ledger.act` at least once
succeeding and once per custom error it can reach.

`ledger.act` already requires model == chain (return value or revert with its arguments,
ordered events, full state, conservation). On top of that each test states the outcome it is
about: the exact error tuple wherever its arguments can be derived by hand from the market
parameters (default ETH market: 3,000 USD, 5 bps spread, skew impact of 1 bp per $100k of mean
skew notional, 6 bps fee, 10% initial / 2.5% first-tier maintenance margin). Trades are orders
(`difftest.orders.trade`: submit, a new round two seconds later, execute); funding is off here
so those seconds change nothing. A refused fill cancels the order and names only the error
(its selector), so those tests check the name.

Every test here uses the default config, so the module deploys once: each test starts from the
deployment's EVM snapshot and from a copy of the model built with it (`ledger` below), which
keeps this file fast. Markets listed after deployment are outside the ledger's compared state;
their views are compared explicitly (`view_on_both`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from chainio.deploy import Deployment, deploy_system
from difftest.ledger import Ledger, genesis_time
from difftest.orders import cancel_reason, close, decrease, execute, submit, trade
from pymodel.config import default_config, default_market
from pymodel.core import ZERO_ADDRESS, Env, EventLog
from pymodel.engine import MAX_FUNDING_RATE_PER_SECOND
from pymodel.evm import UINT256_MAX
from pymodel.mock_price_feed import MockPriceFeed
from pymodel.system import Outcome, System, snake_case

USD = 10**6  # collateral units (6 decimals)
WAD = 10**18
FEED = 10**8  # feed units (8 decimals)
ETH, BTC = 1, 2
UNLISTED = 99
DAY = 24 * 3600
# No safety-module fee share by default here: these tests check each layer with the others at rest.
CONFIG = default_config(
    safety_module_share_bps=0,
    markets=[
        default_market(ETH, "ETH-USD", 3_000, 6, max_funding_rate_per_second=0),
        default_market(BTC, "BTC-USD", 60_000, 6, max_funding_rate_per_second=0),
    ],
)
ETH_PARAMS = CONFIG.markets[0].params()

# The standard long: 10 ETH at oracle 3,000 with 3,100 USD margin from no skew, opened at
# 3,001.545: 5 bps spread plus the impact of a mean skew of 5 ETH ($15k: 0.15 bp = 0.045);
# fee ceil(30,015.45 x 6 bps) = 18.00927 USD.
LONG_EXEC = 3_001_545 * WAD // 1_000
LONG_FEE = 18_009_270
LONG_MARGIN = 3_100 * USD - LONG_FEE
LONG_EQUITY = LONG_MARGIN - 15_450_000  # at 3,000: 10 x (3,000 - 3,001.545)
IM_10_ETH = 3_000 * USD  # 10% of 30,000
MM_10_ETH = 750 * USD  # 2.5% of 30,000
SHORT_EXEC = 2_998_455 * WAD // 1_000  # 3,000 x (1 - 5 bps) - 0.045 impact
SHORT_FEE = 17_990_730  # ceil(29,984.55 x 6 bps)
CLOSE_EXEC = 2_998_500 * WAD // 1_000  # closing the only position lowers |skew|: no impact
CLOSE_FEE = 17_991_000  # ceil(29,985 x 6 bps)


# Helpers


def expect(out: Outcome, name: str, args: tuple[Any, ...] | None = None) -> None:
    """The action reverted with `name` (and exactly `args` when given), or it was an order whose
    fill the engine refused with `name` (the cancellation carries the selector only)."""
    if not out.reverted and out.events_named("OrderCancelled"):
        assert cancel_reason(out) == name, cancel_reason(out)
        return
    assert out.reverted, f"expected {name}, the action succeeded"
    assert out.error is not None
    if args is None:
        assert out.error[0] == name, out.error
    else:
        assert out.error == (name, args)


def succeeded(out: Outcome) -> Outcome:
    assert not out.reverted, out.error
    return out


def fund(ledger: Ledger, who: str, amount: int) -> None:
    ledger.mint_and_approve(who, amount)


def open_pool(ledger: Ledger, lp: str, amount: int) -> int:
    fund(ledger, lp, amount)
    return succeeded(ledger.act(lp, "pool", "deposit", amount, lp)).return_value


def open_long(ledger: Ledger, trader: str) -> Outcome:
    out = succeeded(trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD))
    assert out.events_named("OrderExecuted"), cancel_reason(out)
    return out


def trading_ledger(ledger: Ledger, pool_usd: int = 1_000_000) -> tuple[str, str, str, str]:
    """LP pool funded, one trader with collateral; returns (owner, lp, trader, keeper)."""
    owner, lp, trader, keeper = ledger.actors[:4]
    open_pool(ledger, lp, pool_usd * USD)
    fund(ledger, trader, 1_000_000 * USD)
    return owner, lp, trader, keeper


def view_on_both(ledger: Ledger, contract: str, function: str, *args: Any) -> Any:
    """A tuple- or list-valued view outside the compared state, the same on both sides."""
    chain = ledger.deployment.contracts[contract].call(function, *args)
    model = getattr(ledger.system.c.by_name(contract), snake_case(function))
    model = model(*args) if callable(model) else model  # `marketIds` is a plain list in the model
    model = model.as_tuple() if hasattr(model, "as_tuple") else model
    assert tuple(model) == tuple(chain)
    return chain


@pytest.fixture(scope="module")
def pristine(project, accounts, rpc, registry) -> Iterator[tuple[Deployment, System, list[str]]]:
    """One default deployment for the whole module (every test here uses the default config)."""
    snapshot = rpc.request("evm_snapshot")
    deployment = deploy_system(project, accounts[0], CONFIG, rpc, registry, timestamp=genesis_time(rpc))
    system = System(CONFIG, deployment.addresses, deployment.deployer, deployment.timestamp)
    yield deployment, system, [account.address for account in accounts[:8]]
    rpc.request("evm_revert", [snapshot])


@pytest.fixture
def ledger(pristine, rpc) -> Iterator[Ledger]:
    """A fresh ledger per test without redeploying: the chain goes back to the deployment
    snapshot after the test, and the model starts from a copy of the freshly built one."""
    deployment, system, actors = pristine
    snapshot = rpc.request("evm_snapshot")
    ledger = Ledger(deployment, copy.deepcopy(system), rpc, actors)
    ledger.require_same_state("deployment")
    yield ledger
    rpc.request("evm_revert", [snapshot])


@pytest.fixture
def impersonated_engine(ledger: Ledger) -> Iterator[str]:
    """The engine's address as a sender (Anvil impersonation, with gas money)."""
    engine = ledger.deployment.addresses.engine
    ledger.rpc.request("anvil_impersonateAccount", [engine])
    ledger.rpc.request("anvil_setBalance", [engine, hex(10**20)])
    yield engine
    ledger.rpc.request("anvil_stopImpersonatingAccount", [engine])


# PerpEngine: admin


def test_list_market__new_market__listed_and_tradable_once_its_feed_is_set(ledger):
    owner, lp, trader, _ = trading_ledger(ledger)
    out = succeeded(ledger.act(owner, "engine", "listMarket", 3, ETH_PARAMS))
    assert out.event("MarketListed").market_id == 3
    assert view_on_both(ledger, "engine", "marketIds") == (ETH, BTC, 3)

    no_feed = trade(ledger, trader, 3, WAD, 1_000 * USD, UINT256_MAX)
    expect(no_feed, "FeedNotSet", (3,))  # the order waits for a price
    succeeded(ledger.act(owner, "oracle", "setFeed", 3, ledger.deployment.addresses.feeds[ETH], 4_200))
    ledger.set_price(ETH, 3_000 * FEED)
    opened = succeeded(execute(ledger, trader, 3))
    assert opened.event("PositionIncreased").market_id == 3
    state = view_on_both(ledger, "engine", "marketState", 3)
    assert state[:2] == (True, WAD)  # listed, longSize
    assert view_on_both(ledger, "engine", "positionOf", trader, 3)[0] == WAD


def test_list_market__seventeenth_market__reverts_too_many_markets(ledger):
    owner = ledger.actors[0]
    for market_id in range(3, 17):
        succeeded(ledger.act(owner, "engine", "listMarket", market_id, ETH_PARAMS))
    expect(ledger.act(owner, "engine", "listMarket", 17, ETH_PARAMS), "TooManyMarkets", ())


def test_set_market_params__valid__params_replaced(ledger):
    owner = ledger.actors[0]
    params = dataclasses.replace(ETH_PARAMS, trading_fee_bps=10, spread_bps=7)
    out = succeeded(ledger.act(owner, "engine", "setMarketParams", ETH, params))
    assert out.event("MarketParamsSet").market_id == ETH
    assert ledger.system.c.engine.market_params(ETH) == params  # and the chain's, via ledger state


def test_set_fee_shares__with_safety_module_share__fees_split_three_ways(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    out = succeeded(ledger.act(owner, "engine", "setFeeShares", 3_000, 1_000))
    assert out.event("FeeSharesSet").values() == (3_000, 1_000)
    split = open_long(ledger, trader).event("FeesSplit")
    to_insurance, to_safety = LONG_FEE * 3_000 // 10_000, LONG_FEE * 1_000 // 10_000
    assert split.values() == (ETH, LONG_FEE - to_insurance - to_safety, to_insurance, to_safety)
    assert ledger.system.c.safety_module.total_assets == to_safety


def test_set_pool_limits__valid__limits_replaced(ledger):
    out = succeeded(ledger.act(ledger.actors[0], "engine", "setPoolLimits", 9_000, 1_500))
    assert out.event("PoolLimitsSet").values() == (9_000, 1_500)
    assert ledger.system.c.engine.reserve_factor_bps == 1_500


def test_set_guardian__guardian_pauses_owner_unpauses__opens_blocked_then_allowed(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    guardian = ledger.actors[5]
    assert succeeded(ledger.act(owner, "engine", "setGuardian", guardian)).event("GuardianSet").guardian == guardian
    assert succeeded(ledger.act(guardian, "engine", "setOpensPaused", True)).event("OpensPausedSet").paused is True
    paused = trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    expect(paused, "OpensPaused", ())
    succeeded(ledger.act(owner, "engine", "setOpensPaused", False))
    open_long(ledger, trader)


def test_set_opens_paused__paused__increase_reverts_but_close_and_margin_work(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    succeeded(ledger.act(owner, "engine", "setOpensPaused", True))
    expect(trade(ledger, trader, ETH, WAD, 0, UINT256_MAX), "OpensPaused", ())
    succeeded(ledger.act(trader, "engine", "addMargin", ETH, 10 * USD))
    succeeded(ledger.act(trader, "engine", "removeMargin", ETH, 10 * USD))
    succeeded(close(ledger, trader, ETH, 0))


# PerpEngine: opening and increasing


def test_open_position__long__entry_at_spread_plus_impact(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    event = open_long(ledger, trader).event("PositionIncreased")
    assert (event.execution_price, event.size, event.entry_price) == (LONG_EXEC, 10 * WAD, LONG_EXEC)
    assert (event.margin, event.fee) == (LONG_MARGIN, LONG_FEE)


def test_open_position__short__entry_below_oracle(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    out = succeeded(trade(ledger, trader, ETH, -10 * WAD, 3_100 * USD, 2_900 * WAD))
    event = out.event("PositionIncreased")
    assert (event.execution_price, event.size, event.fee) == (SHORT_EXEC, -10 * WAD, SHORT_FEE)
    assert event.margin == 3_100 * USD - SHORT_FEE


def test_open_position__existing_position__order_increases_it(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = trade(ledger, trader, ETH, WAD, 1_000 * USD, UINT256_MAX)
    # An order with the position's sign increases it.
    assert succeeded(out).event("PositionIncreased").size == 11 * WAD


def test_open_position__below_initial_margin__reverts_insufficient_margin(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    out = trade(ledger, trader, ETH, 10 * WAD, 1_000 * USD, UINT256_MAX)
    # equity = 1,000 - fee - 15.45 (spread and impact at the oracle) < 3,000 required
    expect(out, "InsufficientMargin", (1_000 * USD - LONG_FEE - 15_450_000, IM_10_ETH))


def test_open_position__buy_above_acceptable_price__reverts_slippage_exceeded(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    out = trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_001 * WAD)
    expect(out, "SlippageExceeded", (LONG_EXEC, 3_001 * WAD))


def test_open_position__sell_below_acceptable_price__reverts_slippage_exceeded(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    out = trade(ledger, trader, ETH, -10 * WAD, 3_100 * USD, 2_999 * WAD)
    expect(out, "SlippageExceeded", (SHORT_EXEC, 2_999 * WAD))


@pytest.mark.parametrize("size", [6 * WAD, -6 * WAD], ids=["long", "short"])
def test_open_position__above_open_interest_cap__reverts_open_interest_cap_exceeded(ledger, size):
    owner, _, trader, _ = trading_ledger(ledger)
    capped = dataclasses.replace(ETH_PARAMS, max_long_open_interest=5 * WAD, max_short_open_interest=5 * WAD)
    succeeded(ledger.act(owner, "engine", "setMarketParams", ETH, capped))
    out = trade(ledger, trader, ETH, size, 3_100 * USD, UINT256_MAX if size > 0 else 0)
    expect(out, "OpenInterestCapExceeded", (ETH, 6 * WAD, 5 * WAD))


def test_open_position__reserve_above_utilisation_cap__reverts_utilisation_cap_exceeded(ledger):
    _, _, trader, _ = trading_ledger(ledger, pool_usd=100_000)
    out = trade(ledger, trader, ETH, 200 * WAD, 70_000 * USD, UINT256_MAX)
    # 200 ETH bought at 3,002.4 (5 bps + 3 bps impact on a mean skew of $300k): reserve 20% of
    # $600,480 > 80% of $100k.
    expect(out, "UtilisationCapExceeded", (120_096 * USD, 80_000 * USD))


def test_open_position__margin_not_approved__reverts_erc20_insufficient_allowance(ledger):
    lp, trader = ledger.actors[1], ledger.actors[5]
    open_pool(ledger, lp, 1_000_000 * USD)
    succeeded(ledger.act(trader, "token", "mint", trader, 10_000 * USD))
    out = trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    # The escrow is pulled at submission, by the order router.
    expect(out, "ERC20InsufficientAllowance", (ledger.deployment.addresses.order_router, 0, 3_101 * USD))


def test_increase_position__same_direction__size_entry_and_margin_updated(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = succeeded(trade(ledger, trader, ETH, 5 * WAD, 1_600 * USD, UINT256_MAX))
    event = out.event("PositionIncreased")
    # From a skew of 10 ETH to 15: mean 12.5 ETH ($37.5k, 0.375 bp = 0.1125): 3,001.6125.
    fee = 9_004_838  # ceil(5 x 3,001.6125 x 6 bps)
    entry = (10 * LONG_EXEC + 5 * 3_001_612_500 * WAD // 1_000_000 + 14) // 15  # size-weighted, rounded up
    assert (event.size, event.entry_price, event.fee) == (15 * WAD, entry, fee)
    assert event.margin == LONG_MARGIN + 1_600 * USD - fee


def test_increase_position__opposite_sign_with_margin__cancelled_margin_in_on_decrease(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = trade(ledger, trader, ETH, -WAD, 100 * USD, 0)
    expect(out, "MarginInOnDecrease")


def test_increase_position__below_initial_margin__reverts_insufficient_margin(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = trade(ledger, trader, ETH, 10 * WAD, 0, UINT256_MAX)
    expect(out, "InsufficientMargin")


# PerpEngine: decreasing and closing


def test_decrease_position__partial__pnl_and_fee_realised_against_margin(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = succeeded(decrease(ledger, trader, ETH, 4 * WAD, 2_998 * WAD))
    event = out.event("PositionDecreased")
    fee = 7_196_400  # ceil(4 x 2,998.5 x 6 bps)
    assert (event.size_delta, event.execution_price, event.realised_pnl) == (-4 * WAD, CLOSE_EXEC, -12_180_000)
    assert (event.fee, event.size, event.margin, event.payout) == (fee, 6 * WAD, LONG_MARGIN - 12_180_000 - fee, 0)


def test_decrease_position__more_than_size__reverts_reduction_too_large(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = decrease(ledger, trader, ETH, 11 * WAD, 0)
    expect(out, "ReductionTooLarge", (11 * WAD, 10 * WAD))


def test_decrease_position__sell_below_acceptable_price__reverts_slippage_exceeded(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = decrease(ledger, trader, ETH, 4 * WAD, 2_999 * WAD)
    expect(out, "SlippageExceeded", (CLOSE_EXEC, 2_999 * WAD))


def test_decrease_position__rest_below_maintenance__reverts_insufficient_margin(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    # The owner widens the spread to 20%: selling half now realises 5 x (2,399.7 - 3,001.8).
    wide = dataclasses.replace(ETH_PARAMS, spread_bps=2_000)
    succeeded(ledger.act(owner, "engine", "setMarketParams", ETH, wide))
    out = decrease(ledger, trader, ETH, 5 * WAD, 0)
    expect(out, "InsufficientMargin")


def test_close_position__open_long__payout_is_margin_plus_pnl_minus_fee(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = succeeded(close(ledger, trader, ETH, 2_998 * WAD))
    event = out.event("PositionDecreased")
    assert (event.realised_pnl, event.fee, event.size, event.margin) == (-30_450_000, CLOSE_FEE, 0, 0)
    assert event.payout == LONG_MARGIN - 30_450_000 - CLOSE_FEE
    # Two execution fees went to the keeper (actor 0).
    assert ledger.system.c.token.balance_of(trader) == 1_000_000 * USD - 2 * USD - (3_100 * USD - event.payout)


def test_close_position__spread_larger_than_margin__reverts_insufficient_margin_zero(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    wide = dataclasses.replace(ETH_PARAMS, spread_bps=2_000)
    succeeded(ledger.act(owner, "engine", "setMarketParams", ETH, wide))
    out = close(ledger, trader, ETH, 0)
    # A voluntary close cannot create bad debt: 10 x (2,400 - 3,001.545) and the fee exceed the margin.
    expect(out, "InsufficientMargin")


# PerpEngine: margin


def test_add_margin__open_position__margin_grows(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    event = succeeded(ledger.act(trader, "engine", "addMargin", ETH, 500 * USD)).event("MarginChanged")
    assert event.values() == (trader, ETH, 500 * USD, LONG_MARGIN + 500 * USD)


def test_add_margin__zero__reverts_zero_amount(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    expect(ledger.act(trader, "engine", "addMargin", ETH, 0), "ZeroAmount", ())


def test_remove_margin__above_initial_margin__margin_paid_out(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    event = succeeded(ledger.act(trader, "engine", "removeMargin", ETH, 50 * USD)).event("MarginChanged")
    assert event.values() == (trader, ETH, -50 * USD, LONG_MARGIN - 50 * USD)


def test_remove_margin__below_initial_margin__reverts_insufficient_margin(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = ledger.act(trader, "engine", "removeMargin", ETH, 100 * USD)
    expect(out, "InsufficientMargin", (LONG_EQUITY - 100 * USD, IM_10_ETH))


def test_remove_margin__more_than_margin__reverts_insufficient_margin(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    out = ledger.act(trader, "engine", "removeMargin", ETH, LONG_MARGIN + 1)
    expect(out, "InsufficientMargin", (-1, 0))


def test_remove_margin__zero__reverts_zero_amount(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    expect(ledger.act(trader, "engine", "removeMargin", ETH, 0), "ZeroAmount", ())


# PerpEngine: the redemption mark's per-side bankruptcy bound (issue 10)

# The standard long's k: entry - fundingIndex (0) - floor(margin x scale / size), scale 1e30.
LONG_K = LONG_EXEC - LONG_MARGIN * 10**30 // (10 * WAD)


def test_open_position__long__sets_the_sides_bankruptcy_bound_and_count(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    m = ledger.system.c.engine.market_state(ETH)
    assert (m.long_positions, m.short_positions, m.long_bankruptcy_bound) == (1, 0, LONG_K)


def test_remove_margin__raises_the_bound__add_margin_leaves_it(ledger):
    _, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    succeeded(ledger.act(trader, "engine", "removeMargin", ETH, 50 * USD))
    raised = LONG_EXEC - (LONG_MARGIN - 50 * USD) * 10**30 // (10 * WAD)
    assert ledger.system.c.engine.market_state(ETH).long_bankruptcy_bound == raised == LONG_K + 5 * WAD
    succeeded(ledger.act(trader, "engine", "addMargin", ETH, 500 * USD))
    assert ledger.system.c.engine.market_state(ETH).long_bankruptcy_bound == raised  # stale: conservative


def test_refresh_bankruptcy_bound__true_list__recomputed_and_emitted(ledger):
    _, _, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    succeeded(ledger.act(trader, "engine", "removeMargin", ETH, 50 * USD))
    succeeded(ledger.act(trader, "engine", "addMargin", ETH, 50 * USD))
    out = succeeded(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, [trader]))
    assert out.event("BankruptcyBoundRefreshed").values() == (ETH, True, LONG_K)
    m = ledger.system.c.engine.market_state(ETH)
    assert (m.long_positions, m.long_bankruptcy_bound) == (1, LONG_K)


def test_refresh_bankruptcy_bound__empty_side__no_list_needed(ledger):
    _, _, _, keeper = trading_ledger(ledger)
    out = succeeded(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, False, []))
    assert out.event("BankruptcyBoundRefreshed").values() == (ETH, False, 0)


def test_refresh_bankruptcy_bound__wrong_count__reverts_bound_account_count(ledger):
    _, lp, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    expect(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, []), "BoundAccountCount", (0, 1))
    out = ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, [lp, trader])
    expect(out, "BoundAccountCount", (2, 1))


def test_refresh_bankruptcy_bound__wrong_side_or_no_position__reverts_bound_account_invalid(ledger):
    _, lp, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    expect(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, [lp]), "BoundAccountInvalid", (0, lp))
    out = ledger.act(keeper, "engine", "refreshBankruptcyBound", BTC, True, [])
    assert not out.reverted
    fund(ledger, lp, 10_000 * USD)
    succeeded(trade(ledger, lp, ETH, -10 * WAD, 3_100 * USD, 0))
    expect(
        ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, False, [trader]), "BoundAccountInvalid", (0, trader)
    )


def test_refresh_bankruptcy_bound__unsorted_or_duplicate__reverts_bound_account_invalid(ledger):
    _, lp, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    fund(ledger, lp, 10_000 * USD)
    succeeded(trade(ledger, lp, ETH, 10 * WAD, 3_100 * USD, 3_200 * WAD))
    low, high = sorted((lp, trader), key=lambda a: int(a, 16))
    out = ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, [high, low])
    expect(out, "BoundAccountInvalid", (1, low))
    out = ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, [low, low])
    expect(out, "BoundAccountInvalid", (1, low))
    succeeded(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, [low, high]))


def test_refresh_bankruptcy_bound__unlisted_market__reverts_market_not_listed(ledger):
    _, _, _, keeper = trading_ledger(ledger)
    expect(ledger.act(keeper, "engine", "refreshBankruptcyBound", UNLISTED, True, []), "MarketNotListed", (UNLISTED,))


# PerpEngine: a liquidatable position


def liquidatable_long(ledger: Ledger) -> tuple[str, str, str]:
    """The standard long, with the oracle at 2,700 in the same block: equity 63.9892 USD < 675 USD
    maintenance (2.5% of 27,000). Returns (owner, trader, keeper)."""
    owner, _, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    ledger.set_price(ETH, 2_700 * FEED)
    return owner, trader, keeper


LIQUIDATABLE_EQUITY = LONG_MARGIN - 3_015_450_000  # 10 x (2,700 - 3,001.545)


@pytest.mark.parametrize(
    "size_delta, margin_in, acceptable_price",
    [(WAD, 1_000 * USD, UINT256_MAX), (-WAD, 0, 0), (-10 * WAD, 0, 0)],
    ids=["increase", "decrease", "close"],
)
def test_trader_action__liquidatable__cancelled_position_liquidatable(ledger, size_delta, margin_in, acceptable_price):
    _, trader, _ = liquidatable_long(ledger)
    out = trade(ledger, trader, ETH, size_delta, margin_in, acceptable_price, answer=2_700 * FEED)
    expect(out, "PositionLiquidatable")


def test_add_margin__liquidatable_position__rescued_and_keeper_refused(ledger):
    _, trader, keeper = liquidatable_long(ledger)
    succeeded(ledger.act(trader, "engine", "addMargin", ETH, 700 * USD))
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    expect(out, "PositionHealthy", (trader, ETH, LIQUIDATABLE_EQUITY + 700 * USD, 675 * USD))


# PerpEngine: liquidation


def test_liquidate__healthy_position__reverts_position_healthy(ledger):
    _, _, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    expect(out, "PositionHealthy", (trader, ETH, LONG_EQUITY, MM_10_ETH))


def test_liquidate__above_bankruptcy__penalty_to_insurance_refund_to_trader(ledger):
    _, _, trader, keeper = trading_ledger(ledger)
    open_long(ledger, trader)
    ledger.set_price(ETH, 2_750 * FEED)  # equity 563.9892 < 687.5 maintenance
    liq = succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH)).event("Liquidated")
    # 10 x (2,736.25 - 3,001.545): 50 bps against the long; closing the only long lowers |skew|.
    realised = LONG_MARGIN - 2_652_950_000
    reward, penalty = 18_750_000, 275 * USD  # 5 + 5 bps of 27,500; 1% of 27,500
    assert (liq.execution_price, liq.size_closed, liq.realised) == (2_736_250 * WAD // 1_000, 10 * WAD, realised)
    assert (liq.keeper_reward, liq.penalty, liq.refund) == (reward, penalty, realised - reward - penalty)


def test_liquidate__past_bankruptcy__shortfall_hits_insurance_then_pool(ledger):
    _, trader, keeper = liquidatable_long(ledger)
    out = succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH))
    liq, debt = out.event("Liquidated"), out.event("BadDebtSettled")
    realised = LONG_MARGIN - 3_150_450_000  # 10 x (2,686.5 - 3,001.545)
    reward = 18_500_000  # 5 + 5 bps of 27,000
    insurance = LONG_FEE * 2_000 // 10_000  # the bucket holds its share of the opening fee
    assert (liq.realised, liq.keeper_reward) == (realised, reward)
    assert debt.values() == (trader, ETH, reward - realised, insurance, 0, reward - realised - insurance)


def test_liquidate__partial_step_again_within_cooldown__reverts_liquidation_cooldown(ledger):
    _, _, trader, keeper = trading_ledger(ledger, pool_usd=5_000_000)
    succeeded(trade(ledger, trader, ETH, 600 * WAD, 190_000 * USD, UINT256_MAX))
    ledger.set_price(ETH, 2_750 * FEED)
    assert succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH)).event("Liquidated").size_closed == (
        120 * WAD
    )
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)
    expect(out, "LiquidationCooldown", (trader, ETH, ledger.now + 30))


# LPPool


def test_deposit__first_deposit__shares_carry_the_virtual_offset(ledger):
    lp = ledger.actors[1]
    assert open_pool(ledger, lp, 100_000 * USD) == 100_000 * USD * 10**6


def test_deposit__not_approved__reverts_erc20_insufficient_allowance(ledger):
    lp = ledger.actors[1]
    succeeded(ledger.act(lp, "token", "mint", lp, 10 * USD))
    out = ledger.act(lp, "pool", "deposit", 10 * USD, lp)
    expect(out, "ERC20InsufficientAllowance", (ledger.deployment.addresses.pool, 0, 10 * USD))


def test_deposit__no_balance__reverts_erc20_insufficient_balance(ledger):
    lp = ledger.actors[1]
    succeeded(ledger.act(lp, "token", "approve", ledger.deployment.addresses.pool, UINT256_MAX))
    expect(ledger.act(lp, "pool", "deposit", 10 * USD, lp), "ERC20InsufficientBalance", (lp, 0, 10 * USD))


def test_deposit__zero_receiver__reverts_erc20_invalid_receiver(ledger):
    lp = ledger.actors[1]
    fund(ledger, lp, 10 * USD)
    expect(ledger.act(lp, "pool", "deposit", 10 * USD, ZERO_ADDRESS), "ERC20InvalidReceiver", (ZERO_ADDRESS,))


def test_mint__after_first_deposit__assets_rounded_up(ledger):
    lp, other = ledger.actors[1:3]
    open_pool(ledger, lp, 100_000 * USD)
    fund(ledger, other, 10 * USD)
    # 10**12 shares of a pool at exactly 10**6 shares per unit: 1 USD.
    assert succeeded(ledger.act(other, "pool", "mint", 10**12, other)).return_value == USD
    assert succeeded(ledger.act(other, "pool", "mint", 10**12 + 1, other)).return_value == USD + 1


def test_request_redeem__shares__escrowed_with_claimable_time(ledger):
    lp = ledger.actors[1]
    shares = open_pool(ledger, lp, 1_000 * USD)
    event = succeeded(ledger.act(lp, "pool", "requestRedeem", shares // 2)).event("RedeemRequested")
    value = (shares // 2) * (1_000 * USD + 1) // (shares + 10**6)  # the redemption mark, rounded down
    assert event.values() == (lp, shares // 2, value, shares // 2, ledger.now + 3 * DAY)


def test_request_redeem__more_than_balance__reverts_erc20_insufficient_balance(ledger):
    lp = ledger.actors[1]
    shares = open_pool(ledger, lp, 1_000 * USD)
    out = ledger.act(lp, "pool", "requestRedeem", shares + 1)
    expect(out, "ERC20InsufficientBalance", (lp, shares, shares + 1))


def test_cancel_redeem__pending_request__shares_returned(ledger):
    lp = ledger.actors[1]
    shares = open_pool(ledger, lp, 1_000 * USD)
    succeeded(ledger.act(lp, "pool", "requestRedeem", shares))
    assert succeeded(ledger.act(lp, "pool", "cancelRedeem")).event("RedeemCancelled").values() == (lp, shares)
    assert ledger.system.c.pool.balance_of(lp) == shares


def test_redeem__within_window__assets_at_the_redeem_mark(ledger):
    lp, other = ledger.actors[1:3]
    shares = open_pool(ledger, lp, 100_000 * USD)
    succeeded(ledger.act(lp, "pool", "requestRedeem", shares))
    expect(ledger.act(lp, "pool", "redeem", shares, lp, lp), "ERC4626ExceededMaxRedeem", (lp, shares, 0))
    ledger.advance(3 * DAY)
    expect(ledger.act(other, "pool", "redeem", shares, other, lp), "NotRequestOwner", (other, lp))
    out = succeeded(ledger.act(lp, "pool", "redeem", shares, lp, lp))
    assert out.return_value == shares * (100_000 * USD + 1) // (shares + 10**6)
    assert ledger.system.c.pool.redeem_request_of(lp) == (0, 0, 0)


def test_redeem__after_window__reverts_erc4626_exceeded_max_redeem(ledger):
    lp = ledger.actors[1]
    shares = open_pool(ledger, lp, 1_000 * USD)
    succeeded(ledger.act(lp, "pool", "requestRedeem", shares))
    ledger.advance(5 * DAY + 1)  # cooldown 3 days + window 2 days
    expect(ledger.act(lp, "pool", "redeem", shares, lp, lp), "ERC4626ExceededMaxRedeem", (lp, shares, 0))


def test_redeem__open_interest_reserves_cash__reverts_insufficient_free_cash(ledger):
    owner, lp, trader, _ = ledger.actors[:4]
    succeeded(ledger.act(owner, "pool", "setRedeemTiming", 60, 3_600))
    shares = open_pool(ledger, lp, 100_000 * USD)
    fund(ledger, trader, 10_000 * USD)
    succeeded(ledger.act(lp, "pool", "requestRedeem", shares))
    open_long(ledger, trader)
    ledger.advance(60)
    ledger.set_price(ETH, 3_000 * FEED)
    cash = 100_000 * USD + LONG_FEE - LONG_FEE * 2_000 // 10_000  # the pool's 80% of the fee
    reserved = 6_003_090_000  # 20% of the 30,015.45 USD entry notional
    # maxRedeem says what free cash can pay: one share more reverts, exactly that many succeed.
    most = ledger.system.c.pool.max_redeem(Env(lp, ledger.now), lp)
    assert 0 < most < shares
    expect(ledger.act(lp, "pool", "redeem", shares, lp, lp), "ERC4626ExceededMaxRedeem", (lp, shares, most))
    expect(ledger.act(lp, "pool", "redeem", most + 1, lp, lp), "ERC4626ExceededMaxRedeem", (lp, most + 1, most))
    paid = succeeded(ledger.act(lp, "pool", "redeem", most, lp, lp)).return_value
    assert cash - reserved - 10**6 < paid <= cash - reserved  # the free cash, to within one share's rounding


def test_set_redeem_timing__valid__new_cooldown_applies_to_new_requests(ledger):
    owner, lp = ledger.actors[:2]
    out = succeeded(ledger.act(owner, "pool", "setRedeemTiming", 60, 600))
    assert out.event("RedeemTimingSet").values() == (60, 600)
    shares = open_pool(ledger, lp, 1_000 * USD)
    assert succeeded(ledger.act(lp, "pool", "requestRedeem", shares)).event("RedeemRequested").claimable_at == (
        ledger.now + 60
    )


def test_transfer__lp_shares__moved_between_lps(ledger):
    lp, other = ledger.actors[1:3]
    shares = open_pool(ledger, lp, 1_000 * USD)
    assert succeeded(ledger.act(lp, "pool", "transfer", other, shares // 4)).return_value is True
    expect(ledger.act(other, "pool", "transfer", lp, shares), "ERC20InsufficientBalance", (other, shares // 4, shares))


def test_engine_hooks__called_by_engine__zero_amounts_succeed_and_overdraft_reverts(ledger, impersonated_engine):
    engine, lp = impersonated_engine, ledger.actors[1]
    open_pool(ledger, lp, 1_000 * USD)
    assert succeeded(ledger.act(engine, "pool", "creditFromEngine", 0)).event("CashCredited").amount == 0
    assert succeeded(ledger.act(engine, "pool", "payToEngine", 0)).event("CashPaid").amount == 0
    out = ledger.act(engine, "pool", "payToEngine", 1_000 * USD + 1)
    expect(out, "InsufficientPoolCash", (1_000 * USD + 1, 1_000 * USD))
    assert succeeded(ledger.act(engine, "insuranceFund", "cover", ETH, 0)).return_value == 0
    assert succeeded(ledger.act(engine, "insuranceFund", "depositFromEngine", ETH, 0)).events_named("BucketFunded")


# InsuranceFund


def test_fund__backer__bucket_grows(ledger):
    backer = ledger.actors[4]
    fund(ledger, backer, 1_000 * USD)
    event = succeeded(ledger.act(backer, "insuranceFund", "fund", BTC, 400 * USD)).event("BucketFunded")
    assert event.values() == (BTC, backer, 400 * USD)
    assert ledger.system.c.insurance_fund.bucket_of(BTC) == 400 * USD


def test_cover__shortfall_larger_than_bucket__pays_the_bucket_only(ledger):
    backer, trader, keeper = ledger.actors[4], ledger.actors[2], ledger.actors[3]
    open_pool(ledger, ledger.actors[1], 1_000_000 * USD)
    fund(ledger, trader, 10_000 * USD)
    fund(ledger, backer, 50 * USD)
    succeeded(ledger.act(backer, "insuranceFund", "fund", ETH, 50 * USD))
    open_long(ledger, trader)
    ledger.set_price(ETH, 2_700 * FEED)
    out = succeeded(ledger.act(keeper, "engine", "liquidate", trader, ETH))
    drawn = out.event("BucketDrawn")
    assert drawn.values() == (ETH, 50 * USD + LONG_FEE * 2_000 // 10_000)
    assert out.event("BadDebtSettled").from_insurance == drawn.amount


# OracleAdapter


def test_set_feed__new_max_age__price_accepted_for_longer(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    open_long(ledger, trader)
    feed = ledger.deployment.addresses.feeds[ETH]
    assert succeeded(ledger.act(owner, "oracle", "setFeed", ETH, feed, 7_200)).event("FeedSet").values() == (
        ETH,
        feed,
        8,
        7_200,
    )
    ledger.advance(7_200)
    succeeded(close(ledger, trader, ETH, 0))


def deploy_feed(ledger: Ledger, project, deployer, decimals: int, answer: int) -> str:
    """A new MockPriceFeed on chain, mined at `ledger.now`, and its twin registered with the
    model's oracle (outside the compared state: its rounds are not part of any action)."""
    ledger.rpc.request("evm_setNextBlockTimestamp", [ledger.now])
    address = project.MockPriceFeed.deploy(decimals, answer, sender=deployer).address
    twin = MockPriceFeed(address, EventLog(), Env(deployer.address, ledger.now), decimals, answer)
    ledger.system.c.oracle.feeds[address] = twin
    return address


def test_set_feed__eighteen_decimal_feed__replaces_market_feed(ledger, project, accounts):
    owner, _, trader, _ = trading_ledger(ledger)
    submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    ledger.advance(2)
    feed = deploy_feed(ledger, project, accounts[0], 18, 3_000 * WAD)  # its first round: observed now
    succeeded(ledger.act(owner, "oracle", "setFeed", ETH, feed, 4_200))
    assert succeeded(execute(ledger, trader, ETH)).event("PositionIncreased").oracle_price == 3_000 * WAD


def test_set_feed__more_than_36_decimals__reverts_unsupported_feed_decimals(ledger, project, accounts):
    feed = deploy_feed(ledger, project, accounts[0], 40, 1)
    out = ledger.act(ledger.actors[0], "oracle", "setFeed", ETH, feed, 4_200)
    expect(out, "UnsupportedFeedDecimals", (40,))


def test_set_sequencer_feed__down_then_grace_then_up__trades_follow_the_sequencer(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    sequencer = ledger.deployment.addresses.feeds[BTC]  # reused as an uptime feed: 0 = up
    out = succeeded(ledger.act(owner, "oracle", "setSequencerFeed", sequencer, 3_600))
    assert out.event("SequencerFeedSet").values() == (sequencer, 3_600)
    # An order waits (the keeper's call reverts) while the oracle refuses to price.
    expect(trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD), "SequencerDown", ())  # BTC feed: 60,000
    succeeded(ledger.act(trader, "feed2", "setAnswer", 0))  # back up now
    expect(execute(ledger, trader, ETH), "SequencerGracePeriod", (ledger.now, ledger.now, 3_600))
    ledger.advance(3_601)
    expect(execute(ledger, trader, ETH), "OrderExpired")  # past maxExecutionDelay: only cancellable
    succeeded(ledger.act(trader, "orderRouter", "cancelOrder", trader, ETH))
    assert trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD).events_named("OrderExecuted")
    succeeded(ledger.act(owner, "oracle", "setSequencerFeed", ZERO_ADDRESS, 0))


@pytest.mark.parametrize(
    "answer, updated_at, expected",
    [
        # Pinned fills (issue 17): a rejected first round is no observation of the order's, so it
        # waits for the fill window (readyAt = now, window (300 - 2) / 2) and never fills on it.
        (0, 0, lambda now: ("FillNotReady", (ETH, 0, now + 149))),
        (-5, 0, lambda now: ("FillNotReady", (ETH, 0, now + 149))),
        (3_000 * FEED, None, lambda now: ("FillNotReady", (ETH, 0, now + 149))),
        (3_000 * FEED, 1, lambda now: ("FillNotReady", (ETH, 0, now + 149))),
        (3_000 * FEED, -4_201, lambda now: ("FillNotReady", (ETH, 0, now + 149))),
    ],
    ids=["zero_answer", "negative_answer", "zero_updated_at", "future_round", "stale_round"],
)
def test_execute_order__rejected_oracle_round__reverts_with_the_adapters_error(ledger, answer, updated_at, expected):
    _, _, trader, _ = trading_ledger(ledger)
    submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    ledger.advance(2)
    # updated_at: seconds after now, or None for a round with updatedAt == 0.
    ledger.set_price(ETH, answer, updated_at=0 if updated_at is None else ledger.now + updated_at)
    expect(execute(ledger, trader, ETH), *expected(ledger.now))


# MockPriceFeed


def test_set_answer__anyone__new_round_at_block_time(ledger):
    stranger = ledger.actors[7]
    out = succeeded(ledger.act(stranger, "feed1", "setAnswer", 3_210 * FEED))
    assert out.event("AnswerUpdated").values() == (3_210 * FEED, 2, ledger.now)
    assert out.event("NewRound").values() == (2, stranger, ledger.now)


def test_set_pusher__deployer_only__granted_and_revoked(ledger):
    """The testnet pusher role (open on this local chain: tests/deploy for its refusals)."""
    deployer, pusher = ledger.actors[0], ledger.actors[6]
    expect(ledger.act(pusher, "feed1", "setPusher", pusher, True), "NotPusher", (pusher,))
    out = succeeded(ledger.act(deployer, "feed1", "setPusher", pusher, True))
    assert out.event("PusherSet").values() == (pusher, True)
    assert ledger.system.c.feeds[ETH].is_pusher(pusher)
    assert not succeeded(ledger.act(deployer, "feed1", "setPusher", pusher, False)).event("PusherSet").allowed


def test_set_round_data__delayed_round__updated_at_in_the_past(ledger):
    ledger.advance(100)
    out = succeeded(ledger.act(ledger.actors[7], "feed2", "setRoundData", 59_000 * FEED, ledger.now - 90))
    assert out.event("AnswerUpdated").values() == (59_000 * FEED, 2, ledger.now - 90)
    assert ledger.system.c.feeds[BTC].latest_round_data().updated_at == ledger.now - 90


# MockStablecoin


def test_token_mint__anyone__supply_grows(ledger):
    a = ledger.actors[5]
    event = succeeded(ledger.act(a, "token", "mint", a, 7 * USD)).event("Transfer")
    assert event.values() == (ZERO_ADDRESS, a, 7 * USD)


def test_token_transfer__balance__moves_and_overdraft_reverts(ledger):
    a, b = ledger.actors[5:7]
    succeeded(ledger.act(a, "token", "mint", a, 7 * USD))
    assert succeeded(ledger.act(a, "token", "transfer", b, 3 * USD)).return_value is True
    expect(ledger.act(a, "token", "transfer", b, 5 * USD), "ERC20InsufficientBalance", (a, 4 * USD, 5 * USD))


def test_token_transfer_from__finite_allowance__spent_then_exceeded(ledger):
    a, b, spender = ledger.actors[5:8]
    succeeded(ledger.act(a, "token", "mint", a, 10 * USD))
    assert succeeded(ledger.act(a, "token", "approve", spender, 6 * USD)).event("Approval").values() == (
        a,
        spender,
        6 * USD,
    )
    succeeded(ledger.act(spender, "token", "transferFrom", a, b, 4 * USD))
    out = ledger.act(spender, "token", "transferFrom", a, b, 3 * USD)
    expect(out, "ERC20InsufficientAllowance", (spender, 2 * USD, 3 * USD))


def test_token_transfer_from__allowance_above_balance__reverts_erc20_insufficient_balance(ledger):
    a, b, spender = ledger.actors[5:8]
    succeeded(ledger.act(a, "token", "mint", a, 1 * USD))
    succeeded(ledger.act(a, "token", "approve", spender, UINT256_MAX))
    out = ledger.act(spender, "token", "transferFrom", a, b, 2 * USD)
    expect(out, "ERC20InsufficientBalance", (a, USD, 2 * USD))


# Ownable (OpenZeppelin) on every owned contract


@pytest.mark.parametrize("contract", ["engine", "pool", "insuranceFund", "oracle"])
def test_transfer_ownership__to_new_owner__old_owner_refused_new_owner_renounces(ledger, contract):
    owner, new_owner = ledger.actors[0], ledger.actors[1]
    out = succeeded(ledger.act(owner, contract, "transferOwnership", new_owner))
    assert out.event("OwnershipTransferred").values() == (owner, new_owner)
    expect(ledger.act(owner, contract, "transferOwnership", owner), "OwnableUnauthorizedAccount", (owner,))
    expect(ledger.act(new_owner, contract, "transferOwnership", ZERO_ADDRESS), "OwnableInvalidOwner", (ZERO_ADDRESS,))
    out = succeeded(ledger.act(new_owner, contract, "renounceOwnership"))
    assert out.event("OwnershipTransferred").values() == (new_owner, ZERO_ADDRESS)
    expect(ledger.act(new_owner, contract, "renounceOwnership"), "OwnableUnauthorizedAccount", (new_owner,))


# Plain reverts: no set-up beyond the deployment


def bad(**change: Any):
    return dataclasses.replace(ETH_PARAMS, **change)


CAPS = ETH_PARAMS.tier_notional_caps
INVALID_MARKET_PARAMS = [
    ("initial_margin_zero", bad(initial_margin_bps=0), ("initialMarginBps", 0)),
    ("initial_margin_above_bps", bad(initial_margin_bps=10_001), ("initialMarginBps", 10_001)),
    ("tier_zero", bad(tier_maintenance_bps=(0, 400, 600, 800)), ("tierMaintenanceBps", 0)),
    ("tier_at_initial", bad(tier_maintenance_bps=(250, 400, 600, 1_000)), ("tierMaintenanceBps", 1_000)),
    ("tier_decreasing", bad(tier_maintenance_bps=(250, 200, 600, 800)), ("tierMaintenanceBps", 200)),
    (
        "caps_not_increasing",
        bad(tier_notional_caps=(CAPS[0], CAPS[0], CAPS[2], CAPS[3])),
        ("tierNotionalCaps", CAPS[0]),
    ),
    ("last_cap_finite", bad(tier_notional_caps=(*CAPS[:3], 10**30)), ("tierNotionalCaps", 10**30)),
    ("spread_at_bps", bad(spread_bps=10_000), ("spreadBps", 10_000)),
    ("slippage_at_bps", bad(liquidation_slippage_bps=10_000), ("liquidationSlippageBps", 10_000)),
    ("impact_cap_too_wide", bad(max_impact_bps=9_950), ("maxImpactBps", 9_950)),  # 10,000 - 50 bps slippage
    ("impact_reference_zero", bad(impact_reference_notional=0), ("impactReferenceNotional", 0)),
    ("fee_above_max", bad(trading_fee_bps=1_001), ("tradingFeeBps", 1_001)),
    ("penalty_above_bps", bad(liquidation_penalty_bps=10_001), ("liquidationPenaltyBps", 10_001)),
    ("keeper_bps_above_bps", bad(keeper_reward_bps=10_001), ("keeperRewardBps", 10_001)),
    ("partial_bps_zero", bad(partial_liquidation_bps=0), ("partialLiquidationBps", 0)),
    ("partial_bps_above_bps", bad(partial_liquidation_bps=10_001), ("partialLiquidationBps", 10_001)),
    ("partial_cooldown_zero", bad(partial_liquidation_cooldown=0), ("partialLiquidationCooldown", 0)),
    (
        "funding_rate_above_max",
        bad(max_funding_rate_per_second=MAX_FUNDING_RATE_PER_SECOND + 1),
        ("maxFundingRatePerSecond", MAX_FUNDING_RATE_PER_SECOND + 1),
    ),
    ("skew_scale_zero", bad(skew_scale=0), ("skewScale", 0)),
    ("long_cap_zero", bad(max_long_open_interest=0), ("maxLongOpenInterest", 0)),
    ("short_cap_zero", bad(max_short_open_interest=0), ("maxShortOpenInterest", 0)),
]


@pytest.mark.parametrize(
    "params, expected", [c[1:] for c in INVALID_MARKET_PARAMS], ids=[c[0] for c in INVALID_MARKET_PARAMS]
)
def test_set_market_params__bad_field__reverts_invalid_parameter(ledger, params, expected):
    expect(ledger.act(ledger.actors[0], "engine", "setMarketParams", ETH, params), "InvalidParameter", expected)


def test_list_market__bad_params__reverts_invalid_parameter(ledger):
    out = ledger.act(ledger.actors[0], "engine", "listMarket", 3, bad(skew_scale=0))
    expect(out, "InvalidParameter", ("skewScale", 0))


def test_list_market__already_listed__reverts_market_already_listed(ledger):
    expect(ledger.act(ledger.actors[0], "engine", "listMarket", BTC, ETH_PARAMS), "MarketAlreadyListed", (BTC,))


def test_set_market_params__unlisted_market__reverts_market_not_listed(ledger):
    out = ledger.act(ledger.actors[0], "engine", "setMarketParams", UNLISTED, ETH_PARAMS)
    expect(out, "MarketNotListed", (UNLISTED,))


def test_set_fee_shares__sum_above_bps__reverts_invalid_parameter(ledger):
    out = ledger.act(ledger.actors[0], "engine", "setFeeShares", 6_000, 5_000)
    expect(out, "InvalidParameter", ("feeShares", 11_000))


@pytest.mark.parametrize(
    "utilisation, reserve, expected",
    [
        (0, 2_000, ("maxUtilisationBps", 0)),
        (10_001, 2_000, ("maxUtilisationBps", 10_001)),
        (8_000, 0, ("reserveFactorBps", 0)),
        (8_000, 10_001, ("reserveFactorBps", 10_001)),
    ],
    ids=["utilisation_zero", "utilisation_above_bps", "reserve_zero", "reserve_above_bps"],
)
def test_set_pool_limits__out_of_range__reverts_invalid_parameter(ledger, utilisation, reserve, expected):
    out = ledger.act(ledger.actors[0], "engine", "setPoolLimits", utilisation, reserve)
    expect(out, "InvalidParameter", expected)


OWNER_ONLY = [
    ("engine", "listMarket", (3, ETH_PARAMS)),
    ("engine", "setMarketParams", (ETH, ETH_PARAMS)),
    ("engine", "setFeeShares", (0, 0)),
    ("engine", "setPoolLimits", (8_000, 2_000)),
    ("engine", "setGuardian", (ZERO_ADDRESS,)),
    ("pool", "setRedeemTiming", (60, 60)),
    ("pool", "setEngine", (ZERO_ADDRESS,)),
    ("insuranceFund", "setEngine", (ZERO_ADDRESS,)),
    ("oracle", "setFeed", (ETH, ZERO_ADDRESS, 60)),
    ("oracle", "setSequencerFeed", (ZERO_ADDRESS, 0)),
]


@pytest.mark.parametrize("contract, function, args", OWNER_ONLY, ids=[f"{c}.{f}" for c, f, _ in OWNER_ONLY])
def test_owner_function__stranger__reverts_ownable_unauthorized_account(ledger, contract, function, args):
    stranger = ledger.actors[7]
    expect(ledger.act(stranger, contract, function, *args), "OwnableUnauthorizedAccount", (stranger,))


def test_set_opens_paused__stranger__reverts_not_guardian(ledger):
    stranger = ledger.actors[7]
    expect(ledger.act(stranger, "engine", "setOpensPaused", True), "NotGuardian", (stranger,))


@pytest.mark.parametrize("contract", ["pool", "insuranceFund"])
def test_set_engine__second_time__reverts_engine_already_set(ledger, contract):
    expect(ledger.act(ledger.actors[0], contract, "setEngine", ledger.actors[1]), "EngineAlreadySet", ())


ENGINE_ONLY = [
    ("pool", "creditFromEngine", (1,)),
    ("pool", "payToEngine", (1,)),
    ("insuranceFund", "depositFromEngine", (ETH, 1)),
    ("insuranceFund", "cover", (ETH, 1)),
]


@pytest.mark.parametrize("contract, function, args", ENGINE_ONLY, ids=[f"{c}.{f}" for c, f, _ in ENGINE_ONLY])
def test_engine_hook__stranger__reverts_not_engine(ledger, contract, function, args):
    stranger = ledger.actors[7]
    expect(ledger.act(stranger, contract, function, *args), "NotEngine", (stranger,))


UNLISTED_MARKET = [
    ("addMargin", (UNLISTED, USD)),
    ("removeMargin", (UNLISTED, USD)),
]


@pytest.mark.parametrize("function, args", UNLISTED_MARKET, ids=[f for f, _ in UNLISTED_MARKET])
def test_trader_action__unlisted_market__reverts_market_not_listed(ledger, function, args):
    expect(ledger.act(ledger.actors[3], "engine", function, *args), "MarketNotListed", (UNLISTED,))


def test_order__unlisted_market_with_a_feed__cancelled_market_not_listed(ledger):
    owner, _, trader, _ = trading_ledger(ledger)
    succeeded(ledger.act(owner, "oracle", "setFeed", UNLISTED, ledger.deployment.addresses.feeds[ETH], 4_200))
    submit(ledger, trader, UNLISTED, WAD, 1_000 * USD, UINT256_MAX)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED)
    expect(execute(ledger, trader, UNLISTED), "MarketNotListed")
    assert ledger.system.c.token.balance_of(trader) == 1_000_000 * USD - 1 * USD  # margin back, fee paid


def test_liquidate__unlisted_market__reverts_market_not_listed(ledger):
    out = ledger.act(ledger.actors[6], "engine", "liquidate", ledger.actors[3], UNLISTED)
    expect(out, "MarketNotListed", (UNLISTED,))


NO_POSITION = [
    ("addMargin", (ETH, USD)),
    ("removeMargin", (ETH, USD)),
]


@pytest.mark.parametrize("function, args", NO_POSITION, ids=[f for f, _ in NO_POSITION])
def test_trader_action__no_position__reverts_no_position(ledger, function, args):
    trader = ledger.actors[3]
    expect(ledger.act(trader, "engine", function, *args), "NoPosition", (trader, ETH))


def test_liquidate__no_position__reverts_no_position(ledger):
    trader = ledger.actors[3]
    expect(ledger.act(ledger.actors[6], "engine", "liquidate", trader, ETH), "NoPosition", (trader, ETH))


def test_close_position__no_position__reverts_zero_size(ledger):
    # A close order for |size| = 0 is refused at submission.
    expect(close(ledger, ledger.actors[3], ETH, 0), "ZeroSize", ())


def test_submit_order__zero_size__reverts_zero_size(ledger):
    expect(submit(ledger, ledger.actors[3], ETH, 0, USD, UINT256_MAX), "ZeroSize", ())


def test_add_margin__no_position_zero_amount__reverts_zero_amount_first(ledger):
    expect(ledger.act(ledger.actors[3], "engine", "addMargin", ETH, 0), "ZeroAmount", ())


def test_withdraw__any_amount__reverts_async_redeem_only(ledger):
    lp = ledger.actors[1]
    expect(ledger.act(lp, "pool", "withdraw", USD, lp, lp), "AsyncRedeemOnly", ())


def test_request_redeem__zero_shares__reverts_zero_shares(ledger):
    expect(ledger.act(ledger.actors[1], "pool", "requestRedeem", 0), "ZeroShares", ())


def test_cancel_redeem__no_request__reverts_no_redeem_request(ledger):
    lp = ledger.actors[1]
    expect(ledger.act(lp, "pool", "cancelRedeem"), "NoRedeemRequest", (lp,))


def test_redeem__for_another_owner__reverts_not_request_owner(ledger):
    lp, other = ledger.actors[1:3]
    expect(ledger.act(other, "pool", "redeem", 1, other, lp), "NotRequestOwner", (other, lp))


def test_redeem__no_request__reverts_erc4626_exceeded_max_redeem(ledger):
    lp = ledger.actors[1]
    expect(ledger.act(lp, "pool", "redeem", 1, lp, lp), "ERC4626ExceededMaxRedeem", (lp, 1, 0))


@pytest.mark.parametrize(
    "cooldown, window",
    [(0, 3_600), (3_600, 0), (365 * DAY + 1, 3_600), (3_600, 365 * DAY + 1)],
    ids=["cooldown_zero", "window_zero", "cooldown_above_a_year", "window_above_a_year"],
)
def test_set_redeem_timing__out_of_range__reverts_invalid_redeem_timing(ledger, cooldown, window):
    out = ledger.act(ledger.actors[0], "pool", "setRedeemTiming", cooldown, window)
    expect(out, "InvalidRedeemTiming", (cooldown, window))


def test_fund__zero__reverts_zero_amount(ledger):
    expect(ledger.act(ledger.actors[4], "insuranceFund", "fund", ETH, 0), "ZeroAmount", ())


def test_fund__not_approved__reverts_erc20_insufficient_allowance(ledger):
    out = ledger.act(ledger.actors[4], "insuranceFund", "fund", ETH, USD)
    expect(out, "ERC20InsufficientAllowance", (ledger.deployment.addresses.insurance_fund, 0, USD))


def test_set_feed__zero_address__reverts_zero_feed(ledger):
    expect(ledger.act(ledger.actors[0], "oracle", "setFeed", ETH, ZERO_ADDRESS, 60), "ZeroFeed", ())


@pytest.mark.parametrize("max_age", [0, 7 * DAY + 1], ids=["zero", "above_a_week"])
def test_set_feed__max_age_out_of_range__reverts_invalid_max_age(ledger, max_age):
    feed = ledger.deployment.addresses.feeds[ETH]
    expect(ledger.act(ledger.actors[0], "oracle", "setFeed", ETH, feed, max_age), "InvalidMaxAge", (max_age,))


def test_token_mint__zero_receiver__reverts_erc20_invalid_receiver(ledger):
    out = ledger.act(ledger.actors[5], "token", "mint", ZERO_ADDRESS, 1)
    expect(out, "ERC20InvalidReceiver", (ZERO_ADDRESS,))


def test_token_transfer__zero_receiver__reverts_erc20_invalid_receiver(ledger):
    out = ledger.act(ledger.actors[5], "token", "transfer", ZERO_ADDRESS, 0)
    expect(out, "ERC20InvalidReceiver", (ZERO_ADDRESS,))


def test_token_approve__zero_spender__reverts_erc20_invalid_spender(ledger):
    out = ledger.act(ledger.actors[5], "token", "approve", ZERO_ADDRESS, 1)
    expect(out, "ERC20InvalidSpender", (ZERO_ADDRESS,))


def test_token_transfer_from__no_allowance__reverts_erc20_insufficient_allowance(ledger):
    a, spender = ledger.actors[5], ledger.actors[6]
    out = ledger.act(spender, "token", "transferFrom", a, spender, 1)
    expect(out, "ERC20InsufficientAllowance", (spender, 0, 1))
