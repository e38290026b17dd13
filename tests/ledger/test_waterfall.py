"""The four-layer loss waterfall, ADL and socialised loss (model == chain to the wei).

`ledger.act` checks parity, conservation and waterfall order after every step; each test
asserts the numbers of the layer it is about.
"""

from __future__ import annotations

from difftest.orders import close, trade
from pymodel.adl import adl_plan, adl_ranking
from pymodel.config import default_config
from pymodel.core import Env

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
DAY = 24 * 3600


def setup_pool(ledger, lp: str, amount: int) -> None:
    ledger.mint_and_approve(lp, amount)
    ledger.act(lp, "pool", "deposit", amount, lp)


def stake(ledger, staker: str, amount: int) -> None:
    ledger.mint_and_approve(staker, amount)
    ledger.act(staker, "safetyModule", "stake", amount)


def open_long(ledger, trader: str, size_eth: int, margin: int) -> None:
    # And the keeper's fees of two orders (to open and to close).
    ledger.mint_and_approve(trader, margin + 2 * ledger.system.config.execution_fee)
    out = trade(ledger, trader, ETH, size_eth * WAD, margin, 3_100 * WAD)
    assert not out.reverted, out.error


def sm(ledger):
    return ledger.system.c.safety_module


def bucket(ledger) -> int:
    return ledger.system.c.insurance_fund.bucket_of(ETH)


def test_waterfall__insurance_part_safety_module_to_cap_pool_rest(make_ledger):
    ledger = make_ledger(default_config(insurance_share_bps=0))
    owner, lp, trader, keeper, backer, staker = ledger.actors[:6]
    setup_pool(ledger, lp, 1_000_000 * USD)
    ledger.mint_and_approve(backer, 500 * USD)
    ledger.act(backer, "insuranceFund", "fund", ETH, 500 * USD)
    stake(ledger, staker, 10_000 * USD)
    open_long(ledger, trader, 10, 3_100 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_300 * FEED)

    preview = ledger.deployment.contracts["engine"].call("previewLiquidation", trader, ETH)
    assert ledger.system.c.engine.preview_liquidation(Env(keeper, ledger.now), trader, ETH).as_tuple() == preview
    staked = sm(ledger).total_assets  # the stake plus the module's share of the trading fees
    out = ledger.act(keeper, "engine", "liquidate", trader, ETH)

    debt, slash = out.event("BadDebtSettled"), out.event("Slashed")
    cap = staked * 3_000 // 10_000
    assert debt.from_insurance == 500 * USD
    assert (slash.requested, slash.slashed, slash.cap) == (debt.shortfall - 500 * USD, cap, cap)
    assert debt.from_safety_module == cap
    assert debt.from_pool == debt.shortfall - 500 * USD - cap > 0
    assert sm(ledger).total_assets == staked - cap
    # The view predicted exactly this split.
    assert preview[8:] == (debt.shortfall, debt.from_insurance, debt.from_safety_module, debt.from_pool, 0)
    assert not out.events_named("DeficitUncovered")  # the pool had the cash: nothing uncovered


