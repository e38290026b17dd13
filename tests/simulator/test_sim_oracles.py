"""Oracle models on hand-made price series: the on-chain round follows the consumer's rules."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.config import SimConfig
from simulator.oracles import DEGRADED, OK, SEQUENCER, STALE, simulate_oracle

FEED = 10**8


def config(sources, **extra) -> SimConfig:
    data = SimConfig().model_dump() | {"horizon_s": 600, "step_s": 60, "paths": 1}
    data["oracle"] = {"sources": sources} | extra
    return SimConfig.model_validate(data)


def series(*prices: float) -> np.ndarray:
    return np.array([prices], dtype=float)


FLAT_THEN_DROP = series(100, 100, 100, 99.6, 99.6, 99.0, 99.0, 99.0, 99.0, 99.0, 99.0)


def test_push__deviation_triggers__lands_after_latency():
    tl = simulate_oracle(config([dict(deviation_bps=50, latency=dict(seconds=90))]), FLAT_THEN_DROP)
    # 99.6 is a 0.4% move (under 0.5%): nothing; 99.0 at step 5 triggers, lands 2 steps later.
    assert tl.answer[0].tolist() == [100 * FEED] * 7 + [99 * FEED] * 4
    assert tl.lands[0].tolist() == [True] + [False] * 6 + [True] + [False] * 3
    assert tl.updated_at[0, 7] == 7 * 60  # updatedAt is the block the round lands in


def test_push__heartbeat_publishes_without_a_move():
    tl = simulate_oracle(config([dict(deviation_bps=5000, heartbeat_s=180)]), series(*[100.0] * 11))
    assert [s for s in range(11) if tl.lands[0, s]] == [0, 3, 6, 9]


def test_push__congestion_grows_latency_with_the_move():
    calm = simulate_oracle(config([dict(deviation_bps=50, latency=dict(seconds=60))]), FLAT_THEN_DROP)
    congested = simulate_oracle(
        config([dict(deviation_bps=50, latency=dict(seconds=60, congestion=2))]), FLAT_THEN_DROP
    )
    assert calm.lands[0, 6] and not congested.lands[0, 6]
    assert congested.lands[0, 5 + 3]  # 60 s x (1 + 2 x 0.6%) -> 3 steps


def test_frozen_source__stops_publishing__goes_stale_past_max_age():
    data = SimConfig().model_dump() | {"horizon_s": 6000, "step_s": 600, "paths": 1}
    data["oracle"] = {"sources": [dict(deviation_bps=10, frozen_at_s=600)]}
    tl = simulate_oracle(SimConfig.model_validate(data), series(*np.linspace(100, 50, 11)))
    assert not tl.lands[0, 1:].any()
    # the market's oracle_max_age is 4200 s: 4800 s after the last round the price reverts.
    assert [int(b) for b in tl.blocked[0]] == [OK] * 8 + [STALE] * 3


def test_sequencer_outage__nothing_lands_while_down__blocked_through_grace():
    tl = simulate_oracle(
        config([dict(deviation_bps=10)], sequencer=dict(down_at_s=120, duration_s=120, grace_s=120)),
        series(100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90),
    )
    assert [int(x) for x in tl.lands[0]] == [1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert [int(b) for b in tl.blocked[0]] == [OK, OK, SEQUENCER, SEQUENCER, SEQUENCER, SEQUENCER, SEQUENCER] + [OK] * 4


def test_pull__keeper_submits_the_most_adverse_price_within_staleness():
    tl = simulate_oracle(
        config([dict(kind="pull", max_staleness_s=120)]), series(100, 95, 97, 98, 99, 99, 99, 99, 99, 99, 99)
    )
    # at step 3 the window holds 95, 97, 98 (120 s): the keeper posts 95, published at step 1.
    assert tl.answer[0, 3] == 95 * FEED and tl.updated_at[0, 3] == 60
    assert tl.answer[0, 4] == 97 * FEED


def test_median_of_three__stuck_source_outvoted_at_once__the_healthy_pair_carries_the_quorum():
    healthy = dict(deviation_bps=10, heartbeat_s=600, max_age_s=300)
    stuck = healthy | dict(frozen_at_s=60)
    tl = simulate_oracle(
        config([stuck, healthy, healthy], quorum=2, max_spread_bps=300),
        series(100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 90),
    )
    # OracleAdapter: the lower median of (100, p, p) is p, and the two at p agree within 3% of it,
    # so the stuck 100 never holds the market back, even once it is 3.09% away (at 97).
    assert [int(b) for b in tl.blocked[0]] == [OK] * 11
    assert tl.answer[0].tolist() == [p * FEED for p in range(100, 89, -1)]


def test_median_of_two__lower_one__spread_beyond_the_bound_degrades():
    healthy = dict(deviation_bps=10, heartbeat_s=600, max_age_s=300)
    stuck = healthy | dict(frozen_at_s=60)
    falling = simulate_oracle(config([stuck, healthy], quorum=2, max_spread_bps=300), series(*range(100, 89, -1)))
    # the lower of (100, p) is p; 100 agrees with it down to 98 (2.04%), not at 97 (3.09%);
    # 300 s after its last round the stuck source is stale: one fresh source is below quorum.
    assert [int(b) for b in falling.blocked[0]] == [OK] * 3 + [DEGRADED] * 8
    assert falling.answer[0, 2] == 98 * FEED
    rising = simulate_oracle(config([stuck, healthy], quorum=1, max_spread_bps=5000), series(*range(100, 111)))
    # an even count takes the LOWER middle source, no averaging: the stuck 100 while it is fresh.
    assert rising.answer[0].tolist() == [100 * FEED] * 6 + [p * FEED for p in range(106, 111)]


def test_median__below_quorum__degraded():
    source = dict(deviation_bps=10, heartbeat_s=60, max_age_s=100, frozen_at_s=60)
    tl = simulate_oracle(config([source, source, source | {"frozen_at_s": None}], quorum=2), series(*[100.0] * 11))
    assert tl.blocked[0, -1] == DEGRADED


def gap_series(steps: int = 11, gap_at: int = 5) -> np.ndarray:
    """A market that wiggles by 2 bps a step, then gaps down 10% and stays there."""
    wiggle = [100.0 * (1 + 0.0002 * (i % 2)) for i in range(steps)]
    return series(*[p if i < gap_at else p * 0.9 for i, p in enumerate(wiggle)])


def test_push__a_tighter_deviation_threshold_posts_a_gap_no_later():
    """With one round in flight, a 1 bps feed was still waiting for its last wiggle's round when
    the gap came and posted it later than a 50 bps feed; every round is now in flight on its own."""
    prices = gap_series()
    first_gap = {}
    for deviation in (1, 50):
        tl = simulate_oracle(config([dict(deviation_bps=deviation, latency=dict(seconds=120))]), prices)
        first_gap[deviation] = int(np.flatnonzero(tl.answer[0] < 95 * FEED)[0])
    assert first_gap[1] <= first_gap[50] == 5 + 2


def test_newest_landed__out_of_order_rounds():
    """A newer round landing first wins; the older one landing later changes nothing (the feed
    keeps the newest observation)."""
    from simulator.oracles import newest_landed

    published = np.array([[False, True, True, False, False, False, False]])
    land_step = np.array([[0, 6, 3, 0, 0, 0, 0]])  # step 1's round lands at 6, step 2's at 3
    down = np.zeros(7, dtype=bool)
    assert newest_landed(published, land_step, down)[0].tolist() == [0, 0, 0, 2, 2, 2, 2]
    # the sequencer down over steps 3-4: step 2's round lands at 5, then step 1's at 6 is older
    down[3:5] = True
    assert newest_landed(published, land_step, down)[0].tolist() == [0, 0, 0, 0, 0, 2, 2]
    # in order, each lands in turn
    land_step = np.array([[0, 2, 4, 0, 0, 0, 0]])
    assert newest_landed(published, land_step, np.zeros(7, dtype=bool))[0].tolist() == [0, 0, 1, 1, 2, 2, 2]


def test_price_lag__seconds_and_bps_from_the_real_price_at_landing():
    from simulator.oracles import price_lag

    prices = FLAT_THEN_DROP
    tl = simulate_oracle(config([dict(deviation_bps=50, latency=dict(seconds=90))]), prices)
    seconds, bps = price_lag(tl, prices, 60)
    # the 99.0 observed at step 5 lands at step 7: 120 s old, and the chain shows 100 at step 6
    assert seconds[0, 7] == 120 and bps[0, 7] == 0
    assert seconds[0, 6] == 360 and bps[0, 6] == pytest.approx((100 - 99) / 99 * 10_000)
