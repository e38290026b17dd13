"""Issue 10, the redemption mark's last gaps (the per-side bankruptcy bound, docs/DESIGN.md "Mark").

1. A side mixing a bankrupt position with a well-margined one: the old cap (the side's margin sum)
   let the solvent margin "cover" the bankrupt excess, so an exit took part of the bad debt.
2. A bankrupt position owing funding: funding was netted per market, so what it owed offset what
   the pool owes the other side.
3. The bound never loosens by itself: a closed max-leverage position leaves it stale (the mark too
   low, a griefing lever); `refreshBankruptcyBound` with the true account list restores it, and
   refuses a missing, duplicate, unsorted, closed or wrong-side account.

Every step runs through `ledger.act` (model == chain: outcome, events, full state, conservation).
"""

from __future__ import annotations

from pool_support import fee, filled, ok

from difftest.orders import close, trade
from pymodel.config import default_config
from pymodel.core import Env
from pymodel.signed_math import mul_div_floor

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
SCALE = 10**30
V = 10**6  # virtual shares


def open_long_or_short(ledger, trader: str, size: int, margin: int) -> None:
    ledger.mint_and_approve(trader, margin + 2 * fee(ledger))
    filled(trade(ledger, trader, ETH, size, margin, 2**256 - 1 if size > 0 else 0))


def index_now(ledger, env: Env) -> int:
    engine = ledger.system.c.engine
    p, m = engine._listed(ETH)
    price = engine.oracle.price(env, ETH)
    return engine._current_funding_index(env, p, m, price)[1]


def value_held(ledger, env: Env, traders: list[str]) -> int:
    """sum_i min(L_i + f_i, m_i) = sum_i (m_i - max(equity_i, 0)), enumerated over the positions at the
    engine's rounding (the pool collects at least this on closing them all at the oracle)."""
    engine = ledger.system.c.engine
    return sum(
        engine.position_of(t, ETH).margin - max(engine.equity(env, t, ETH), 0)
        for t in traders
        if engine.position_of(t, ETH).size != 0
    )


def old_redemption_claim(ledger, env: Env) -> int:
    """The replaced rule: each side's loss capped at its margin sum (then an engine aggregate), only
    net funding the pool owes."""
    engine = ledger.system.c.engine
    m = engine.market_state(ETH)
    price = engine.oracle.price(env, ETH)
    index = index_now(ledger, env)
    long_loss = mul_div_floor(m.long_entry_notional - m.long_size * price, 1, SCALE)
    short_loss = mul_div_floor(m.short_size * price - m.short_entry_notional, 1, SCALE)
    owed = mul_div_floor((m.long_size - m.short_size) * index - m.sum_size_times_index, 1, SCALE)
    owed += m.accrued_funding_total
    margins = [p.margin for (_, mk), p in engine.s.positions.items() if mk == ETH]
    sides = [p.size > 0 for (_, mk), p in engine.s.positions.items() if mk == ETH]
    long_margin = sum(margin for margin, is_long in zip(margins, sides, strict=True) if is_long)
    short_margin = sum(margin for margin, is_long in zip(margins, sides, strict=True) if not is_long)
    return min(long_loss, long_margin) + min(short_loss, short_margin) + min(owed, 0)


def liquidate_fully(ledger, keeper: str, trader: str) -> None:
    while ledger.system.c.engine.position_of(trader, ETH).size != 0:
        ok(ledger.act(keeper, "engine", "liquidate", trader, ETH))
        ledger.advance(30)


def lp_setup(make_ledger):
    config = default_config(insurance_share_bps=0, safety_module_share_bps=0, redeem_cooldown=60, redeem_window=3_600)
    ledger = make_ledger(config)
    owner, attacker, victim = ledger.actors[:3]
    for lp, amount in ((attacker, 6_000_000 * USD), (victim, 4_000_000 * USD)):
        ledger.mint_and_approve(lp, amount)
        ok(ledger.act(lp, "pool", "deposit", amount, lp))
    return ledger, attacker, victim


