"""The engine's and the pool's views answer the same on both sides, and mean what they say.

Chain views run against the latest mined block, so before comparing at `ledger.now` a block
is mined at that time (`evm_mine`); the model answers with `Env(sender, ledger.now)`. A view
that reverts must revert the same way (error and arguments) on both sides.

The ETH market here has an 18-decimal feed, so every WAD price is a feed answer: that is what
lets the bankruptcy-price test put the oracle exactly at the bankruptcy price and one wei past it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from chainio.contract import ChainRevert
from difftest.ledger import Ledger
from difftest.orders import trade
from pymodel.config import default_config, default_market
from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.evm import UINT256_MAX
from pymodel.fixed_point import mul_div_down

USD = 10**6
WAD = 10**18
BPS = 10_000
ETH, BTC = 1, 2
UNLISTED = 99
SCALE = 10**30  # notional scale for 6-decimal collateral: size x price / 10**30 = USD units

# Model side of every compared view: (contract, function) -> f(contracts, env, *args).
ModelView = Callable[..., Any]
MODEL_VIEWS: dict[tuple[str, str], ModelView] = {
    ("engine", "equity"): lambda c, env, a, m: c.engine.equity(env, a, m),
    ("engine", "maintenanceMargin"): lambda c, env, a, m: c.engine.maintenance_margin(env, a, m),
    ("engine", "isLiquidatable"): lambda c, env, a, m: c.engine.is_liquidatable(env, a, m),
    ("engine", "liquidationPrice"): lambda c, env, a, m: c.engine.liquidation_price(env, a, m),
    ("engine", "bankruptcyPrice"): lambda c, env, a, m: c.engine.bankruptcy_price(env, a, m),
    ("pool", "poolClaimOnTraders"): lambda c, env, up, strict: c.pool.pool_claim_on_traders(env, up, strict),
    ("engine", "reservedCash"): lambda c, env: c.engine.reserved_cash(),
    ("pool", "totalAssets"): lambda c, env: c.pool.total_assets(env),
    ("pool", "totalAssetsForDeposit"): lambda c, env: c.pool.total_assets_for_deposit(env),
    ("pool", "totalAssetsForRedeem"): lambda c, env: c.pool.total_assets_for_redeem(env),
    ("pool", "previewDeposit"): lambda c, env, assets: c.pool.preview_deposit(env, assets),
    ("pool", "previewMint"): lambda c, env, shares: c.pool.preview_mint(env, shares),
    ("pool", "previewRedeem"): lambda c, env, shares: c.pool.preview_redeem(env, shares),
    ("pool", "maxRedeem"): lambda c, env, owner: c.pool.max_redeem(env, owner),
    ("pool", "convertToShares"): lambda c, env, assets: c.pool.convert_to_shares(env, assets),
    ("pool", "convertToAssets"): lambda c, env, shares: c.pool.convert_to_assets(env, shares),
    ("pool", "maxDeposit"): lambda c, env, receiver: c.pool.max_deposit(env, receiver),
    ("pool", "maxMint"): lambda c, env, receiver: c.pool.max_mint(env, receiver),
    ("pool", "maxWithdraw"): lambda c, env, owner: c.pool.max_withdraw(owner),
    ("pool", "previewWithdraw"): lambda c, env, assets: c.pool.preview_withdraw(assets),
    ("engine", "sideProfitRatio"): lambda c, env, m, is_long: c.engine.side_profit_ratio(env, m, is_long),
    ("engine", "previewLiquidation"): lambda c, env, a, m: c.engine.preview_liquidation(env, a, m).as_tuple(),
    ("oracle", "price"): lambda c, env, m: c.oracle.price(env, m),
    ("feed1", "getRoundData"): lambda c, env, r: tuple(c.feeds[ETH].get_round_data(r)),
}


def eth_18_decimal_feed_config():
    eth = default_market(ETH, "ETH-USD", 3_000, 6, feed_decimals=18, initial_answer=3_000 * WAD)
    return default_config(markets=[eth, default_market(BTC, "BTC-USD", 60_000, 6)])


@pytest.fixture
def ledger(make_ledger) -> Ledger:
    return make_ledger(eth_18_decimal_feed_config())


def mine(ledger: Ledger) -> None:
    """A block at `ledger.now`: chain views then see the time the model is asked at."""
    ledger.rpc.request("evm_mine", [ledger.now])


def model_view(ledger: Ledger, contract: str, function: str, *args: Any) -> tuple[Any, ...]:
    env = Env(ledger.actors[0], ledger.now)
    try:
        return ("ok", MODEL_VIEWS[(contract, function)](ledger.system.c, env, *args))
    except Revert as revert:
        return ("revert", *revert.signature())


def chain_view(ledger: Ledger, contract: str, function: str, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", ledger.deployment.contracts[contract].call(function, *args))
    except ChainRevert as revert:
        return ("revert", *revert.signature())


def same_view(ledger: Ledger, contract: str, function: str, *args: Any) -> Any:
    """The view's outcome on both sides (mine first); returns the value, or the revert tuple."""
    model, chain = model_view(ledger, contract, function, *args), chain_view(ledger, contract, function, *args)
    assert model == chain, f"{contract}.{function}{args} at t={ledger.now}: model {model} != chain {chain}"
    return model[1] if model[0] == "ok" else model


