"""Issue 10, the redemption mark's bound (model only; the differential tests compare it with the chain).

What the pool will really hold from the traders is V = sum_i min(L_i + f_i, m_i): L_i the position's
price loss, f_i the funding it owes (settled plus pending), m_i its margin. The redemption claim
must never exceed it, and must equal it (floored) when no position is beyond its bankruptcy price:

    claim = floor(sum L + sum f) - ceil(longSize (K_long + I - p)^+ / scale)
                                 - ceil(shortSize (p - I - K_short)^+ / scale) - uncoveredDeficit

Random positions on both sides (bankrupt ones included, funding owed both ways) are written straight
into the model's engine through its own aggregate bookkeeping, so the bound K is the engine's.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from difftest.model_only import ETH, ModelDriver, address, model_system
from pymodel.core import Env
from pymodel.engine import Position

WAD = 10**18
PRICE_UNIT = 10**10  # the 8-decimal feed's step in WAD


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


position_strategy = st.tuples(
    st.booleans(),  # long?
    st.integers(10**15, 10**22),  # |size|
    st.integers(1_000, 5_000),  # entry price, whole dollars
    st.integers(1, 10**12),  # margin, 6-decimal units
    st.integers(-(10**11), 10**11),  # settled accrued funding (negative: earned)
    st.integers(-(10**20), 10**20),  # the position's funding index
)


def build(positions: list[tuple], index: int, price_dollars: int, extra_cents: int):
    """A model system with `positions` stored and in the aggregates, the market's funding index at
    `index` (accrued now) and the oracle at price_dollars + extra_cents / 100."""
    system, actors = model_system()
    driver = ModelDriver(system, actors)
    engine = system.c.engine
    m = engine._market(ETH)
    accounts = []
    for i, (is_long, size, entry, margin, accrued, funding_index) in enumerate(positions):
        account = address(i)
        position = Position(
            size=size if is_long else -size,
            entry_price=entry * WAD,
            margin=margin,
            accrued_funding=accrued,
            funding_index=funding_index,
        )
        engine._store(account, ETH, position)
        engine._add_to_aggregates(m, position)
        accounts.append(account)
    m.funding_index = index
    m.last_funding_at = driver.now
    price = price_dollars * WAD + extra_cents * WAD // 100
    assert not driver.set_price(ETH, price // PRICE_UNIT).reverted
    return system, driver, price, accounts


def exact_value_scaled(engine, positions: list[Position], price: int, index: int) -> tuple[int, list[int]]:
    """scale x sum_i min(L_i + f_i, m_i) with L and f exact (no rounding), and each position's
    exact scaled excess L_i + f_i - m_i (> 0: beyond its bankruptcy price)."""
    scale = engine.notional_scale
    total, excesses = 0, []
    for p in positions:
        loss = p.size * (p.entry_price - price)  # longs: size > 0; shorts: size < 0 flips the sign
        funding = p.accrued_funding * scale + p.size * (index - p.funding_index)
        owed = loss + funding
        excesses.append(owed - p.margin * scale)
        total += min(owed, p.margin * scale)
    return total, excesses


def engine_value(engine, positions: list[Position], price: int, index: int) -> int:
    """The same with the engine's own rounding (PnL floored, pending funding rounded up: each at
    least the exact value): sum_i (m_i - max(equity_i, 0)), what closing every position would leave."""
    return sum(p.margin - max(engine._equity(p, price, index), 0) for p in positions)


@given(
    positions=st.lists(position_strategy, min_size=1, max_size=8),
    index=st.integers(-(10**20), 10**20),
    price_dollars=st.integers(500, 6_000),
    extra_cents=st.integers(0, 99),
)
def test_redemption_claim__never_above_what_the_pool_will_hold__equal_when_nobody_is_bankrupt(
    positions, index, price_dollars, extra_cents
):
    system, driver, price, accounts = build(positions, index, price_dollars, extra_cents)
    engine, pool = system.c.engine, system.c.pool
    stored = [engine.position_of(a, ETH) for a in accounts]
    scale = engine.notional_scale
    claim, stale = pool.pool_claim_on_traders(Env(accounts[0], driver.now), False, True)
    deposit, _ = pool.pool_claim_on_traders(Env(accounts[0], driver.now), True, True)
    assert not stale
    value_scaled, excesses = exact_value_scaled(engine, stored, price, index)

    # Never above: not the exact value, nor (a fortiori) what the engine's rounding collects.
    assert claim * scale <= value_scaled
    assert claim <= engine_value(engine, stored, price, index)
    assert claim <= deposit
    # Equal when nobody is beyond bankruptcy: the bound's terms vanish exactly (K rounds toward
    # "more at risk" by less than one price unit, and K + I - p is an integer), so the claim is the
    # floored exact value.
    if all(excess <= 0 for excess in excesses):
        assert claim == value_scaled // scale
    # The engine's per-side bounds are the extreme k over its positions (fresh: nothing closed).
    m = engine._market(ETH)
    ks_long = [
        p.entry_price - p.funding_index - (p.margin * scale - p.accrued_funding * scale) // p.size
        for p in stored
        if p.size > 0
    ]
    ks_short = [
        p.entry_price - p.funding_index + (p.margin * scale - p.accrued_funding * scale) // -p.size
        for p in stored
        if p.size < 0
    ]
    assert m.long_positions == len(ks_long) and m.short_positions == len(ks_short)
    if ks_long:
        assert m.long_bankruptcy_bound == max(ks_long)
    if ks_short:
        assert m.short_bankruptcy_bound == min(ks_short)


@given(
    positions=st.lists(position_strategy, min_size=2, max_size=6),
    index=st.integers(-(10**20), 10**20),
    price_dollars=st.integers(500, 6_000),
)
def test_redemption_claim__stale_bound_only_lowers_it__refresh_restores_the_fresh_one(positions, index, price_dollars):
    """The first position is closed (removed from the aggregates) after the others: the stored bound
    may still be its k (stale), which only lowers the claim; `refreshBankruptcyBound` with the true
    account list restores exactly the claim of a system built without it."""
    system, driver, price, accounts = build(positions, index, price_dollars, 0)
    engine, pool = system.c.engine, system.c.pool
    closed = engine.position_of(accounts[0], ETH)
    engine._remove_from_aggregates(engine._market(ETH), closed)
    engine._store(accounts[0], ETH, Position())
    env = Env(accounts[1], driver.now)
    stale_claim, _ = pool.pool_claim_on_traders(env, False, True)
    fresh_system, fresh_driver, _, _ = build(positions[1:], index, price_dollars, 0)
    fresh_claim, _ = fresh_system.c.pool.pool_claim_on_traders(Env(accounts[1], fresh_driver.now), False, True)
    assert stale_claim <= fresh_claim
    for is_long in (True, False):
        side = sorted(
            (a for a in accounts[1:] if (engine.position_of(a, ETH).size > 0) == is_long), key=lambda a: int(a, 16)
        )
        out = driver.act(accounts[1], "engine", "refreshBankruptcyBound", ETH, is_long, side)
        assert not out.reverted, out.error
    refreshed, _ = pool.pool_claim_on_traders(env, False, True)
    assert refreshed == fresh_claim
