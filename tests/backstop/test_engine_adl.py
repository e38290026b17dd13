"""Issue 10 item 5: ADL by the published rule (SPEC §7). ADL keepers only (owner-set), never on
their own position; open above the trigger, or above the target once triggered, closed at or below
the target whatever brought the ratio there; each step's event carries the ranking score and
`pymodel.adl.audit_adl` reports steps that skipped a higher-ranked position. Haircuts on profits
the pool cannot pay are shared pro rata among the side's winners (not first come, first served)."""

from __future__ import annotations

import copy

from engine_support import ETH, FEED, USD, WAD, open_position, setup_pool, succeeded

from difftest.orders import close
from pymodel.adl import adl_plan, adl_ranking, audit_adl
from pymodel.config import default_config
from pymodel.core import Env


def three_winners(make_ledger):
    """Three 100 ETH longs at 3,000 with different margins against a 1M pool; ETH at 5,000 puts
    the long side's profit over the 50% trigger."""
    ledger = make_ledger(default_config(adl_trigger_bps=5_000, adl_target_bps=4_000))
    owner, lp, t1, t2, t3, keeper = ledger.actors[:6]
    setup_pool(ledger, lp, 1_000_000 * USD)
    for trader, margin in ((t1, 40_000), (t2, 70_000), (t3, 120_000)):
        open_position(ledger, trader, 100 * WAD, margin * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 5_000 * FEED)
    return ledger, owner, keeper, (t1, t2, t3)


def test_adl__without_the_role_or_on_own_position__refused(make_ledger):
    ledger, owner, keeper, (t1, t2, t3) = three_winners(make_ledger)
    # The attack: any caller deleveraging any profitable position (its own included) for free.
    assert ledger.act(t2, "engine", "autoDeleverage", t1, ETH, 10 * WAD).error == ("NotAdlKeeper", (t2,))
    assert ledger.act(t1, "engine", "autoDeleverage", t1, ETH, 100 * WAD).error == ("NotAdlKeeper", (t1,))
    assert ledger.act(t1, "engine", "setAdlKeeper", t1, True).error[0] == "OwnableUnauthorizedAccount"
    # Even an ADL keeper may not close its own position without spread and fee.
    succeeded(ledger.act(owner, "engine", "setAdlKeeper", t1, True))
    assert ledger.act(t1, "engine", "autoDeleverage", t1, ETH, 100 * WAD).error == ("AdlOwnPosition", (t1,))
    succeeded(ledger.act(owner, "engine", "setAdlKeeper", t1, False))
    assert ledger.act(t1, "engine", "autoDeleverage", t2, ETH, WAD).error == ("NotAdlKeeper", (t1,))
    assert all(ledger.system.c.engine.position_of(t, ETH).size == 100 * WAD for t in (t1, t2, t3))


def test_adl__ratio_back_under_target_by_itself__flag_cleared_no_reopen_below_trigger(make_ledger):
    ledger, owner, keeper, (t1, t2, t3) = three_winners(make_ledger)
    # (the model's contracts are re-read after every action: a revert restores a saved copy)
    succeeded(ledger.act(owner, "engine", "setAdlKeeper", keeper, True))
    # One step leaves the side above the target: ADL stays open (flag set).
    step = succeeded(ledger.act(keeper, "engine", "autoDeleverage", t1, ETH, 20 * WAD)).event("AutoDeleveraged")
    assert step.ratio_after_bps > 4_000 and ledger.system.c.engine.market_state(ETH).adl_long_active
    # The price falls back: the ratio is under the target by itself. ADL is closed at once.
    ledger.set_price(ETH, 3_900 * FEED)
    ratio = ledger.system.c.engine.side_profit_ratio(Env(keeper, ledger.now), ETH, True)
    assert ratio <= 4_000
    assert ledger.act(keeper, "engine", "autoDeleverage", t2, ETH, WAD).error == (
        "AdlNotTriggered",
        (ETH, True, ratio, 4_000),
    )
    # Anyone records it: the flag clears.
    synced = succeeded(ledger.act(t3, "engine", "syncAdl", ETH, True)).event("AdlFlagSynced")
    assert (synced.ratio_bps, synced.active) == (ratio, False)
    assert not ledger.system.c.engine.market_state(ETH).adl_long_active
    # The reopening: back between target and trigger (the issue measured 4,615 bps) is not enough.
    ledger.set_price(ETH, 4_100 * FEED)
    between = ledger.system.c.engine.side_profit_ratio(Env(keeper, ledger.now), ETH, True)
    assert 4_000 < between <= 5_000
    assert ledger.act(keeper, "engine", "autoDeleverage", t2, ETH, WAD).error == (
        "AdlNotTriggered",
        (ETH, True, between, 5_000),
    )
    # syncAdl does not set the flag below the trigger either.
    assert not succeeded(ledger.act(t3, "engine", "syncAdl", ETH, True)).event("AdlFlagSynced").active


