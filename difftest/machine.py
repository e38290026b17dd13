"""Stateful differential fuzzing: a Hypothesis RuleBasedStateMachine over every action.

LPs deposit, request, claim and cancel redemptions; stakers stake, cool down, exit and claim;
traders open, increase, decrease and close through two-step orders (submitted, then executed by
a keeper at a later round, cancelled by the engine's refusal, expired and cancelled) and move
margin; the oracle gets new rounds with any
delay (stale by one second included) and gaps; time passes; keepers liquidate and
auto-deleverage; the owner changes parameters. Every action runs through `Ledger.act`, so after
each step model and chain must agree on the outcome, the ordered events and the full state, and
conservation and waterfall order must hold. Invariants below add share accounting and the
engine's aggregates recomputed from positions.

Rules draw intentions (a fraction, a leverage, an edge kind) and size them from the model's
state, biased to edges: exactly at the liquidation or bankruptcy price (and one wei off), slash
cap reached, empty buckets, 1-wei amounts, maximum leverage, an oracle stale by one second.

Each example starts from the same funded deployment: the chain is reverted to an EVM snapshot
and the model is a fresh copy of the funded model.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chainio import ChainRevert
from difftest.engine_rules import preview_then_liquidate
from difftest.ledger import Action, Ledger, ParityError
from difftest.machine_sm import SafetyModuleRules
from difftest.orders import reason_name
from difftest.snapshots import ChainSnapshot
from pymodel.adl import adl_plan
from pymodel.config import SourceConfig, SystemConfig, default_config, default_market
from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.evm import UINT256_MAX
from pymodel.fixed_point import mul_div_down
from pymodel.oracle_adapter import MarkStatus
from pymodel.system import pyth_price_id as pyth_id
from pymodel.system import snake_case, source_specs

USD = 10**6
WAD = 10**18
BPS = 10_000
SCALE = 10**30  # 6-decimal collateral: size x price / SCALE = collateral units
MARKETS = (1, 2)
MAX_AGE = 3_600 + 600
BATCH = 16  # actions per block at most
INT64_MAX = 2**63 - 1


# ETH's mark (issue 11): two 18-decimal Chainlink-style feeds and an 8-decimal Pyth price,
# quorum 2, 1% spread around the median; BTC keeps a single feed.
ETH_SOURCES = (
    SourceConfig(kind="chainlink", decimals=18, max_age=MAX_AGE, initial_answer=3_000 * WAD),
    SourceConfig(kind="chainlink", decimals=18, max_age=MAX_AGE, initial_answer=3_000 * WAD),
    SourceConfig(kind="pyth", decimals=8, max_age=MAX_AGE, initial_answer=3_000 * 10**8),
)
ETH_SPREAD_BPS = 100


def fuzz_config() -> SystemConfig:
    """18-decimal feeds (every WAD price is expressible, so edges are exact) and short
    cooldowns (exits happen within a sequence). ETH's mark is the median of three sources."""
    markets = [
        default_market(
            1,
            "ETH-USD",
            3_000,
            6,
            feed_decimals=18,
            initial_answer=3_000 * WAD,
            sources=ETH_SOURCES,
            oracle_quorum=2,
            oracle_max_spread_bps=ETH_SPREAD_BPS,
        ),
        default_market(2, "BTC-USD", 60_000, 6, feed_decimals=18, initial_answer=60_000 * WAD),
    ]
    return default_config(
        markets=markets,
        redeem_cooldown=300,
        redeem_window=3_600,
        safety_module_cooldown=600,
        safety_module_unstake_window=3_600,
        # Low enough that a 20-30% move on a few positions opens ADL within a sequence.
        adl_trigger_bps=100,
        adl_target_bps=50,
    )


class FuzzWorld:
    """One funded deployment, reused by every example through an EVM snapshot."""

    def __init__(self, project: Any, accounts: Any, rpc: Any, registry: Any, genesis: int, vectors_dir: str) -> None:
        actors = [account.address for account in accounts[:8]]
        self.rpc = rpc
        self.vectors_dir = vectors_dir
        ledger = Ledger.deploy(project, accounts[0], actors, fuzz_config(), rpc, registry, genesis)
        owner, lp1, lp2, staker, *traders, keeper = actors
        for actor in actors:
            ledger.mint_and_approve(actor, 10_000_000 * USD)
        ledger.act(lp1, "pool", "deposit", 2_000_000 * USD, lp1)
        ledger.act(lp2, "pool", "deposit", 1_000_000 * USD, lp2)
        ledger.act(staker, "safetyModule", "stake", 50_000 * USD)
        ledger.act(owner, "insuranceFund", "fund", 1, 5_000 * USD)
        ledger.act(owner, "insuranceFund", "fund", 2, 5_000 * USD)
        ledger.act(owner, "engine", "setAdlKeeper", keeper, True)
        self.base = ledger
        self.base_system = copy.deepcopy(ledger.system)
        self.base_now = ledger.now
        self.snapshot = ChainSnapshot(rpc)  # restored with nothing queued (difftest/snapshots.py)
        self.examples = 0
        self.steps = 0  # transactions
        self.rules_per_example: list[int] = []
        self.outcomes: Counter[str] = Counter()  # "function ok" / "function Error" / key events

    def summary(self) -> str:
        # Examples Hypothesis abandons before the first step report -1: not sequences.
        runs = sorted(r for r in self.rules_per_example if r >= 0) or [0]
        notable = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()) if k.startswith("event"))
        return (
            f"{len(runs)} sequences ({min(runs)}-{max(runs)} steps, median {runs[len(runs) // 2]}, "
            f"{sum(runs)} in all), "
            f"{self.steps} transactions, "
            f"{sum(v for k, v in self.outcomes.items() if ' ok' in k)} succeeded; {notable}"
        )

    def fresh_ledger(self) -> Ledger:
        self.snapshot.restore()
        ledger = Ledger(
            self.base.deployment, copy.deepcopy(self.base_system), self.rpc, self.base.actors, self.base.multicall
        )
        ledger.now = self.base_now
        # The funding steps are part of every example: a regression vector must replay them too.
        ledger.history = list(self.base.history)
        # Actions at the same time share a block (compared per block, replayed one by one on a
        # difference: see difftest.ledger); `teardown` mines the last one.
        ledger.batch = BATCH
        self.examples += 1
        return ledger