def all_views_agree(ledger: Ledger, accounts: list[str]) -> dict[str, Any]:
    """Every compared view, for every account and market; returns the model's answers."""
    mine(ledger)
    seen: dict[str, Any] = {}
    for account in accounts:
        for market in (ETH, BTC, UNLISTED):
            for function in ("equity", "maintenanceMargin", "isLiquidatable", "liquidationPrice", "bankruptcyPrice"):
                seen[f"{function}/{account}/{market}"] = same_view(ledger, "engine", function, account, market)
        seen[f"maxRedeem/{account}"] = same_view(ledger, "pool", "maxRedeem", account)
    for round_up in (True, False):
        for strict in (True, False):
            seen[f"poolClaimOnTraders/{round_up}/{strict}"] = same_view(
                ledger, "pool", "poolClaimOnTraders", round_up, strict
            )
    for function in ("maxDeposit", "maxMint"):
        seen[function] = same_view(ledger, "pool", function, accounts[0])
    seen["reservedCash"] = same_view(ledger, "engine", "reservedCash")
    for function in ("totalAssets", "totalAssetsForDeposit", "totalAssetsForRedeem"):
        seen[function] = same_view(ledger, "pool", function)
    for amount in (0, 1, 999_999, USD, 123_456_789 * USD):
        seen[f"previewDeposit/{amount}"] = same_view(ledger, "pool", "previewDeposit", amount)
    for shares in (0, 1, 10**6 - 1, 10**12, 10**12 + 1, 7 * 10**20 + 3):
        seen[f"previewMint/{shares}"] = same_view(ledger, "pool", "previewMint", shares)
        seen[f"previewRedeem/{shares}"] = same_view(ledger, "pool", "previewRedeem", shares)
    for market in (ETH, BTC, UNLISTED):
        seen[f"price/{market}"] = same_view(ledger, "oracle", "price", market)
    return seen


def fund(ledger: Ledger, who: str, amount: int) -> None:
    ledger.mint_and_approve(who, amount)


def deposit(ledger: Ledger, lp: str, amount: int) -> None:
    fund(ledger, lp, amount)
    assert not ledger.act(lp, "pool", "deposit", amount, lp).reverted


def act_ok(ledger: Ledger, sender: str, contract: str, function: str, *args: Any) -> None:
    out = ledger.act(sender, contract, function, *args)
    assert not out.reverted, out.error


def trade_ok(ledger: Ledger, trader: str, market_id: int, size_delta: int, margin_in: int, price: int) -> None:
    """An order submitted, filled at a round two seconds later (same price) by a keeper."""
    out = trade(ledger, trader, market_id, size_delta, margin_in, price)
    assert out.events_named("OrderExecuted"), (out.error, out.events_named("OrderCancelled"))


def set_eth(ledger: Ledger, price_wad: int) -> None:
    """An 18-decimal feed: the answer is the WAD price itself."""
    ledger.set_price(ETH, price_wad)