def exit_before_keeper(ledger, attacker: str, victim: str, keeper: str, bankrupt: str) -> tuple[int, int, int, int]:
    """The attacker claims its whole (already requested) shares while `bankrupt` is still open; the
    keeper then liquidates it. Returns (paid, shares claimed, victim's value after, victim's shares)."""
    c = ledger.system.c
    shares_a, shares_b = c.pool.redeem_request_of(attacker)[0], c.pool.balance_of(victim)
    paid = ok(ledger.act(attacker, "pool", "redeem", shares_a, attacker, attacker)).return_value
    liquidate_fully(ledger, keeper, bankrupt)
    value_b = c.pool.preview_redeem(Env(victim, ledger.now), shares_b)
    return paid, shares_a, value_b, shares_b


def test_pool_exit__bankrupt_long_beside_a_well_margined_long__takes_no_part_of_the_bad_debt(make_ledger):
    ledger, attacker, victim = lp_setup(make_ledger)
    trader, keeper, cover = ledger.actors[3], ledger.actors[4], ledger.actors[5]
    c = ledger.system.c
    ok(ledger.act(attacker, "pool", "requestRedeem", c.pool.balance_of(attacker)))
    open_long_or_short(ledger, trader, 666 * WAD, 212_000 * USD)  # $2M long, ~10x
    # The attacker's own well-margined long on the same side: under the old rule its spare margin
    # "covered" the other long's excess loss in the side's margin cap.
    open_long_or_short(ledger, cover, 100 * WAD, 250_000 * USD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_550 * FEED)
    env = Env(keeper, ledger.now)
    assert c.engine.equity(env, trader, ETH) < -80_000 * USD  # bankrupt, the keeper not yet there
    held = value_held(ledger, env, [trader, cover])
    claim, _ = c.pool.pool_claim_on_traders(env, False, True)
    assert claim <= held
    assert old_redemption_claim(ledger, env) - held > 80_000 * USD  # the hole the old cap left
    paid, shares_a, value_b, shares_b = exit_before_keeper(ledger, attacker, victim, keeper, trader)
    # Per share, the early leaver got no more than the LP who stayed through the liquidation.
    assert paid * shares_b <= value_b * shares_a + shares_a + shares_b


def test_pool_exit__bankrupt_long_owing_funding__its_funding_offsets_nothing_the_pool_owes(make_ledger):
    ledger, attacker, victim = lp_setup(make_ledger)
    trader, keeper, short = ledger.actors[3], ledger.actors[4], ledger.actors[5]
    c = ledger.system.c
    open_long_or_short(ledger, trader, 666 * WAD, 212_000 * USD)
    open_long_or_short(ledger, short, -100 * WAD, 60_000 * USD)
    # Half a day at the full long skew (10% a day): the long owes ~$100k of funding, the short
    # earns ~$15k from the pool.
    ledger.advance(12 * 3_600)
    ledger.set_price(ETH, 2_700 * FEED)
    env = Env(keeper, ledger.now)
    assert c.engine.equity(env, trader, ETH) < -50_000 * USD
    ok(ledger.act(attacker, "pool", "requestRedeem", c.pool.balance_of(attacker)))
    ledger.advance(60)
    ledger.set_price(ETH, 2_700 * FEED)
    env = Env(keeper, ledger.now)
    held = value_held(ledger, env, [trader, short])
    claim, _ = c.pool.pool_claim_on_traders(env, False, True)
    assert held - 2 <= claim <= held  # one bankrupt position alone on its side: the bound is exact
    old = old_redemption_claim(ledger, env)
    assert old - held > 3_000 * USD  # the netted funding overstated it
    shares_a, supply, cash = c.pool.redeem_request_of(attacker)[0], c.pool.total_supply, c.pool.cash

    def payout(traders_value: int) -> int:
        return shares_a * (cash + traders_value + 1) // (supply + V)

    paid = ok(ledger.act(attacker, "pool", "redeem", shares_a, attacker, attacker)).return_value
    # No more than its share of what the pool will hold at the oracle; the old mark paid more.
    assert paid <= payout(held)
    assert payout(old) - paid > 1_500 * USD