fractions = st.one_of(st.sampled_from([0, 1, BPS // 2, BPS - 1, BPS]), st.integers(0, BPS))
usd_amounts = st.one_of(st.sampled_from([0, 1, USD, 100_000 * USD]), st.integers(1, 500_000 * USD))
delays = st.one_of(st.sampled_from([0, 1, MAX_AGE - 1, MAX_AGE, MAX_AGE + 1]), st.integers(0, 2 * MAX_AGE))
advances = st.one_of(st.sampled_from([1, 30, 301, 601, 3_600, MAX_AGE, MAX_AGE + 1]), st.integers(1, 4_000))


class LedgerMachine(SafetyModuleRules, RuleBasedStateMachine):
    """Set `world` before running (see tests/fuzz)."""

    world: ClassVar[FuzzWorld]

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self.world.fresh_ledger()
        actors = self.ledger.actors
        self.owner, self.lps, self.stakers = actors[0], actors[1:3], actors[2:4]
        self.traders, self.keeper = actors[4:7], actors[7]
        self.rules_run = -1  # the first invariant check runs before any rule

    # Plumbing

    @property
    def c(self) -> Any:
        return self.ledger.system.c

    def env(self, sender: str | None = None) -> Env:
        return Env(sender or self.keeper, self.ledger.now)

    def act(self, sender: str, contract: str, function: str, *args: Any) -> Any:
        self.world.steps += 1
        fair = self.fair_exit_value(args[0]) if (contract, function) == ("pool", "redeem") else None
        try:
            outcome = self.ledger.act(sender, contract, function, *args)
        except ParityError as error:
            if current_build_context().is_final:  # the shrunk example: keep it as a regression vector
                from difftest.vectors import save_regression

                # Batched, the difference may lie in an earlier action of the block: the error names it.
                failing = error.action or Action(sender, contract, function, args, self.ledger.now)
                description = "stateful fuzzing: first model/chain difference"
                save_regression(self.ledger, self.world.vectors_dir, description, failing=failing)
            raise
        self.world.outcomes[f"{function} {outcome.error[0] if outcome.reverted else 'ok'}"] += 1
        if cancelled := outcome.events_named("OrderCancelled"):
            self.world.outcomes[f"{function} cancelled {reason_name(cancelled[0].reason)}"] += 1
        for event in (
            "Liquidated",
            "BadDebtSettled",
            "Slashed",
            "AutoDeleveraged",
            "ProfitHaircut",
            "DeficitUncovered",
        ):
            if outcome.events_named(event):
                self.world.outcomes[f"event {event}"] += 1
        self.check_exit(outcome, fair)
        return outcome

    # Pool and safety-module invariants (issue 10), checked around the actions they are about

    def fair_exit_value(self, shares: int) -> int | None:
        """`shares`' part of what the pool will hold once every open position is closed at the oracle
        and each loser pays at most its margin (pending bad debt written off, its funding included).
        The pool's per-side bound (docs/DESIGN.md, "Mark") is never above it, so the check is strict
        everywhere. None while a market has no valid price (the claim reverts then)."""
        engine, pool, env = self.c.engine, self.c.pool, self.env()
        value = pool.cash
        for market in MARKETS:
            for (account, mk), p in engine.s.positions.items():
                if mk != market or p.size == 0:
                    continue
                try:
                    equity = engine.equity(env, account, market)
                except Revert:
                    return None
                # The pool's claim on the position: its loss and funding up to its margin.
                value += p.margin - max(equity, 0)
        value = max(value, 0)
        return mul_div_down(shares, value + 1, pool.total_supply + 10**6)

    def check_exit(self, outcome: Any, fair: int | None) -> None:
        """No exit takes more than its share of the value the pool will hold after pending bad debt."""
        if fair is None or outcome.reverted:
            return
        paid = outcome.return_value
        assert paid <= fair, f"an exit took {paid}, more than its fair share {fair}"

    def price(self, market: int) -> int:
        return max(1, self.c.feeds[market].latest_round_data().answer)  # 18-decimal feeds: WAD

    def position(self, trader: str, market: int) -> Any:
        return self.c.engine.position_of(trader, market)

    def bound_of(self, p: Any) -> int:
        """A position's own k (MarketAccounting._includeInBound), recomputed here with Python's floor."""
        cushion = (p.margin - p.accrued_funding) * self.c.engine.notional_scale // abs(p.size)
        return p.entry_price - p.funding_index + (-cushion if p.size > 0 else cushion)

    def has_positions(self) -> bool:
        return bool(self.c.engine.s.positions)

    def pick_position(self, pick: int) -> tuple[str, int]:
        """An open position if any (the drawn index picks among them), else a drawn slot."""
        open_ = [(t, m) for t in self.traders for m in MARKETS if self.position(t, m).size != 0]
        if open_:
            return open_[pick % len(open_)]
        return self.traders[pick % len(self.traders)], MARKETS[pick % 2]

    # LPs

    @rule(lp=st.integers(0, 1), amount=usd_amounts)
    def deposit(self, lp: int, amount: int) -> None:
        self.act(self.lps[lp], "pool", "deposit", amount, self.lps[lp])

    @rule(lp=st.integers(0, 1), fraction=fractions)
    def request_redeem(self, lp: int, fraction: int) -> None:
        who = self.lps[lp]
        self.act(who, "pool", "requestRedeem", self.c.pool.balance_of(who) * fraction // BPS)

    @rule(lp=st.integers(0, 1), fraction=fractions)
    def redeem(self, lp: int, fraction: int) -> None:
        who = self.lps[lp]
        pending, _, _ = self.c.pool.redeem_request_of(who)
        self.act(who, "pool", "redeem", pending * fraction // BPS, who, who)

    @rule(lp=st.integers(0, 1), amount=usd_amounts)
    def max_views_mean_what_they_say(self, lp: int, amount: int) -> None:
        """ERC-4626 conformance (issue 10 item 9): a claim of exactly `maxRedeem` succeeds and one
        share more reverts; `maxDeposit` 0 means a deposit reverts, unbounded means a funded one succeeds."""
        who, pool = self.lps[lp], self.c.pool
        most = pool.max_redeem(self.env(who), who)
        pending = pool.redeem_request_of(who)[0]
        if most < pending:
            assert self.act(who, "pool", "redeem", most + 1, who, who).reverted
        if most > 0:
            out = self.act(who, "pool", "redeem", most, who, who)
            assert not out.reverted, f"redeem(maxRedeem={most}) reverted {out.error}"
        allowed = pool.max_deposit(self.env(who), who)
        out = self.act(who, "pool", "deposit", amount, who)
        if allowed == 0:
            assert out.reverted, "a deposit succeeded while maxDeposit was 0"
        elif amount <= self.c.token.balance_of(who):
            assert not out.reverted, f"a funded deposit reverted {out.error} under maxDeposit {allowed}"

    def refresh_prices(self) -> None:
        """A fresh round on every market at its current answer."""
        for market in MARKETS:
            self.ledger.set_price(market, self.price(market), sender=self.keeper)
            self.world.steps += 1

    @rule(lp=st.integers(0, 1), fraction=fractions, move_bps=st.sampled_from([0, -1_500, 300]))
    def full_exit_cycle(self, lp: int, fraction: int, move_bps: int) -> None:
        """Request, wait out the cooldown, move the oracle (a crash or a rise, fresh on every market)
        and claim what `maxRedeem` allows: the claims the exit invariant is about."""
        who, pool = self.lps[lp], self.c.pool
        self.act(who, "pool", "requestRedeem", pool.balance_of(who) * fraction // BPS)
        self.ledger.advance(pool.redeem_cooldown)
        self.refresh_prices()
        if move_bps:
            market = MARKETS[lp]
            self.ledger.set_price(market, max(1, self.price(market) * (BPS + move_bps) // BPS), sender=self.keeper)
        most = pool.max_redeem(self.env(who), who)
        if most > 0:
            out = self.act(who, "pool", "redeem", most, who, who)
            assert not out.reverted, f"redeem(maxRedeem={most}) reverted {out.error}"

    @rule(staker=st.integers(0, 1), fraction=fractions)
    def full_unstake_cycle(self, staker: int, fraction: int) -> None:
        """Cooldown, wait, escrow, claim `exitDelay` later: the safety module's whole exit."""
        who, sm = self.stakers[staker], self.c.safety_module
        self.act(who, "safetyModule", "cooldown")
        self.ledger.advance(sm.cooldown_period)
        self.act(who, "safetyModule", "redeem", sm.cooldown_shares_of(who) * fraction // BPS)
        self.ledger.advance(sm.exit_delay)
        self.act(who, "safetyModule", "claim", who)

    @rule(lp=st.integers(0, 1))
    def cancel_redeem(self, lp: int) -> None:
        self.act(self.lps[lp], "pool", "cancelRedeem")

    # Stakers

    @rule(staker=st.integers(0, 1), amount=usd_amounts)
    def stake(self, staker: int, amount: int) -> None:
        self.act(self.stakers[staker], "safetyModule", "stake", amount)

    @rule(staker=st.integers(0, 1), fraction=fractions, early=st.sampled_from([False, False, False, True]))
    def unstake(self, staker: int, fraction: int, early: bool) -> None:
        """Starts the cooldown when none is running (or its window is over), else exits; `early`
        tries to exit anyway."""
        who, sm = self.stakers[staker], self.c.safety_module
        start = sm.cooldown_start_of(who)
        expired = start == 0 or self.ledger.now > start + sm.cooldown_period + sm.unstake_window
        if expired and not early:
            self.act(who, "safetyModule", "cooldown")
        else:
            self.act(who, "safetyModule", "redeem", sm.shares_of(who) * fraction // BPS)

    @rule(staker=st.integers(0, 1))
    def claim_stake(self, staker: int) -> None:
        who = self.stakers[staker]
        self.act(who, "safetyModule", "claim", who)

    @rule(staker=st.integers(0, 1), amount=usd_amounts)
    def stake_during_cooldown_then_exit(self, staker: int, amount: int) -> None:
        """A stake added after the cooldown started does not ride on it: exiting it all must revert."""
        who, sm = self.stakers[staker], self.c.safety_module
        covered = sm.cooldown_shares_of(who)
        self.act(who, "safetyModule", "stake", amount)
        owned = sm.shares_of(who)
        out = self.act(who, "safetyModule", "redeem", owned)
        if owned > covered and not out.reverted:
            raise AssertionError(f"{owned} shares exited on a cooldown covering {covered}")

    @rule(
        cooldown=st.sampled_from([60, 600, 600, 600]),
        window=st.sampled_from([60, 3_600, 3_600, 3_600]),
        slash_window=st.sampled_from([3_600, 7 * 24 * 3_600]),
        exit_delay=st.sampled_from([599, 600, 600, 3_600]),
    )
    def set_safety_module_params(self, cooldown: int, window: int, slash_window: int, exit_delay: int) -> None:
        sm = self.c.safety_module
        args = (cooldown, window, sm.max_slash_bps, slash_window, exit_delay)
        self.act(self.owner, "safetyModule", "setParams", *args)

    @rule(
        cooldown=st.sampled_from([59, 60, 300, 300, 300]),
        window=st.sampled_from([60, 3_600, 3_600, 3_600, 30 * 24 * 3_600 + 1]),
    )
    def set_redeem_timing(self, cooldown: int, window: int) -> None:
        self.act(self.owner, "pool", "setRedeemTiming", cooldown, window)

    # Traders

    def _open(self, trader: int, market: int, is_long: bool, notional: int, leverage_tenths: int, tight: bool) -> None:
        price = self.price(market)
        size = max(1, notional * USD * SCALE // price)
        margin = notional * USD * 10 // leverage_tenths
        guard = price if tight else (UINT256_MAX if is_long else 0)
        # Opens go to a free slot when the drawn one is taken, so most sequences hold positions.
        slots = [(t, m) for t in range(3) for m in MARKETS if self.position(self.traders[t], m).size == 0]
        if (trader, market) not in slots and slots:
            trader, market = slots[(trader + market) % len(slots)]
        self._trade(self.traders[trader], market, size if is_long else -size, margin, guard)

    # Orders: every trade is submitted, then filled by a keeper at a later round (SPEC §5a)

    def order(self, trader: str, market: int) -> Any:
        return self.c.order_router.order_of(trader, market)

    def _new_round(self, market: int) -> None:
        """A round at the current price, observed now."""
        self.ledger.set_price(market, self.price(market), sender=self.keeper)
        self.world.steps += 1

    def _trade(self, trader: str, market: int, size_delta: int, margin: int, guard: int) -> None:
        """Submit, wait the minimum delay, a new round, execute. A pending order of the slot is
        settled first (executed at a new round, or cancelled once expired)."""
        if self.order(trader, market).submitted_at != 0:
            self._settle_pending(trader, market)
        outcome = self.act(trader, "orderRouter", "submitOrder", market, size_delta, margin, guard)
        if outcome.reverted:
            return
        self.ledger.advance(max(1, self.c.order_router.min_execution_delay))
        self._new_round(market)
        self.act(self.keeper, "orderRouter", "executeOrder", trader, market, [], [])

    def _settle_pending(self, trader: str, market: int) -> None:
        order, router = self.order(trader, market), self.c.order_router
        if self.ledger.now >= order.submitted_at + router.max_execution_delay:
            self.act(self.keeper, "orderRouter", "cancelOrder", trader, market)
            return
        self.ledger.advance(max(0, order.submitted_at + max(1, router.min_execution_delay) - self.ledger.now))
        self._new_round(market)
        self.act(self.keeper, "orderRouter", "executeOrder", trader, market, [], [])

    def has_orders(self) -> bool:
        return bool(self.c.order_router._orders)

    def pick_order(self, pick: int) -> tuple[str, int]:
        pending = sorted(self.c.order_router._orders)
        return pending[pick % len(pending)]

    @rule(
        trader=st.integers(0, 2),
        market=st.sampled_from(MARKETS),
        fraction=st.one_of(st.sampled_from([-BPS, -BPS // 2, BPS // 2, BPS]), st.integers(-2 * BPS, 2 * BPS)),
        margin=usd_amounts,
        tight_guard=st.sampled_from([False, False, True]),
    )
    def submit_order(self, trader: int, market: int, fraction: int, margin: int, tight_guard: bool) -> None:
        """An order left pending: a fraction of the position (or of 10 units' worth of $1k), any
        sign; a second order on the slot must revert OrderPending."""
        who = self.traders[trader]
        size = self.position(who, market).size
        base = abs(size) if size != 0 else 1_000 * USD * SCALE // self.price(market)
        delta = base * fraction // BPS
        is_buy = delta > 0
        guard = self.price(market) if tight_guard else (UINT256_MAX if is_buy else 0)
        self.act(
            who,
            "orderRouter",
            "submitOrder",
            market,
            delta,
            margin if (size == 0 or (size > 0) == is_buy) else 0,
            guard,
        )

    @rule(pick=st.integers(0, 5), when=st.sampled_from(["new_round", "round_at_submission", "no_round", "late_round"]))
    @precondition(lambda self: self.has_orders())
    def execute_order(self, pick: int, when: str) -> None:
        """A keeper executes a pending order: after a new round (fills or cancels with the
        engine's reason), with a round observed in the submission's second (RoundTooEarly), with
        whatever round is on chain, or with a fresh round after most of the window has passed."""
        trader, market = self.pick_order(pick)
        order, router = self.order(trader, market), self.c.order_router
        if when == "round_at_submission":
            self.ledger.advance(1)
            self.ledger.set_price(market, self.price(market), updated_at=order.submitted_at, sender=self.keeper)
        elif when == "late_round":
            self.ledger.advance(max(0, order.submitted_at + router.max_execution_delay - 1 - self.ledger.now))
            self._new_round(market)
        elif when == "new_round":
            self.ledger.advance(max(1, router.min_execution_delay))
            self._new_round(market)
        self.act(self.keeper, "orderRouter", "executeOrder", trader, market, [], [])

    @rule(pick=st.integers(0, 5), edge=st.sampled_from([-1, 0, 1]))
    @precondition(lambda self: self.has_orders())
    def expire_order(self, pick: int, edge: int) -> None:
        """Time to one second before, exactly at, or one second after expiry; a fresh round; the
        keeper tries to execute (fills before expiry, OrderExpired from it on), then anyone tries
        to cancel (OrderNotExpired before expiry, escrow back from it on)."""
        trader, market = self.pick_order(pick)
        order, router = self.order(trader, market), self.c.order_router
        expires_at = order.submitted_at + router.max_execution_delay
        self.ledger.advance(max(0, expires_at + edge - self.ledger.now))
        self._new_round(market)
        if edge < 0:
            self.act(self.lps[0], "orderRouter", "cancelOrder", trader, market)
        self.act(self.keeper, "orderRouter", "executeOrder", trader, market, [], [])
        self.act(self.lps[0], "orderRouter", "cancelOrder", trader, market)

    @rule(fee=st.sampled_from([0, 1, USD, 100 * USD, 100 * USD + 1]), min_delay=st.sampled_from([0, 1, 2, 30]))
    def set_execution_params(self, fee: int, min_delay: int) -> None:
        self.act(self.owner, "orderRouter", "setExecutionParams", fee, min_delay, 600 if min_delay < 30 else 30)

    @initialize(
        opens=st.lists(
            st.tuples(
                st.integers(0, 2),
                st.sampled_from(MARKETS),
                st.booleans(),
                st.integers(1_000, 300_000),
                st.sampled_from([30, 60, 90, 98]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def open_book(self, opens: list[tuple[int, int, bool, int, int]]) -> None:
        """Every sequence starts with a few positions, so liquidations and ADL have material."""
        for trader, market, is_long, notional, leverage_tenths in opens:
            self._open(trader, market, is_long, notional, leverage_tenths, False)

    @rule(
        trader=st.integers(0, 2),
        market=st.sampled_from(MARKETS),
        is_long=st.booleans(),
        notional=st.one_of(st.sampled_from([1, 100_000]), st.integers(1, 300_000)),
        leverage_tenths=st.one_of(st.sampled_from([20, 50, 80, 95, 99, 100, 101]), st.integers(5, 150)),
        tight_guard=st.sampled_from([False, False, False, True]),
    )
    def open_position(
        self, trader: int, market: int, is_long: bool, notional: int, leverage_tenths: int, tight_guard: bool
    ) -> None:
        self._open(trader, market, is_long, notional, leverage_tenths, tight_guard)

    @rule(
        trader=st.integers(0, 2),
        market=st.sampled_from(MARKETS),
        is_long=st.booleans(),
        notional=st.integers(1_000, 300_000),
        leverage_tenths=st.sampled_from([60, 80, 90, 95, 98]),
    )
    def open_leveraged(self, trader: int, market: int, is_long: bool, notional: int, leverage_tenths: int) -> None:
        """Near maximum leverage: the positions that liquidations and bad debt come from."""
        self._open(trader, market, is_long, notional, leverage_tenths, False)

    @rule(pick=st.integers(0, 5), fraction=fractions, margin=usd_amounts)
    @precondition(lambda self: self.has_positions())
    def increase_position(self, pick: int, fraction: int, margin: int) -> None:
        trader, market = self.pick_position(pick)
        size = self.position(trader, market).size
        delta = max(1, abs(size) * fraction // BPS)
        if size >= 0:
            self._trade(trader, market, delta, margin, UINT256_MAX)
        else:
            self._trade(trader, market, -delta, margin, 0)

    @rule(pick=st.integers(0, 5), fraction=fractions)
    @precondition(lambda self: self.has_positions())
    def decrease_position(self, pick: int, fraction: int) -> None:
        trader, market = self.pick_position(pick)
        size = self.position(trader, market).size
        reduction = abs(size) * fraction // BPS
        self._trade(trader, market, -reduction if size > 0 else reduction, 0, 0 if size > 0 else UINT256_MAX)

    @rule(pick=st.integers(0, 5))
    @precondition(lambda self: self.has_positions())
    def close_position(self, pick: int) -> None:
        trader, market = self.pick_position(pick)
        size = self.position(trader, market).size
        self._trade(trader, market, -size, 0, 0 if size > 0 else UINT256_MAX)

    @rule(pick=st.integers(0, 5), amount=usd_amounts)
    @precondition(lambda self: self.has_positions())
    def add_margin(self, pick: int, amount: int) -> None:
        trader, market = self.pick_position(pick)
        self.act(trader, "engine", "addMargin", market, amount)

    @rule(pick=st.integers(0, 5), fraction=fractions)
    @precondition(lambda self: self.has_positions())
    def remove_margin(self, pick: int, fraction: int) -> None:
        trader, market = self.pick_position(pick)
        self.act(trader, "engine", "removeMargin", market, self.position(trader, market).margin * fraction // BPS)

    # Oracle and time

    @rule(
        market=st.sampled_from(MARKETS),
        move_bps=st.one_of(st.sampled_from([0, -1, 1, -3_000, 3_000]), st.integers(-2_500, 2_500)),
        delay=delays,
    )
    def set_price(self, market: int, move_bps: int, delay: int) -> None:
        answer = max(1, self.price(market) * (BPS + move_bps) // BPS)
        self.ledger.set_price(market, answer, updated_at=self.ledger.now - delay, sender=self.keeper)
        self.world.steps += 1

    @rule(
        pick=st.integers(0, 5), kind=st.sampled_from(["liquidation", "bankruptcy"]), offset=st.sampled_from([-1, 0, 1])
    )
    @precondition(lambda self: self.has_positions())
    def price_to_edge(self, pick: int, kind: str, offset: int) -> None:
        """The oracle exactly at a position's liquidation or bankruptcy price, or one wei off."""
        trader, market = self.pick_position(pick)
        view = self.c.engine.liquidation_price if kind == "liquidation" else self.c.engine.bankruptcy_price
        try:
            edge = view(self.env(), trader, market)
        except Revert:
            return
        if edge + offset > 0:
            self.ledger.set_price(market, edge + offset, sender=self.keeper)
            self.world.steps += 1

    @rule(seconds=advances)
    def advance(self, seconds: int) -> None:
        self.ledger.advance(seconds)

    # Keepers

    @rule(pick=st.integers(0, 5))
    @precondition(lambda self: self.has_positions())
    def liquidate(self, pick: int) -> None:
        trader, market = self.pick_position(pick)
        preview_then_liquidate(self.act, self.c.engine, self.env(), trader, market)

    @rule(pick=st.integers(0, 5), move_bps=st.integers(300, 3_000), delay=delays)
    @precondition(lambda self: self.has_positions())
    def gap_and_liquidate(self, pick: int, move_bps: int, delay: int) -> None:
        """A late oracle round gapping against a position, then the keeper."""
        trader, market = self.pick_position(pick)
        against = -move_bps if self.position(trader, market).size > 0 else move_bps
        answer = max(1, self.price(market) * (BPS + against) // BPS)
        self.ledger.set_price(market, answer, updated_at=self.ledger.now - min(delay, MAX_AGE), sender=self.keeper)
        preview_then_liquidate(self.act, self.c.engine, self.env(), trader, market)

    @rule(market=st.sampled_from(MARKETS), is_long=st.booleans(), pick=st.integers(0, 5), fraction=fractions)
    @precondition(lambda self: self.has_positions())
    def auto_deleverage(self, market: int, is_long: bool, pick: int, fraction: int) -> None:
        """The first step of the model's ranked plan when ADL is open, else an arbitrary attempt."""
        try:
            plan = adl_plan(self.c.engine, self.env(), market, is_long)
        except Revert:
            plan = []
        if plan:
            account, reduction = plan[0]
        else:
            account, market = self.pick_position(pick)
            reduction = abs(self.position(account, market).size) * fraction // BPS
        side = self.position(account, market).size > 0
        out = self.act(self.keeper, "engine", "autoDeleverage", account, market, reduction)
        self._check_adl_step(out, market, side)

    @rule(pick=st.integers(0, 5), move_bps=st.integers(1_000, 6_000))
    @precondition(lambda self: self.has_positions())
    def pump_and_deleverage(self, pick: int, move_bps: int) -> None:
        """The market runs in a position's favour, then the keeper follows the ADL ranking."""
        trader, market = self.pick_position(pick)
        is_long = self.position(trader, market).size > 0
        answer = max(1, self.price(market) * (BPS + (move_bps if is_long else -move_bps // 2)) // BPS)
        self.ledger.set_price(market, answer, sender=self.keeper)
        self.world.steps += 1
        try:
            plan = adl_plan(self.c.engine, self.env(), market, is_long)
        except Revert:
            plan = []
        for account, reduction in plan[:2]:
            out = self.act(self.keeper, "engine", "autoDeleverage", account, market, reduction)
            self._check_adl_step(out, market, is_long)

    # Owner

    @rule(
        market=st.sampled_from(MARKETS), spread=st.integers(0, 60), fee=st.integers(0, 30), slippage=st.integers(0, 200)
    )
    def set_market_params(self, market: int, spread: int, fee: int, slippage: int) -> None:
        params = self.c.engine.market_params(market)
        changed = type(params)(
            **{**params.__dict__, "spread_bps": spread, "trading_fee_bps": fee, "liquidation_slippage_bps": slippage}
        )
        self.act(self.owner, "engine", "setMarketParams", market, changed)

    @rule(insurance=st.integers(0, 6_000), safety=st.integers(0, 6_000))
    def set_fee_shares(self, insurance: int, safety: int) -> None:
        self.act(self.owner, "engine", "setFeeShares", insurance, safety)

    @rule(trigger_bps=st.integers(0, BPS + 1), target_bps=st.integers(0, BPS))
    def set_adl_params(self, trigger_bps: int, target_bps: int) -> None:
        self.act(self.owner, "engine", "setAdlParams", trigger_bps, target_bps)

    @rule(trader=st.integers(0, 2), market=st.sampled_from(MARKETS))
    def pause_opens_briefly(self, trader: int, market: int) -> None:
        """The guardian pauses new risk: an open must revert, a close still works; then resume."""
        self.act(self.owner, "engine", "setOpensPaused", True)
        self._open(trader, market, True, 1_000, 50, False)
        if self.has_positions():
            account, market = self.pick_position(trader)
            size = self.position(account, market).size
            self._trade(account, market, -size, 0, 0 if size > 0 else UINT256_MAX)
        self.act(self.owner, "engine", "setOpensPaused", False)

    @rule(market=st.sampled_from(MARKETS), amount=st.sampled_from([1, 10 * USD, 1_000 * USD]))
    def fund_insurance(self, market: int, amount: int) -> None:
        self.act(self.owner, "insuranceFund", "fund", market, amount)

    # Engine backstop (issue 10: ADL keeper role, ADL flag, uncovered deficit)

    @rule(market=st.sampled_from(MARKETS), is_long=st.booleans(), anyone=st.integers(0, 7))
    def sync_adl(self, market: int, is_long: bool, anyone: int) -> None:
        """Anyone re-evaluates a side's ADL flag; it must then say ratio > threshold."""
        out = self.act(self.ledger.actors[anyone], "engine", "syncAdl", market, is_long)
        if not out.reverted:
            synced = out.event("AdlFlagSynced")
            m = self.c.engine.market_state(market)
            assert (m.adl_long_active if is_long else m.adl_short_active) == synced.active
            assert not synced.active or synced.ratio_bps > self.c.engine.adl_target_bps

    # Redemption bound (issue 10, the last gaps): the per-side bankruptcy bound's refresh

    @rule(
        market=st.sampled_from(MARKETS),
        is_long=st.booleans(),
        anyone=st.integers(0, 7),
        corrupt=st.sampled_from(["none", "none", "missing", "duplicate", "reversed", "other side", "stranger"]),
    )
    def refresh_bankruptcy_bound(self, market: int, is_long: bool, anyone: int, corrupt: str) -> None:
        """Anyone refreshes a side's bound with the true account list (then it is the exact extreme k),
        or with a corrupted one (refused, with the error the list deserves)."""
        engine = self.c.engine
        positions = {a: p for (a, mk), p in engine.s.positions.items() if mk == market and p.size != 0}
        side = sorted((a for a, p in positions.items() if (p.size > 0) == is_long), key=lambda a: int(a, 16))
        other = [a for a, p in positions.items() if (p.size > 0) != is_long]
        accounts, expected = list(side), None
        if corrupt == "missing" and side:
            accounts, expected = side[1:], ("BoundAccountCount", (len(side) - 1, len(side)))
        elif corrupt == "duplicate" and side:
            accounts = [side[0], *side[:-1]]
            expected = ("BoundAccountInvalid", (1, side[0])) if len(side) > 1 else None
            accounts = accounts if len(side) > 1 else side
        elif corrupt == "reversed" and len(side) > 1:
            accounts = side[::-1]
            expected = ("BoundAccountInvalid", (1, accounts[1]))
        elif corrupt == "other side" and side and other:
            accounts = sorted([*side[1:], other[0]], key=lambda a: int(a, 16))
            expected = ("BoundAccountInvalid", (accounts.index(other[0]), other[0]))
        elif corrupt == "stranger" and side:
            # An account with no position on this side (the keeper never trades) in place of one.
            accounts = sorted([*side[1:], self.keeper], key=lambda a: int(a, 16))
            expected = ("BoundAccountInvalid", (accounts.index(self.keeper), self.keeper))
        out = self.act(self.ledger.actors[anyone], "engine", "refreshBankruptcyBound", market, is_long, accounts)
        if expected is not None:
            assert out.error == expected
            return
        assert not out.reverted, out.error
        m = engine.market_state(market)
        bound = m.long_bankruptcy_bound if is_long else m.short_bankruptcy_bound
        assert out.event("BankruptcyBoundRefreshed").bound == bound
        if side:
            ks = [self.bound_of(positions[a]) for a in side]
            assert bound == (max(ks) if is_long else min(ks))

    @rule(pick=st.integers(0, 5), fraction=fractions, own=st.booleans())
    @precondition(lambda self: self.has_positions())
    def adl_without_role(self, pick: int, fraction: int, own: bool) -> None:
        """A trader without the role, or granted it, tries to deleverage a position (its own too)."""
        account, market = self.pick_position(pick)
        caller = account if own else self.traders[(self.traders.index(account) + 1) % len(self.traders)]
        granted = own and fraction % 2 == 1
        if granted:
            self.act(self.owner, "engine", "setAdlKeeper", caller, True)
        out = self.act(caller, "engine", "autoDeleverage", account, market, abs(self.position(account, market).size))
        expected = "AdlOwnPosition" if granted else "NotAdlKeeper"
        assert out.reverted and out.error[0] == expected, out.error
        if granted:
            self.act(self.owner, "engine", "setAdlKeeper", caller, False)

    @rule(utilisation=st.integers(0, BPS + 1), reserve=st.sampled_from([0, 1, 10, 2_000, BPS, BPS + 1]))
    def set_pool_limits(self, utilisation: int, reserve: int) -> None:
        """A tiny reserve factor lets winners drain the pool's cash: the uncovered-deficit path."""
        self.act(self.owner, "engine", "setPoolLimits", utilisation, reserve)

    @rule(market=st.sampled_from(MARKETS), fixed=st.sampled_from([0, 5 * USD, 100 * USD, 100 * USD + 1, 500_000 * USD]))
    def set_keeper_reward(self, market: int, fixed: int) -> None:
        """The owner moves the keeper reward, up to its bound and past it (refused)."""
        params = self.c.engine.market_params(market)
        cap = max(params.keeper_reward_cap, fixed)
        # The minimum margin keeps covering twice the fixed reward (issue 8), so only the reward's own
        # bound decides here.
        floor = max(params.min_margin, 2 * fixed)
        # ... and the minimum notional keeps the fixed reward inside the lowest tier's room (the
        # relational bound, MarketParamsValidator._validateRelations), rounded up like the rule.
        room = 9 * params.tier_maintenance_bps[0] // 10 - (
            params.liquidation_slippage_bps + params.max_impact_bps + params.keeper_reward_bps
        )
        least = max(params.min_notional, -(-fixed * 10_000 // room))
        changed = type(params)(
            **{
                **params.__dict__,
                "keeper_fixed_reward": fixed,
                "keeper_reward_cap": cap,
                "min_margin": floor,
                "min_notional": least,
            }
        )
        out = self.act(self.owner, "engine", "setMarketParams", market, changed)
        assert out.reverted == (fixed > 100 * USD)

    @invariant()
    def adl_closed_at_or_below_target(self) -> None:
        """SPEC §7: wherever a side's ratio is at or below the target (whatever brought it there,
        stale flag or not), no ADL step is accepted; an accepted step left the flag = ratio > target."""
        engine = self.c.engine
        env = self.env()
        for market in MARKETS:
            for is_long in (True, False):
                try:
                    ratio = engine.side_profit_ratio(env, market, is_long)
                except Revert:
                    continue  # stale oracle: every ADL reverts anyway
                if ratio > engine.adl_target_bps:
                    continue
                # The eligibility check autoDeleverage runs, on the state as it stands (flag included).
                try:
                    engine._check_adl_triggered(market, engine.market_state(market), is_long, ratio)
                except Revert as refused:
                    assert refused.error_name == "AdlNotTriggered"
                    continue
                raise AssertionError(f"ADL open on market {market} at ratio {ratio} <= target")

    def _check_adl_step(self, out: Any, market: int, is_long: bool) -> None:
        """After an accepted ADL step the side's flag is set iff the ratio is still above target."""
        if out.reverted:
            return
        step = out.event("AutoDeleveraged")
        m = self.c.engine.market_state(market)
        assert (m.adl_long_active if is_long else m.adl_short_active) == (
            step.ratio_after_bps > self.c.engine.adl_target_bps
        )

    # ------------------------------------------------------------------------------------------
    # Oracle sources (issue 11): ETH's three sources driven one by one, the band's keeper call,
    # the owner's aggregation rules. Every source change is followed by a model == chain check
    # of the time-dependent views (priceWithTime, markStatus) at the same block.
    # ------------------------------------------------------------------------------------------

    def _source_answer(self, index: int) -> int:
        """ETH source `index`'s latest answer in its own units (0 when it has none)."""
        model = self.c.sources[1][index]
        if index < 2:
            return model.latest_round_data().answer
        return model.get_price_unsafe(pyth_id(1, 2)).price

    def _compare_mark_views(self, market: int = 1) -> None:
        """Right after an action succeeded (the latest block is at `ledger.now`)."""
        self.ledger.flush()  # batched actions: mine the pending block before reading the chain
        oracle = self.ledger.deployment.contracts["oracle"]
        env = self.env()
        for function in ("priceWithTime", "markStatus"):
            try:
                chain: Any = ("ok", tuple(oracle.call(function, market)))
            except ChainRevert as revert:
                chain = ("revert", revert.signature())
            try:
                model: Any = ("ok", tuple(getattr(self.c.oracle, snake_case(function))(env, market)))
            except Revert as revert:
                model = ("revert", revert.signature())
            if model != chain:
                raise ParityError(f"oracle.{function}({market}) at t={env.timestamp}: model {model} != chain {chain}")
            self.world.outcomes[
                f"mark {model[0] if function == 'priceWithTime' else MarkStatus(model[1][0]).name}"
            ] += 1

    def _set_source(self, index: int, answer: int, updated_at: int) -> None:
        if index == 2:
            answer = min(answer, INT64_MAX)  # a Pyth price is an int64
        self.ledger.set_source_price(1, index, answer, updated_at, sender=self.keeper)
        self.world.steps += 1
        self._compare_mark_views()

    @rule(
        index=st.integers(0, 2),
        mode=st.sampled_from(["stuck", "late", "wrong_up", "wrong_down", "move"]),
        move_bps=st.one_of(st.sampled_from([0, -1, 1, -2_000, 2_000]), st.integers(-3_000, 3_000)),
        delay=delays,
    )
    def drive_one_source(self, index: int, mode: str, move_bps: int, delay: int) -> None:
        """One ETH source on its own: stuck (its last answer again, dated now), late (a round
        dated `delay` ago), wrong by a factor of 10 either way, or moved by `move_bps`."""
        self.ledger.advance(1)  # MockPyth ignores an update not newer than the stored one
        last = max(1, self._source_answer(index))
        answer = {
            "stuck": last,
            "late": max(1, last * (BPS + move_bps) // BPS),
            "wrong_up": last * 10,
            "wrong_down": max(1, last // 10),
            "move": max(1, last * (BPS + move_bps) // BPS),
        }[mode]
        self._set_source(index, answer, self.ledger.now - (delay if mode == "late" else 0))

    @rule(offset=st.sampled_from([-1, 0, 1]), high_first=st.booleans())
    def sources_at_spread_bound(self, offset: int, high_first: bool) -> None:
        """The two Chainlink-style sources exactly at the spread bound around the lower median
        (and one wei inside or beyond), the Pyth source far below (outvoted)."""
        self.ledger.advance(1)
        low = max(BPS, self._source_answer(1) // BPS * BPS)  # a multiple of 10_000: the bound is exact
        high = low + low * self.c.oracle.oracle_params_of(1)[1] // BPS + offset
        self._set_source(2, max(1, low // 10**10 // 10), self.ledger.now)
        order = [(0, high), (1, low)] if high_first else [(1, low), (0, high)]
        for index, answer in order:
            self._set_source(index, answer, self.ledger.now)

    @rule(market=st.sampled_from(MARKETS))
    def update_mark(self, market: int) -> None:
        """The keeper records the mark (accepted, or pending confirmation beyond the band)."""
        outcome = self.act(self.keeper, "oracle", "updateMark", market)
        for name in ("MarkAccepted", "MarkPending"):
            if outcome.events_named(name):
                self.world.outcomes[f"event {name}"] += 1

    @rule(
        pick=st.integers(0, 5),
        move_bps=st.one_of(st.sampled_from([-6_000, -2_501, 2_501, 6_000]), st.integers(-7_000, 7_000)),
        confirm=st.sampled_from(["none", "same_side", "other_side", "back_in_band"]),
    )
    @precondition(lambda self: self.has_positions())
    def band_spike(self, pick: int, move_bps: int, confirm: str) -> None:
        """A mark recorded, then one print far from it; the keeper tries to liquidate, records it,
        and a second print follows (confirming, the other way, or back in the band)."""
        trader, market = self.pick_position(pick)
        self.update_mark(market)
        self.ledger.advance(1)
        last = self.price(market)
        self.ledger.set_price(market, max(1, last * (BPS + move_bps) // BPS), sender=self.keeper)
        self.act(self.keeper, "engine", "liquidate", trader, market)
        self.update_mark(market)
        self.ledger.advance(1)
        second = {"none": 0, "same_side": move_bps + move_bps // 10, "other_side": -move_bps, "back_in_band": 10}
        if confirm != "none":
            self.ledger.set_price(market, max(1, last * (BPS + second[confirm]) // BPS), sender=self.keeper)
            self.world.steps += 1
        self.act(self.keeper, "engine", "liquidate", trader, market)

    @rule(offset=st.sampled_from([-1, 0, 1]), up=st.booleans())
    def band_bound(self, offset: int, up: bool) -> None:
        """BTC (one 18-decimal feed): a mark accepted, then a print exactly at the band (one wei
        inside or beyond), checked model == chain on the views."""
        if self.act(self.keeper, "oracle", "updateMark", 2).reverted:
            return
        last = self.c.oracle.mark_of(2)[0]
        band = self.c.oracle.oracle_params_of(2)[2]
        step = last * band // BPS + offset
        self.ledger.advance(1)
        self.ledger.set_price(2, max(1, last + step if up else last - step), sender=self.keeper)
        self.world.steps += 1
        self._compare_mark_views(2)

    @rule(
        sources=st.sampled_from([(0, 1, 2), (0, 1), (2, 0, 1), (0,), (1, 2)]),
        quorum=st.sampled_from([0, 1, 2, 3, 4]),
        spread=st.sampled_from([0, 1, 100, 500, 5_000, 5_001]),
        band=st.sampled_from([0, 1_000, 2_500, 10_000, 10_001]),
        window=st.sampled_from([0, 60, 900, 86_400, 86_401]),
        # ETH trades around $3,000: a bound under it degrades the market (`PriceAboveBound`).
        max_price=st.sampled_from([0, 2_900 * WAD, 3_500 * WAD, 10**36, 10**36 + 1]),
    )
    def set_oracle(
        self, sources: tuple[int, ...], quorum: int, spread: int, band: int, window: int, max_price: int
    ) -> None:
        """The owner reconfigures ETH's mark (bounds included: out-of-bound values must revert)."""
        addresses = self.ledger.deployment.addresses.sources[1]
        all_specs = source_specs(self.ledger.system.config.markets[0], addresses)
        specs = [tuple(all_specs[i]) for i in sources]
        pull = (100, 60)  # maxConfBps, pullLagTolerance: the default config's
        self.act(self.owner, "oracle", "setOracle", 1, specs, (quorum, spread, band, window, max_price, *pull))

    @invariant()
    def mark_is_a_fresh_agreeing_source(self) -> None:
        """Whenever the model gives ETH a mark, it is some fresh source's price, at least
        `quorum` sources lie within the spread of it, and markStatus says Live."""
        oracle, env = self.c.oracle, self.env()
        try:
            mark, _ = oracle.price_with_time(env, 1)
        except Revert:
            assert oracle.mark_status(env, 1)[0] != MarkStatus.LIVE
            return
        quorum, spread = oracle.oracle_params_of(1)[:2]
        readings = oracle._read_all(env, 1)
        fresh = [r.wad for r in readings if r.reason == 0]
        assert mark in fresh
        assert sum(1 for p in fresh if abs(p - mark) * BPS <= mark * spread) >= quorum
        assert oracle.mark_status(env, 1)[0] == MarkStatus.LIVE

    # Invariants (the ledger already checked parity, conservation and waterfall order)

    @invariant()
    def count_step(self) -> None:
        self.rules_run += 1

    def teardown(self) -> None:
        self.world.rules_per_example.append(self.rules_run)
        self.ledger.flush()  # the last block is compared too

    @invariant()
    def shares_add_up(self) -> None:
        pool, sm = self.c.pool, self.c.safety_module
        assert pool.total_supply == sum(pool.balances.values())
        assert sm.total_shares == sum(sm.shares.values())
        assert sm.escrow_shares == sum(sm.pending_shares.values())
        assert sm.escrow_assets <= sm.total_assets
        for staker in self.stakers:
            assert sm.cooldown_shares_of(staker) <= sm.shares_of(staker)

    @invariant()
    def aggregates_match_positions(self) -> None:
        engine = self.c.engine
        for market in MARKETS:
            m = engine.market_state(market)
            positions = [p for (_, mk), p in engine.s.positions.items() if mk == market]
            assert m.long_size == sum(p.size for p in positions if p.size > 0)
            assert m.short_size == sum(-p.size for p in positions if p.size < 0)
            assert m.long_entry_notional == sum(p.size * p.entry_price for p in positions if p.size > 0)
            assert m.short_entry_notional == sum(-p.size * p.entry_price for p in positions if p.size < 0)
            assert m.sum_size_times_index == sum(p.size * p.funding_index for p in positions)
            assert m.accrued_funding_total == sum(p.accrued_funding for p in positions)
            # The per-side bankruptcy bounds (the redemption mark): counts exact, bounds conservative.
            longs, shorts = [p for p in positions if p.size > 0], [p for p in positions if p.size < 0]
            assert (m.long_positions, m.short_positions) == (len(longs), len(shorts))
            if longs:
                assert m.long_bankruptcy_bound >= max(self.bound_of(p) for p in longs)
            if shorts:
                assert m.short_bankruptcy_bound <= min(self.bound_of(p) for p in shorts)