def test_views__open_book_through_a_crash__model_equals_chain(ledger):
    owner, lp1, lp2, long_a, short_b, long_c, keeper = ledger.actors[:7]
    everyone = [lp1, lp2, long_a, short_b, long_c, keeper]
    act_ok(ledger, owner, "pool", "setRedeemTiming", 600, 600)
    seen = all_views_agree(ledger, everyone)  # the empty pool
    assert seen["totalAssets"] == 0 and seen[f"previewDeposit/{USD}"] == USD * 10**6

    deposit(ledger, lp1, 600_000 * USD)
    deposit(ledger, lp2, 400_000 * USD)
    for trader in (long_a, short_b, long_c):
        fund(ledger, trader, 100_000 * USD)
    trade_ok(ledger, long_a, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    trade_ok(ledger, short_b, ETH, -4 * WAD, 2_000 * USD, 0)
    trade_ok(ledger, long_c, BTC, WAD, 12_000 * USD, UINT256_MAX)
    seen = all_views_agree(ledger, everyone)
    assert seen[f"equity/{long_a}/{ETH}"] > seen[f"maintenanceMargin/{long_a}/{ETH}"] > 0
    assert seen[f"liquidationPrice/{long_a}/{ETH}"] > seen[f"bankruptcyPrice/{long_a}/{ETH}"]
    assert seen[f"liquidationPrice/{short_b}/{ETH}"] < seen[f"bankruptcyPrice/{short_b}/{ETH}"]
    assert seen[f"equity/{long_a}/{UNLISTED}"] == ("revert", "MarketNotListed", (UNLISTED,))

    # Funding pending for half an hour, prices moved, one LP asks to leave.
    ledger.advance(1_800)
    set_eth(ledger, 2_900 * WAD)
    ledger.set_price(BTC, 61_000 * 10**8)
    act_ok(ledger, lp1, "pool", "requestRedeem", 100_000 * USD * 10**6)
    seen = all_views_agree(ledger, everyone)
    assert seen["poolClaimOnTraders/True/True"] >= seen["poolClaimOnTraders/False/True"]
    assert seen["totalAssetsForDeposit"] >= seen["totalAssetsForRedeem"]

    # The window opens after 600 s and closes 600 s later.
    ledger.advance(599)
    assert all_views_agree(ledger, everyone)[f"maxRedeem/{lp1}"] == 0
    ledger.advance(1)
    assert all_views_agree(ledger, everyone)[f"maxRedeem/{lp1}"] == 100_000 * USD * 10**6
    ledger.advance(600)
    assert all_views_agree(ledger, everyone)[f"maxRedeem/{lp1}"] == 100_000 * USD * 10**6
    ledger.advance(1)
    assert all_views_agree(ledger, everyone)[f"maxRedeem/{lp1}"] == 0

    # The crash: the long is liquidatable, then liquidated past bankruptcy.
    set_eth(ledger, 2_650 * WAD)
    seen = all_views_agree(ledger, everyone)
    assert seen[f"isLiquidatable/{long_a}/{ETH}"] is True and seen[f"isLiquidatable/{short_b}/{ETH}"] is False
    act_ok(ledger, keeper, "engine", "liquidate", long_a, ETH)
    seen = all_views_agree(ledger, everyone)
    assert seen[f"equity/{long_a}/{ETH}"] == 0 and seen[f"bankruptcyPrice/{long_a}/{ETH}"] == 0

    # No round for 4,201 s: every view that needs the ETH price reverts, the same way; totalAssets
    # and the max views do not (the stale market counts no PnL; deposits and claims report 0).
    ledger.advance(4_201)
    ledger.set_price(BTC, 61_000 * 10**8)
    seen = all_views_agree(ledger, everyone)
    stale = ("revert", "StalePrice", (ETH, ledger.now - 4_201, ledger.now, 4_200))
    assert seen[f"equity/{short_b}/{ETH}"] == stale and seen["totalAssetsForRedeem"] == stale
    assert seen["poolClaimOnTraders/True/False"][1] is True and seen["totalAssets"] > 0
    assert seen["maxDeposit"] == seen["maxMint"] == seen[f"maxRedeem/{lp1}"] == 0
    assert seen[f"equity/{long_c}/{BTC}"] > 0 and seen["reservedCash"] > 0


def test_get_round_data__unknown_round__reverts_round_not_found_on_both_sides(ledger):
    mine(ledger)
    assert same_view(ledger, "feed1", "getRoundData", 1) == (1, 3_000 * WAD, ledger.now, ledger.now, 1)
    assert same_view(ledger, "feed1", "getRoundData", 2) == ("revert", "RoundNotFound", (2,))
    assert same_view(ledger, "feed1", "getRoundData", 0) == ("revert", "RoundNotFound", (0,))


def book_with_pending_funding(ledger: Ledger) -> tuple[str, str]:
    """A 10 ETH long and a 4 ETH short, 1,000 s of funding owed (not yet settled into either
    position), and the market's index accrued in this very block by a third trader, so the
    views' funding index does not depend on the oracle price. Returns (long, short)."""
    lp, long_a, short_b, other = ledger.actors[1:5]
    deposit(ledger, lp, 1_000_000 * USD)
    for trader in (long_a, short_b, other):
        fund(ledger, trader, 100_000 * USD)
    trade_ok(ledger, long_a, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    trade_ok(ledger, short_b, ETH, -4 * WAD, 1_300 * USD, 0)
    ledger.advance(1_000)
    trade_ok(ledger, other, ETH, WAD // 5, 100 * USD, UINT256_MAX)  # $600: above minNotional
    engine = ledger.system.c.engine
    index = engine.market_state(ETH).funding_index
    assert engine.market_state(ETH).last_funding_at == ledger.now
    assert engine.position_of(long_a, ETH).funding_index != index  # funding pending on both
    assert engine.position_of(short_b, ETH).funding_index != index
    return long_a, short_b


@pytest.mark.parametrize("side", ["long", "short"])
def test_bankruptcy_price__oracle_at_it__equity_nonnegative_and_one_wei_past_it_negative(ledger, side):
    long_a, short_b = book_with_pending_funding(ledger)
    trader = long_a if side == "long" else short_b
    mine(ledger)
    bankruptcy = same_view(ledger, "engine", "bankruptcyPrice", trader, ETH)
    past = bankruptcy - 1 if side == "long" else bankruptcy + 1

    set_eth(ledger, bankruptcy)
    mine(ledger)
    assert same_view(ledger, "engine", "equity", trader, ETH) >= 0
    set_eth(ledger, past)
    mine(ledger)
    assert same_view(ledger, "engine", "equity", trader, ETH) < 0
    # Still the same answer at the new oracle price (funding does not move within the block).
    assert same_view(ledger, "engine", "bankruptcyPrice", trader, ETH) == bankruptcy


def model_liquidatable_at(ledger: Ledger, trader: str, price_wad: int) -> bool:
    """Model only: isLiquidatable with the oracle at `price_wad` in this block (on a copy)."""
    c = copy.deepcopy(ledger.system.c)
    env = Env(ledger.actors[0], ledger.now)
    c.feeds[ETH].set_round_data(env, price_wad, ledger.now)
    return c.engine.is_liquidatable(env, trader, ETH)


def flip_tolerance(size_abs: int, tier_bps: int) -> int:
    """Price wei within which isLiquidatable must flip around liquidationPrice.

    liquidationPrice solves margin - funding + size x (p - entry) / SCALE = rate x |size| x p / SCALE
    exactly (then rounds it up for longs, down for shorts). The views differ from those reals by
    less than 3 collateral units (PnL floored: -1; maintenance on a rounded-up notional, rounded
    up: < +2), and equity - maintenance moves by |size| x (1 - rate) / SCALE units per price wei,
    so 3 units are ceil(3 x SCALE x BPS / (|size| x (BPS - rate))) wei; one more wei covers the
    rounding of the price itself. For 10 ETH that is about 3e-7 USD.
    """
    return -(-3 * SCALE * BPS // (size_abs * (BPS - tier_bps))) + 1


@pytest.mark.parametrize(
    "size, margin, tier_bps",
    [
        (10 * WAD, 3_100 * USD, 250),  # first tier: notional at the liquidation price < $100k
        (-4 * WAD, 1_300 * USD, 250),
        (50 * WAD, 16_000 * USD, 400),  # second tier: ~$140k notional at the liquidation price
    ],
    ids=["long", "short", "long_second_tier"],
)
def test_liquidation_price__is_liquidatable_flips_there_within_tolerance(ledger, size, margin, tier_bps):
    book_with_pending_funding(ledger)
    trader = ledger.actors[5]
    fund(ledger, trader, 100_000 * USD)
    trade_ok(ledger, trader, ETH, size, margin, UINT256_MAX if size > 0 else 0)
    ledger.advance(300)
    act_ok(ledger, ledger.actors[4], "engine", "removeMargin", ETH, USD)  # accrues the index in this block
    mine(ledger)
    liquidation = same_view(ledger, "engine", "liquidationPrice", trader, ETH)
    engine = ledger.system.c.engine
    assert engine.position_of(trader, ETH).funding_index != engine.market_state(ETH).funding_index

    tolerance = flip_tolerance(abs(size), tier_bps)
    safe, unsafe = (liquidation + tolerance, liquidation - tolerance)
    if size < 0:
        safe, unsafe = unsafe, safe
    assert model_liquidatable_at(ledger, trader, safe) is False
    assert model_liquidatable_at(ledger, trader, unsafe) is True
    tier_cap = engine.market_params(ETH).tier_notional_caps[0]
    in_first_tier = abs(size) * liquidation // SCALE <= tier_cap
    assert in_first_tier == (tier_bps == 250)  # the tier the tolerance assumed
    assert tolerance * 10**9 < liquidation  # i.e. far below a billionth of the price


@pytest.mark.parametrize("side", ["long", "short"])
def test_liquidation_price__thin_margin_next_to_a_tier_boundary__is_where_liquidation_starts(ledger, side):
    """Maintenance jumps from 2.5% to 4% where 33 ETH cross $100k of notional (3,030.30), so the
    liquidatable prices need not be one interval:
    - long, margin 2,200 after taking profit: liquidatable from ~3,057.5 down (4% tier), safe
      again just under 3,030.30 (2.5% tier) — the view reports the first price met, ~3,057.5;
    - short, margin 4,000: safe up to 3,030.30, liquidatable just above it (4% tier) — the view
      reports the tier boundary.
    Found by this test against an earlier formula that ignored the jump (regression guard)."""
    lp, trader = ledger.actors[1:3]
    deposit(ledger, lp, 1_000_000 * USD)
    fund(ledger, trader, 100_000 * USD)
    is_long = side == "long"
    trade_ok(
        ledger,
        trader,
        ETH,
        33 * WAD if is_long else -33 * WAD,
        10_100 * USD,
        UINT256_MAX if is_long else 0,
    )
    set_eth(ledger, 3_500 * WAD if is_long else 2_500 * WAD)  # in profit: margin can come out
    margin = ledger.system.c.engine.position_of(trader, ETH).margin
    act_ok(ledger, trader, "engine", "removeMargin", ETH, margin - (2_200 if is_long else 4_000) * USD)
    boundary = 100_000 * USD * 10**30 // (33 * WAD)  # the highest price of the 2.5% tier
    probes = (3_040 * WAD, 3_070 * WAD, boundary - WAD) if is_long else (3_025 * WAD, 3_035 * WAD)
    reported = []
    for probe in probes:
        set_eth(ledger, probe)
        mine(ledger)
        liquidation = same_view(ledger, "engine", "liquidationPrice", trader, ETH)
        liquidatable = same_view(ledger, "engine", "isLiquidatable", trader, ETH)
        assert not isinstance(liquidation, tuple), liquidation
        reported.append(liquidation)
        # Liquidatable on the far side of the reported price, never on the near side.
        if is_long and probe > liquidation or not is_long and probe < liquidation:
            assert not liquidatable, probe
        if probe != boundary - WAD:
            assert liquidatable == (probe < liquidation if is_long else probe > liquidation), probe
    assert len(set(reported)) == 1  # the view does not depend on where the oracle is now
    if is_long:
        assert 3_057 * WAD < reported[0] < 3_058 * WAD
    else:
        assert reported[0] == boundary


def test_erc4626_views__model_equals_chain_and_openzeppelin(ledger):
    """convertToShares/convertToAssets/maxDeposit/maxMint/maxWithdraw/previewWithdraw on both
    sides, and pinned to OpenZeppelin's formulas over the deposit mark."""
    lp, trader = ledger.actors[1:3]
    deposit(ledger, lp, 1_000_000 * USD)
    fund(ledger, trader, 100_000 * USD)
    trade_ok(ledger, trader, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    ledger.advance(900)
    set_eth(ledger, 2_950 * WAD)
    mine(ledger)
    pool, env = ledger.system.c.pool, Env(lp, ledger.now)
    total, supply = pool.total_assets(env), pool.total_supply + 10**6
    for amount in (1, USD, 777_777 * USD):
        assert same_view(ledger, "pool", "convertToShares", amount) == mul_div_down(amount, supply, total + 1)
        shares = amount * 10**6
        assert same_view(ledger, "pool", "convertToAssets", shares) == mul_div_down(shares, total + 1, supply)
    assert same_view(ledger, "pool", "maxDeposit", lp) == same_view(ledger, "pool", "maxMint", lp) == UINT256_MAX
    assert same_view(ledger, "pool", "maxWithdraw", lp) == 0
    assert same_view(ledger, "pool", "previewWithdraw", USD) == ("revert", "AsyncRedeemOnly", ())


def test_waterfall_views__side_profit_ratio_and_liquidation_preview__model_equals_chain(ledger):
    lp, trader, short = ledger.actors[1:4]
    deposit(ledger, lp, 1_000_000 * USD)
    fund(ledger, trader, 100_000 * USD)
    fund(ledger, short, 100_000 * USD)
    trade_ok(ledger, trader, ETH, 10 * WAD, 3_100 * USD, UINT256_MAX)
    trade_ok(ledger, short, ETH, -5 * WAD, 2_000 * USD, 0)
    for price in (3_000, 2_700, 2_300, 3_400):
        set_eth(ledger, price * WAD)
        mine(ledger)
        for is_long in (True, False):
            same_view(ledger, "engine", "sideProfitRatio", ETH, is_long)
        for account in (trader, short, lp):
            same_view(ledger, "engine", "previewLiquidation", account, ETH)
    assert same_view(ledger, "engine", "previewLiquidation", lp, ETH) == ("revert", "NoPosition", (lp, ETH))


# State coverage: every public view of the system's contracts is compared between model and chain
# (the ledger's state, `Ledger._state_queries`, after every action; the views above, `MODEL_VIEWS`)
# or declared here as not compared, with the reason. A view added to a contract's ABI fails
# `test_state_coverage__...` until it is compared or excepted: a public variable missing from a
# table no longer goes unseen.

# The ledger's contract names and the artifacts behind them.
CONTRACTS = {
    "engine": "PerpEngine",
    "pool": "LPPool",
    "insuranceFund": "InsuranceFund",
    "safetyModule": "SafetyModule",
    "oracle": "OracleAdapter",
    "orderRouter": "OrderRouter",
    "token": "MockStablecoin",
    "feed1": "MockPriceFeed",
}
WIRING = "an address or value fixed at deployment: checked by verify-deployment (chainio/verify.py)"
CONSTANT = "a compile-time constant"
ERC20_METADATA = "ERC-20 metadata, fixed at deployment"
NOT_COMPARED: dict[str, dict[str, str]] = {
    "engine": {
        **dict.fromkeys(
            (
                "collateral",
                "oracle",
                "pool",
                "insuranceFund",
                "safetyModule",
                "owner",
                "notionalScale",
                "liquidationModule",
                "adlModule",
                "marketParamsValidator",
            ),
            WIRING,
        ),
        "marketIds": "the listed markets: the ledger compares each listed market's state and parameters",
    },
    "pool": {
        **dict.fromkeys(("asset", "engine", "owner"), WIRING),
        **dict.fromkeys(("name", "symbol", "decimals"), ERC20_METADATA),
        "allowance": "LP share allowances: no flow of the system approves pool shares",
    },
    "insuranceFund": dict.fromkeys(("collateral", "engine", "owner"), WIRING),
    "safetyModule": {
        **dict.fromkeys(("collateral", "engine", "owner"), WIRING),
        "previewStake": "a pure function of totalAssets and totalShares, which are compared",
        "previewRedeem": "a pure function of totalAssets and totalShares, which are compared",
        "previewClaim": "a pure function of pendingOf, which is compared",
        "slashCap": "a pure function of the slash window state (SM_STATE), which is compared",
        "slashKept": "a function of the checkpoints (slashCheckpointOf) and the time, which are compared",
    },
    "oracle": {
        **dict.fromkeys(
            (
                "MAX_AGE_LIMIT",
                "MAX_BAND_BPS",
                "MAX_BAND_WINDOW",
                "MAX_FEED_DECIMALS",
                "MAX_GRACE_PERIOD",
                "MAX_PRICE_LIMIT",
                "MAX_SOURCES",
                "MAX_SPREAD_BPS",
                "MAX_CONF_BPS",
                "MAX_PULL_LAG_TOLERANCE",
                "MAX_ROUND_WALK",
                "SOURCE_READ_GAS",
            ),
            CONSTANT,
        ),
        "owner": WIRING,
        "orderRouter": WIRING,
        "sourceHealthOf": "each source's health, a function of the compared rounds: tests/oracle compares it",
        "sequencerFeed": WIRING,
        "sequencerGracePeriod": WIRING,
        "priceWithTime": "price() with the oldest observation: tests/oracle compares it",
        "markStatus": "why a market is degraded: tests/oracle compares it",
    },
    "orderRouter": {
        **dict.fromkeys(("MAX_MAX_EXECUTION_DELAY", "MAX_MIN_EXECUTION_DELAY", "PULL_FILL_WINDOW"), CONSTANT),
        "fillWindow": "a function of minExecutionDelay and maxExecutionDelay, which are compared",
        **dict.fromkeys(("collateral", "engine", "oracle", "owner"), WIRING),
    },
    "token": {
        **dict.fromkeys(("name", "symbol", "decimals"), ERC20_METADATA),
        "allowance": "approvals are inputs of the test harness, not state the system computes",
        **dict.fromkeys(("MAX_MINT_PER_ACCOUNT", "MAX_MINT_PER_CALL", "OPEN_CHAIN_ID"), CONSTANT),
        "mintedTo": "the faucet's count applies only off chain 31337; tests/deploy/test_ops.py checks it",
    },
    "feed1": {
        **dict.fromkeys(("decimals", "description", "version"), "feed metadata, fixed at deployment"),
        "latestRoundId": "the round counter behind latestRoundData, which is compared",
        "OPEN_CHAIN_ID": CONSTANT,
        "deployer": WIRING,
        "isPusher": "pusher grants apply only off chain 31337; tests/deploy/test_ops.py checks them",
    },
}


def test_state_coverage__every_public_view_compared_or_declared(project, ledger):
    compared = {(contract, function) for _, contract, function, _ in ledger._state_queries()} | set(MODEL_VIEWS)
    unseen = []
    for alias, name in CONTRACTS.items():
        for item in getattr(project, name).contract_type.model_dump(by_alias=True)["abi"]:
            if item["type"] != "function" or item["stateMutability"] not in ("view", "pure"):
                continue
            if (alias, item["name"]) not in compared and item["name"] not in NOT_COMPARED.get(alias, {}):
                unseen.append(f"{alias}.{item['name']}")
    assert not unseen, f"public views neither compared nor declared in NOT_COMPARED: {unseen}"
    # The declared list holds only views that exist and are really not compared.
    for alias, declared in NOT_COMPARED.items():
        abi = {i.get("name") for i in getattr(project, CONTRACTS[alias]).contract_type.model_dump(by_alias=True)["abi"]}
        assert set(declared) <= abi, f"{alias}: declared views not in the ABI: {set(declared) - abi}"
        assert not {(alias, f) for f in declared} & compared, f"{alias}: declared as not compared, but compared"
