"""Issue 19, item 3: the slash cap holds on every `slashWindow`-long interval, not per fixed window.

Property: over random sequences of slashes (timed at window edges, bucket edges and anywhere),
stakes and fee rewards, a brute force over every interval (difftest.slash_intervals) finds no
interval where the slashes took more than `maxSlashBps` of a share's value or of the assets held
at its start plus what joined. Run on the model (the ledger tests and the stateful machine hold
model == chain for the same code)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from difftest.slash_intervals import Step, most_taken_bps, violations
from pymodel.core import Env, EventLog
from pymodel.erc20 import MockStablecoin
from pymodel.safety_module import CHECKPOINTS, SafetyModule

USD = 10**6
BPS = 10_000
HOUR = 3_600
OWNER, ENGINE, STAKER = "0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20


def module(window: int, bps: int) -> tuple[SafetyModule, MockStablecoin]:
    log = EventLog()
    token = MockStablecoin("0x" + "aa" * 20, log, "Mock USD", "mUSD", 6)
    sm = SafetyModule("0x" + "bb" * 20, log, token, OWNER, 600, 3_600, bps, window, 600)
    sm.set_engine(Env(OWNER, 0), ENGINE)
    for who in (STAKER, ENGINE):
        token.mint(Env(who, 0), who, 10**30)
        token.approve(Env(who, 0), sm.address, 2**256 - 1)
    return sm, token


def run(sm: SafetyModule, ops: list[tuple[int, str, int]], t0: int = 10**6) -> tuple[list[Step], int]:
    """Applies (advance, kind, amount) ops; returns the module's steps as the events give them."""
    now, steps = t0, []
    for advance, kind, amount in ops:
        now += advance
        before = sm.total_assets
        if kind == "stake" and amount:
            sm.stake(Env(STAKER, now), amount)
            steps.append(Step(now, "in", amount, before))
        elif kind == "reward":
            sm.deposit_reward(Env(ENGINE, now), amount)
            steps.append(Step(now, "in", amount, before))
        elif kind == "slash":
            # A shortfall of `amount` bps of the assets (up to all of them, and far past).
            slashed = sm.slash(Env(ENGINE, now), before * amount // BPS + 1)
            assert slashed * BPS <= sm.max_slash_bps * before  # each slash: at most bps of the assets now
            steps.append(Step(now, "slash", slashed, before))
    return steps, now


def edges(window: int) -> st.SearchStrategy[int]:
    span = -(-window // (CHECKPOINTS - 1))
    picks = [0, 0, 1, window - 1, window, window + 1, span - 1, span, span + 1, window // 2]
    return st.one_of(st.sampled_from(picks), st.integers(0, 2 * window))


@st.composite
def sequences(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, str, int]]]:
    window = draw(st.sampled_from([HOUR, 7 * 24 * HOUR, 3 * HOUR + 17]))
    bps = draw(st.sampled_from([100, 3_000, 5_000]))
    ops = [(0, "stake", draw(st.integers(1, 10**6)) * USD)]
    for _ in range(draw(st.integers(1, 24))):
        kind = draw(st.sampled_from(["slash", "slash", "slash", "stake", "reward"]))
        amount = draw(st.integers(1, 20_000)) if kind == "slash" else draw(st.integers(0, 10**5)) * USD
        ops.append((draw(edges(window)), kind, amount))
    return window, bps, ops


@settings(max_examples=300, deadline=None)
@given(sequences())
def test_slash_cap__every_interval__at_most_max_slash_bps(case) -> None:
    window, bps, ops = case
    sm, _ = module(window, bps)
    steps, now = run(sm, ops)
    assert violations(steps, window, bps, now) == []
    taken, base = most_taken_bps(steps, window)
    assert taken * BPS <= bps * base


def test_slash_cap__30pct_one_second_before_a_window_end_then_30pct_at_it__30pct_in_2s() -> None:
    """The issue's 51% in 2 s: a small slash opens the old window, 30% a second before its end,
    30% of the rest at the end. Now the two seconds take 30% of what they started with."""
    week = 7 * 24 * HOUR
    sm, _ = module(week, 3_000)
    steps, _ = run(sm, [(0, "stake", 100_000 * USD), (0, "slash", 1), (week - 1, "slash", 10_000)])
    before = steps[2].assets  # the assets one second before the old window's end
    steps += run(sm, [(1, "slash", 10_000)], t0=10**6 + week - 1)[0]
    taken = steps[2].amount + steps[3].amount
    # The old code took 30% of the rest at the edge; now only the first slash's 0.01% comes back.
    assert steps[3].amount == steps[1].amount * 7 // 10
    assert taken == before * 3_000 // BPS
    assert sm.total_assets * BPS >= before * 7_000  # 51% would have left 49,000 of 100,000


def test_slash_cap__a_slash_leaves_the_window__its_share_comes_back_exactly_then() -> None:
    sm, _ = module(HOUR, 3_000)
    run(sm, [(0, "stake", 10_000 * USD), (0, "slash", 10_000)])  # 3,000 taken at t0
    t0 = 10**6
    assert sm.slash_cap(Env(ENGINE, t0 + HOUR - 1)) == 0
    assert sm.slash_cap(Env(ENGINE, t0 + HOUR)) == 7_000 * USD * 3_000 // BPS