def test_slash__staker_in_cooldown_slashed_like_everyone(make_ledger):
    ledger = make_ledger(default_config(insurance_share_bps=0))
    owner, lp, trader, keeper, staying, leaving = ledger.actors[:6]
    setup_pool(ledger, lp, 1_000_000 * USD)
    stake(ledger, staying, 6_000 * USD)
    stake(ledger, leaving, 4_000 * USD)
    ledger.act(leaving, "safetyModule", "cooldown")
    open_long(ledger, trader, 10, 3_100 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_500 * FEED)
    value = {s: sm(ledger).preview_redeem(sm(ledger).shares_of(s)) for s in (staying, leaving)}

    slashed = ledger.act(keeper, "engine", "liquidate", trader, ETH).event("Slashed").slashed

    assert slashed > 0
    for staker, share in ((staying, 6), (leaving, 4)):
        loss = value[staker] - sm(ledger).preview_redeem(sm(ledger).shares_of(staker))
        assert abs(loss - slashed * share // 10) <= 1  # pro rata, cooldown or not


def test_slash__exit_in_same_block_as_visible_shortfall__no_advantage(make_ledger):
    ledger = make_ledger(default_config(insurance_share_bps=0))
    owner, lp, trader, keeper, staying, leaving, late = ledger.actors[:7]
    setup_pool(ledger, lp, 1_000_000 * USD)
    stake(ledger, staying, 5_000 * USD)
    stake(ledger, leaving, 5_000 * USD)
    ledger.act(leaving, "safetyModule", "cooldown")
    open_long(ledger, trader, 10, 3_100 * USD)
    ledger.advance(10 * DAY)  # the leaver's unstake window opens
    ledger.set_price(ETH, 2_400 * FEED)  # the oracle now shows the position bankrupt

    # Same block time: the leaver exits first, then the keeper liquidates.
    shares = sm(ledger).shares_of(leaving)
    ledger.act(leaving, "safetyModule", "redeem", shares)
    too_early = ledger.act(leaving, "safetyModule", "claim", leaving)
    assert too_early.error == ("ClaimTooEarly", (leaving, ledger.now + sm(ledger).exit_delay))
    slashed = ledger.act(keeper, "engine", "liquidate", trader, ETH).event("Slashed").slashed
    # A stake in the same block after the slash buys at the slashed price: no windfall, no loss.
    ledger.mint_and_approve(late, 1_000 * USD)
    late_shares = ledger.act(late, "safetyModule", "stake", 1_000 * USD).return_value
    assert sm(ledger).preview_redeem(late_shares) in (1_000 * USD - 1, 1_000 * USD)

    ledger.advance(sm(ledger).exit_delay)
    claimed = ledger.act(leaving, "safetyModule", "claim", leaving).return_value
    stayed = sm(ledger).preview_redeem(sm(ledger).shares_of(staying))
    assert slashed > 0
    assert 0 <= stayed - claimed <= 2  # the leaver bore the stayer's loss (escrow takes the rounding)
    assert claimed < 5_000 * USD


def test_waterfall__series_drains_insurance_then_safety_module_then_pool(make_ledger):
    ledger = make_ledger(default_config(insurance_share_bps=0))
    owner, lp, a, b, c, keeper, backer, staker = ledger.actors[:8]
    setup_pool(ledger, lp, 2_000_000 * USD)
    ledger.mint_and_approve(backer, 5_000 * USD)
    ledger.act(backer, "insuranceFund", "fund", ETH, 5_000 * USD)
    stake(ledger, staker, 20_000 * USD)
    open_long(ledger, a, 10, 3_100 * USD)
    open_long(ledger, b, 10, 3_100 * USD)
    open_long(ledger, c, 20, 6_200 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_300 * FEED)

    first = ledger.act(keeper, "engine", "liquidate", a, ETH).event("BadDebtSettled")
    assert first.from_insurance == first.shortfall and first.from_safety_module == first.from_pool == 0
    second = ledger.act(keeper, "engine", "liquidate", b, ETH).event("BadDebtSettled")
    assert second.from_insurance == 5_000 * USD - first.shortfall and bucket(ledger) == 0
    assert second.from_safety_module == second.shortfall - second.from_insurance and second.from_pool == 0
    cap = sm(ledger).slash_cap(Env(keeper, ledger.now))  # what the window has left
    third = ledger.act(keeper, "engine", "liquidate", c, ETH).event("BadDebtSettled")
    assert third.from_insurance == 0
    assert third.from_safety_module == cap
    assert third.from_pool == third.shortfall - cap > 0


def test_adl__following_ranking_brings_ratio_under_target(make_ledger):
    ledger = make_ledger(default_config(adl_trigger_bps=5_000, adl_target_bps=4_000))
    owner, lp, t1, t2, t3, keeper, short = ledger.actors[:7]
    setup_pool(ledger, lp, 1_000_000 * USD)
    ledger.act(owner, "engine", "setAdlKeeper", keeper, True)
    open_long(ledger, t1, 100, 40_000 * USD)
    open_long(ledger, t2, 100, 70_000 * USD)
    open_long(ledger, t3, 100, 120_000 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 5_000 * FEED)
    engine = ledger.system.c.engine
    env = Env(keeper, ledger.now)

    # Not eligible: a position on the other side, or a losing one, or a too-small ratio.
    ranking = adl_ranking(engine, env, ETH, True)
    assert [c.account for c in ranking] == [t1, t2, t3]  # highest profit % x leverage first
    before = engine.side_profit_ratio(env, ETH, True)
    assert before > 5_000
    emitted = len(engine.log.events)
    plan = adl_plan(engine, env, ETH, True)
    assert [account for account, _ in plan] == [t1, t2, t3][: len(plan)]
    # The plan's trials are undone, events and the planner's ADL grant included (lp is no keeper).
    assert adl_plan(engine, Env(lp, ledger.now), ETH, True) == plan
    assert len(engine.log.events) == emitted and not engine.is_adl_keeper.get(lp, False)
    ledger.require_same_state()
    for account, reduction in plan:
        step = ledger.act(keeper, "engine", "autoDeleverage", account, ETH, reduction).event("AutoDeleveraged")
        assert step.ratio_after_bps < step.ratio_before_bps
    after = engine.side_profit_ratio(Env(keeper, ledger.now), ETH, True)
    assert after <= 4_000
    assert ledger.system.c.engine.market_state(ETH).adl_long_active is False

    # Back under target: ADL is closed again.
    remaining = next(a for a in (t1, t2, t3) if engine.position_of(a, ETH).size)
    closed = ledger.act(keeper, "engine", "autoDeleverage", remaining, ETH, WAD)
    assert closed.error == ("AdlNotTriggered", (ETH, True, after, 5_000))


def test_adl__ineligible_or_not_improving__reverts(make_ledger):
    ledger = make_ledger(default_config(adl_trigger_bps=1_000, adl_target_bps=500))
    owner, lp, winner, late, short, keeper = ledger.actors[:6]
    setup_pool(ledger, lp, 1_000_000 * USD)
    ledger.act(owner, "engine", "setAdlKeeper", keeper, True)
    open_long(ledger, winner, 100, 40_000 * USD)
    ledger.mint_and_approve(short, 10_000 * USD)
    trade(ledger, short, ETH, -2 * WAD, 5_000 * USD, 2_900 * WAD)
    # Below the trigger nothing is eligible.
    quiet = ledger.act(keeper, "engine", "autoDeleverage", winner, ETH, WAD)
    assert quiet.error[0] == "AdlNotTriggered"

    ledger.advance(60)
    ledger.set_price(ETH, 4_500 * FEED)
    ledger.mint_and_approve(late, 10_000 * USD)
    trade(ledger, late, ETH, WAD, 5_000 * USD, 4_600 * WAD)  # enters at the top
    ledger.advance(60)
    ledger.set_price(ETH, 4_400 * FEED)
    engine, env = ledger.system.c.engine, Env(keeper, ledger.now)
    ratio = engine.side_profit_ratio(env, ETH, True)
    assert ratio > 1_000

    # The short side carries no profit: not triggered there.
    assert ledger.act(keeper, "engine", "autoDeleverage", short, ETH, WAD).error == (
        "AdlNotTriggered",
        (ETH, False, 0, 1_000),
    )
    # A losing long on the triggered side is not eligible.
    loser = ledger.act(keeper, "engine", "autoDeleverage", late, ETH, WAD)
    assert loser.error[0] == "AdlNotProfitable" and loser.error[1][:2] == (late, ETH)
    assert loser.error[1][2] < 0
    # One wei of size does not move the ratio (in bps): not an improvement.
    assert ledger.act(keeper, "engine", "autoDeleverage", winner, ETH, 1).error == (
        "AdlNotImproving",
        (ratio, ratio),
    )
    assert ledger.act(keeper, "engine", "autoDeleverage", winner, ETH, 0).error == ("ZeroSize", ())
    ok = ledger.act(keeper, "engine", "autoDeleverage", winner, ETH, 10 * WAD).event("AutoDeleveraged")
    assert ok.oracle_price == 4_400 * WAD and ok.ratio_after_bps < ok.ratio_before_bps == ratio


def test_socialised_loss__pool_cannot_pay_winner_in_full__haircut_recorded(make_ledger):
    ledger = make_ledger(default_config(adl_trigger_bps=10_000, adl_target_bps=9_999))
    owner, lp, winner = ledger.actors[:3]
    setup_pool(ledger, lp, 200_000 * USD)
    open_long(ledger, winner, 50, 20_000 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 8_000 * FEED)
    pool_cash = ledger.system.c.pool.cash
    wallet = ledger.system.c.token.balance_of(winner)

    out = close(ledger, winner, ETH, 0)

    cut, closed = out.event("ProfitHaircut"), out.event("PositionDecreased")
    assert cut.paid == pool_cash  # no open interest left: all cash is free, all of it is paid
    assert cut.haircut == cut.owed - cut.paid > 0
    assert ledger.system.c.engine.socialised_loss == cut.haircut
    assert ledger.system.c.token.balance_of(winner) - wallet == closed.payout - ledger.system.config.execution_fee
    # The fee is credited back after the profit is paid: the pool holds exactly its fee share.
    assert ledger.system.c.pool.cash == out.event("FeesSplit").to_pool


def test_conservation__holds_after_every_step_of_a_mixed_run(make_ledger):
    ledger = make_ledger()
    owner, lp, trader, keeper, staker, backer = ledger.actors[:6]
    setup_pool(ledger, lp, 500_000 * USD)
    stake(ledger, staker, 20_000 * USD)
    ledger.mint_and_approve(backer, 1_000 * USD)
    ledger.act(backer, "insuranceFund", "fund", ETH, 1_000 * USD)
    open_long(ledger, trader, 10, 3_100 * USD)
    ledger.act(trader, "engine", "addMargin", ETH, 100 * USD)
    ledger.advance(3_600)
    ledger.set_price(ETH, 2_300 * FEED)
    ledger.act(keeper, "engine", "liquidate", trader, ETH)
    ledger.act(lp, "pool", "requestRedeem", 10**15)
    ledger.act(staker, "safetyModule", "cooldown")
    ledger.advance(10 * DAY)
    ledger.act(staker, "safetyModule", "redeem", sm(ledger).shares_of(staker))
    ledger.advance(1)
    ledger.act(staker, "safetyModule", "claim", staker)
    # ledger.act checked conservation after each of the steps above; the token's books close too.
    token = ledger.system.c.token
    holders = [*ledger.actors, *ledger.deployment.addresses.by_name().values()]
    assert sum(token.balance_of(h) for h in holders) == token.total_supply
    assert len(ledger.history) > 20


def test_set_adl_params__owner_only_and_bounded(ledger):
    owner, stranger = ledger.actors[0], ledger.actors[5]
    assert ledger.act(stranger, "engine", "setAdlParams", 5_000, 4_000).error == (
        "OwnableUnauthorizedAccount",
        (stranger,),
    )
    assert ledger.act(owner, "engine", "setAdlParams", 0, 0).error == ("InvalidParameter", ("adlTriggerBps", 0))
    assert ledger.act(owner, "engine", "setAdlParams", 10_001, 1).error == (
        "InvalidParameter",
        ("adlTriggerBps", 10_001),
    )
    assert ledger.act(owner, "engine", "setAdlParams", 5_000, 5_000).error == (
        "InvalidParameter",
        ("adlTargetBps", 5_000),
    )
    assert ledger.act(owner, "engine", "setAdlParams", 5_000, 0).error == ("InvalidParameter", ("adlTargetBps", 0))
    assert ledger.act(owner, "engine", "setAdlParams", 8_500, 7_700).event("AdlParamsSet").values() == (8_500, 7_700)