def sorted_accounts(*accounts: str) -> list[str]:
    return sorted(accounts, key=lambda a: int(a, 16))


def test_refresh_bound__closed_max_leverage_long_lowered_the_mark__refresh_restores_it_and_refuses_bad_lists(
    make_ledger,
):
    ledger, attacker, victim = lp_setup(make_ledger)
    honest_a, honest_b, short, grief, keeper = ledger.actors[3:8]
    c = ledger.system.c
    open_long_or_short(ledger, honest_a, 60 * WAD, 60_000 * USD)
    open_long_or_short(ledger, honest_b, 40 * WAD, 40_000 * USD)
    open_long_or_short(ledger, short, -20 * WAD, 20_000 * USD)
    fair_bound = c.engine.market_state(ETH).long_bankruptcy_bound
    # The griefer: a max-leverage long opened and closed, which leaves the longs' bound at its k.
    open_long_or_short(ledger, grief, 10 * WAD, 3_060 * USD)
    ok(close(ledger, grief, ETH, 0))
    assert c.engine.position_of(grief, ETH).size == 0
    m = c.engine.market_state(ETH)
    assert m.long_positions == 2 and m.long_bankruptcy_bound > fair_bound + 600 * WAD
    # A dip under the griefer's (gone) bankruptcy price, far above the honest longs' ones.
    ledger.set_price(ETH, 2_600 * FEED)
    env = Env(keeper, ledger.now)
    traders = [honest_a, honest_b, short]
    assert all(c.engine.equity(env, t, ETH) > 0 for t in traders)  # nobody is bankrupt
    held = value_held(ledger, env, traders)
    stale_claim, _ = c.pool.pool_claim_on_traders(env, False, True)
    assert stale_claim < held - 5_000 * USD  # too low (never too high): redemptions priced low
    value_before = c.pool.preview_redeem(env, c.pool.balance_of(victim))

    longs = sorted_accounts(honest_a, honest_b)
    refused = {
        "missing": ([longs[0]], ("BoundAccountCount", (1, 2))),
        "duplicate": ([longs[0], longs[0]], ("BoundAccountInvalid", (1, longs[0]))),
        "unsorted": ([longs[1], longs[0]], ("BoundAccountInvalid", (1, longs[0]))),
        "wrong side": (sorted_accounts(longs[0], short), None),
        "closed": (sorted_accounts(longs[0], grief), None),
    }
    for name, (accounts, error) in refused.items():
        out = ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, accounts)
        assert out.reverted, name
        if error is None:
            bad = next(a for a in accounts if a not in longs)
            error = ("BoundAccountInvalid", (accounts.index(bad), bad))
        assert out.error == error, name
    out = ledger.act(keeper, "engine", "refreshBankruptcyBound", 99, True, [])
    assert out.error == ("MarketNotListed", (99,))

    refreshed = ok(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, True, longs))
    event = refreshed.event("BankruptcyBoundRefreshed")
    assert (event.market_id, event.is_long, event.bound) == (ETH, True, fair_bound)
    assert c.engine.market_state(ETH).long_bankruptcy_bound == fair_bound
    env = Env(keeper, ledger.now)
    fair_claim, _ = c.pool.pool_claim_on_traders(env, False, True)
    # Nobody beyond bankruptcy and the bound fresh: the claim is what the pool will hold (the
    # exact value floored; the engine's own rounding collects at most a unit more per term).
    assert fair_claim <= held <= fair_claim + 2 * len(traders)
    assert c.pool.preview_redeem(env, c.pool.balance_of(victim)) > value_before
    # The shorts' side, refreshed with its one account, keeps its (exact) bound.
    short_bound = c.engine.market_state(ETH).short_bankruptcy_bound
    ok(ledger.act(keeper, "engine", "refreshBankruptcyBound", ETH, False, [short]))
    assert c.engine.market_state(ETH).short_bankruptcy_bound == short_bound