def test_adl__event_score_is_the_ranking_score__audit_reports_skipped_positions(make_ledger):
    ledger, owner, keeper, (t1, t2, t3) = three_winners(make_ledger)
    engine = ledger.system.c.engine
    succeeded(ledger.act(owner, "engine", "setAdlKeeper", keeper, True))
    ranking = adl_ranking(engine, Env(keeper, ledger.now), ETH, True)
    assert [c.account for c in ranking] == [t1, t2, t3]
    assert ranking[0].score > ranking[1].score > ranking[2].score > 0

    # A keeper that skips the ranking: t3 (the lowest) first.
    replay = []
    before = copy.deepcopy(engine)
    out = succeeded(ledger.act(keeper, "engine", "autoDeleverage", t3, ETH, 10 * WAD))
    skipped = out.event("AutoDeleveraged")
    assert skipped.score == ranking[2].score  # the score on chain is the model's ranking score
    replay.append((before, Env(keeper, ledger.now), skipped))
    # Then one that follows it.
    plan = adl_plan(engine, Env(keeper, ledger.now), ETH, True)
    assert plan and plan[0][0] == t1
    before = copy.deepcopy(engine)
    followed = succeeded(ledger.act(keeper, "engine", "autoDeleverage", plan[0][0], ETH, plan[0][1]))
    replay.append((before, Env(keeper, ledger.now), followed.event("AutoDeleveraged")))

    skips = audit_adl(replay)
    assert [(s.step, s.account, s.skipped) for s in skips] == [(0, t3, t1), (0, t3, t2)]
    assert all(s.skipped_score > s.score for s in skips)
    # A forged score (an event that does not match the model) is reported against itself.
    forged = (replay[1][0], replay[1][1], type(replay[1][2])(*{**replay[1][2].__dict__, "score": 1}.values()))
    assert [(s.account, s.skipped) for s in audit_adl([forged])] == [(t1, t1)]


def test_haircut__two_identical_winners__first_to_close_not_paid_more(make_ledger):
    # ADL far away: the pool's free cash, not ADL, limits what winners are paid.
    ledger = make_ledger(default_config(adl_trigger_bps=10_000, adl_target_bps=9_999))
    owner, lp, w1, w2 = ledger.actors[:4]
    setup_pool(ledger, lp, 200_000 * USD)
    open_position(ledger, w1, 25 * WAD, 10_000 * USD)
    open_position(ledger, w2, 25 * WAD, 10_000 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 8_000 * FEED)
    token = ledger.system.c.token

    paid = []
    for winner in (w1, w2):
        wallet = token.balance_of(winner)
        fee = ledger.system.c.order_router.execution_fee  # escrowed with the close order, paid to the keeper
        out = succeeded(close(ledger, winner, ETH, 0))
        cut = out.event("ProfitHaircut")
        assert cut.haircut > 0 and cut.paid + cut.haircut == cut.owed
        paid.append((cut.paid, token.balance_of(winner) - wallet + fee))
    (first_profit, first_payout), (second_profit, second_payout) = paid
    # First come, first served paid the first in full (125k) and left the second ~60k: now the
    # first is paid its pro-rata share and the second at least as much.
    assert first_profit <= second_profit and first_payout <= second_payout
    assert ledger.system.c.engine.socialised_loss > 0
