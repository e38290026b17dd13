"""Tier 1, exact: one path through `pymodel`, every action through `System.execute`.

Nothing here touches a model contract's state directly: oracle rounds are `setRoundData` on
the market's mock feed, positions open through `open_population` (two-step orders: submitted,
a round observed after the submission, a keeper executes them), keepers call `liquidate` at
the on-chain price, an ADL keeper (granted the role by the owner) follows
`pymodel.adl.adl_plan`. Every action is recorded (sender, block time, call, outcome), so a
path exports as a golden vector (`simulator.export.path_vector`) and replays on Anvil.

Keepers: at step s they liquidate (account order) every position the chain showed as
liquidatable both `lag` steps ago (what they saw) and now (what the transaction checks), when
the keeper reward covers the gas cost. While the market is degraded (multi-source set) or the
L2 sequencer is down or in grace nothing acts; with a single feed the adapter's own StalePrice
revert stops them, read from the model's views.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from eth_utils import to_checksum_address

from pymodel.adl import adl_plan
from pymodel.core import Env
from pymodel.errors import Revert
from pymodel.system import Addresses, Outcome, System, source_name
from simulator.cascade import MAX_ROUNDS, depth_shift, gas_cost_usd, keeper_down, moved_prices
from simulator.config import SimConfig
from simulator.oracles import OK, SEQUENCER, OracleTimeline, simulate_oracle
from simulator.paths import generate_paths
from simulator.population import Population, keeper_latency_steps, sample_population

GENESIS = 1_800_000_000  # difftest.ledger.GENESIS: vectors are written relative to it
ROLES = ("owner", "lp", "backer", "staker", "keeper")


def _address(i: int) -> str:
    return to_checksum_address(f"0x{i:040x}")


def placeholder_addresses(config: SimConfig) -> Addresses:
    """The simulated deployment's contract addresses (it exists only in the model)."""
    return Addresses.numbered(config.protocol(), 0x1000)


def trader_name(i: int) -> str:
    return f"trader{i}"


@dataclass(frozen=True)
class RecordedAction:
    at: int  # seconds since genesis
    sender: str  # actor name
    contract: str
    function: str
    args: tuple[Any, ...]
    outcome: Outcome


@dataclass(frozen=True)
class LiquidationRow:
    """One `Liquidated` event (and its `BadDebtSettled`, if any) of the path."""

    step: int
    trader: int
    oracle_price: int  # WAD
    execution_price: int
    bankruptcy_price: int
    size_closed: int
    realised: int
    reward: int
    penalty: int
    shortfall: int
    from_insurance: int
    from_safety_module: int
    from_pool: int
    oracle_lag: int  # seconds between the market's observation of the price on chain and the block


@dataclass
class ExactResult:
    """The event ledger of one path."""

    path: int
    liquidations: list[LiquidationRow]
    adl_notional: int  # collateral units closed by ADL (at the oracle price)
    adl_steps: int
    haircut: int  # ProfitHaircut amounts (socialised loss)
    unrealised_shortfall: int  # negative equity still open at the horizon (not yet liquidated)
    actions: list[RecordedAction]
    prices: list[float]
    timeline: OracleTimeline
    first_insurance_empty_step: int | None
    actors: dict[str, str] = field(default_factory=dict)
    execute_seconds: float = 0.0  # of the path's wall time, inside System.execute
    sold_usd: np.ndarray | None = None  # per step: net USD the liquidations and ADL sold (depth model)
    depth_rounds: int = 1  # fixed-point rounds of the depth model (1: no depth)
    adl_trades: list[tuple[int, int, int]] = field(default_factory=list)  # (step, trader, signed size)
    scan_seconds: float = 0.0  # of the path's wall time, in the keepers' per-block scans

    def totals(self) -> dict[str, int]:
        rows = self.liquidations
        return {
            "shortfall": sum(r.shortfall for r in rows),
            "from_insurance": sum(r.from_insurance for r in rows),
            "from_safety_module": sum(r.from_safety_module for r in rows),
            "from_pool": sum(r.from_pool for r in rows),
            "liquidations": len(rows),
        }


class ExactRun:
    """One path of a scenario on the exact model."""

    def __init__(self, config: SimConfig, path: int, prices: np.ndarray | None = None) -> None:
        self.config = config
        self.path = path
        rows = generate_paths(config, path, 1) if prices is None else np.asarray(prices, dtype=float).reshape(1, -1)
        self.timeline = simulate_oracle(config, rows, path)
        self.prices = [float(x) for x in rows[0]]
        self.population = sample_population(config, int(self.timeline.answer[0, 0]))
        self.lag = int(keeper_latency_steps(config, path, 1)[0])
        self.market = config.market_id
        self.addresses = placeholder_addresses(config)
        names = list(ROLES) + [trader_name(i) for i in range(len(self.population))]
        self.actors = {name: _address(0xA000 + i) for i, name in enumerate(names)}
        self.traders = [self.actors[trader_name(i)] for i in range(len(self.population))]
        self.system = System(config.protocol(), self.addresses, self.actors["owner"], GENESIS)
        self._init_run_state(rows)

    def _init_run_state(self, rows: np.ndarray) -> None:
        """The run's record and keeper state, once the system and the traders are set (shared with
        `simulator.from_chain.DeploymentRun`, which builds those from a deployment instead)."""
        config = self.config
        self.actions: list[RecordedAction] = []
        self.execute_seconds = 0.0  # wall time inside System.execute (the bench's model actions/s)
        unit = 10**config.system.collateral_decimals
        self.gas = [int(g * unit) for g in gas_cost_usd(config, rows)[0]]  # per step, collateral units
        self.keepers_down = keeper_down(config)
        self.capacity = config.keeper_limits.capacity()
        self.sold = np.zeros(config.steps + 1)  # net USD sold per step (liquidations and ADL)
        self.adl_trades: list[tuple[int, int, int]] = []
        self._index: tuple[list[int], list[int], list[int], list[int]] | None = None  # see liquidatable
        self._largest = 0  # the largest open |size| when the index was built
        self.scan_seconds = 0.0  # wall time of the keepers' per-block scans (liquidatable)
        self._account = {address: i for i, address in enumerate(self.traders)}

    # Actions

    def act(self, sender: str, at: int, contract: str, function: str, *args: Any) -> Outcome:
        """Runs one transaction through System.execute and records it."""
        start = time.perf_counter()
        outcome = self.system.execute(self.actors[sender], GENESIS + at, contract, function, args)
        self.execute_seconds += time.perf_counter() - start
        self.actions.append(RecordedAction(at, sender, contract, function, tuple(args), outcome))
        return outcome

    def post_round(self, at: int, answer: int, updated_at: int, source: int = 0) -> None:
        """A round on one of the market's sources (feed units, `updatedAt` in seconds since t=0)."""
        self.act("owner", at, source_name(self.market, source), "setRoundData", answer, GENESIS + updated_at)

    def post_step(self, step: int, at: int) -> None:
        """The rounds landing at `step`: the single feed's, or each source's of a set (the
        adapter takes their median itself)."""
        tl = self.timeline
        if not tl.sources:
            if tl.lands[0, step]:
                self.post_round(at, int(tl.answer[0, step]), int(tl.updated_at[0, step]))
            return
        for k, (answer, updated, lands) in enumerate(tl.sources):
            if lands[0, step]:
                self.post_round(at, int(answer[0, step]), int(updated[0, step]), k)

    def post_opening_round(self, at: int, updated_at: int | None = None) -> None:
        """The path's first price observed at `updated_at` (default `at`) on every source (and
        the mark pushed, when keepers push it)."""
        answer = int(self.timeline.answer[0, 0])
        for k in range(max(1, len(self.timeline.sources))):
            self.post_round(at, answer, at if updated_at is None else updated_at, k)
        if self.config.keepers.update_mark and at > 0:
            self.act("keeper", at, "oracle", "updateMark", self.market)

    def landed(self, step: int) -> bool:
        """Whether any round lands at `step`."""
        tl = self.timeline
        if not tl.sources:
            return bool(tl.lands[0, step])
        return any(bool(lands[0, step]) for _, _, lands in tl.sources)

    def fund(self, sender: str, contract: str, amount: int) -> None:
        self.act(sender, 0, "token", "mint", self.actors[sender], amount)
        self.act(sender, 0, "token", "approve", self.addresses.by_name()[contract], amount)

    def setup(self) -> None:
        """t=0: the path's first price on chain, LP deposit, insurance bucket, safety-module
        stake, then the population."""
        pop = self.population
        self.post_opening_round(0)
        self.fund("lp", "pool", pop.lp_deposit)
        self.act("lp", 0, "pool", "deposit", pop.lp_deposit, self.actors["lp"])
        if pop.insurance > 0:
            self.fund("backer", "insuranceFund", pop.insurance)
            self.act("backer", 0, "insuranceFund", "fund", self.market, pop.insurance)
        if pop.safety_module > 0:
            self.fund("staker", "safetyModule", pop.safety_module)
            self.act("staker", 0, "safetyModule", "stake", pop.safety_module)
        if self.config.keepers.adl:
            self.act("owner", 0, "engine", "setAdlKeeper", self.actors["keeper"], True)
        open_population(self, 0)

    def run(self) -> ExactResult:
        self.setup()
        tl = self.timeline
        dt = self.config.step_s
        engine = self.system.c
        seen: list[set[int]] = []
        rows: list[LiquidationRow] = []
        adl_notional = adl_steps = 0
        empty_step: int | None = None
        for step in range(self.config.steps + 1):
            at = step * dt
            if step > 0:
                self.post_step(step, at)
                if self.config.keepers.update_mark and self.landed(step) and tl.blocked[0, step] != SEQUENCER:
                    self.act("keeper", at, "oracle", "updateMark", self.market)
            started = time.perf_counter()
            seen.append(self.liquidatable(at) if tl.blocked[0, step] == OK else set())
            self.scan_seconds += time.perf_counter() - started
            if step == 0 or tl.blocked[0, step] != OK:
                continue
            if self.keepers_down[step]:
                continue
            before = max(0, step - self.lag)
            done = 0
            for i in sorted(seen[before] & seen[step]):
                if self.capacity is not None and done >= self.capacity:
                    break  # the block is full: the rest wait for the next one
                if not self.worth_it(at, i, self.gas[step]):
                    continue
                outcome = self.act("keeper", at, "engine", "liquidate", self.traders[i], self.market)
                if not outcome.reverted:
                    row = self.liquidation_row(step, at, i, outcome)
                    rows.append(row)
                    self.sold[step] += row.size_closed / 1e18 * row.oracle_price / 1e18
                    self._forget(i)
                    done += 1
            if self.config.keepers.adl:
                notional, count = self.deleverage(at, step)
                adl_notional += notional
                adl_steps += count
            if empty_step is None and self.population.insurance > 0:
                if engine.insurance_fund.bucket_of(self.market) == 0:
                    empty_step = step
        haircut = sum(
            e.values[4]
            for a in self.actions
            if not a.outcome.reverted
            for e in a.outcome.events
            if e.name == "ProfitHaircut"
        )
        return ExactResult(
            path=self.path,
            liquidations=rows,
            adl_notional=adl_notional,
            adl_steps=adl_steps,
            haircut=haircut,
            unrealised_shortfall=self.unrealised_shortfall(self.config.horizon_s),
            actions=self.actions,
            prices=self.prices,
            timeline=self.timeline,
            first_insurance_empty_step=empty_step,
            actors=self.actors,
            execute_seconds=self.execute_seconds,
            sold_usd=self.sold,
            adl_trades=self.adl_trades,
            scan_seconds=self.scan_seconds,
        )

    # Keeper views (read-only: views never change the model)

    def env(self, at: int, sender: str = "keeper") -> Env:
        return Env(self.actors[sender], GENESIS + at)

    def liquidatable(self, at: int) -> set[int]:
        """The positions `isLiquidatable` shows at `at` (none when the price reverts). The view's
        context (oracle price, funding index) is read once for the block, then the engine's own
        `_is_liquidatable` on the candidates of an index: a long is liquidatable when
        `price x (1 - rate) - index < k`, a short when `price x (1 + rate) - index > k`, with `k`
        the position's bankruptcy key (entry - funding index -/+ scale x cushion / size, unchanged
        by funding settlement), so with the highest tier's rate as a bound only the positions past
        it in the per-side order of `k` (sorted once, re-sorted after a position changes) can
        be; each is then checked exactly. What `isLiquidatable` computes, per block, without
        reading every position."""
        engine = self.system.c.engine
        try:
            params, price, index = engine._view_context(self.env(at), self.market)
        except Revert:
            return set()
        if self._index is None:
            self._index = self._build_index()
        long_keys, long_ids, short_keys, short_ids = self._index
        # The highest tier any open position is in at this price bounds every position's rate.
        top = engine._tier_bps(params, self._largest * price // engine.notional_scale + 1)
        slack = price // 10**6 + 10**6  # far wider than any rounding of the exact check
        bound_long = price * (10_000 - top) // 10_000 - index - slack
        bound_short = price * (10_000 + top) // 10_000 - index + slack
        candidates = long_ids[bisect.bisect_right(long_keys, bound_long) :]
        candidates += short_ids[: bisect.bisect_left(short_keys, bound_short)]
        found = set()
        for i in candidates:
            position = engine.position_of(self.traders[i], self.market)
            if position.size != 0 and engine._is_liquidatable(params, position, price, index):
                found.add(i)
        return found

    def _forget(self, i: int) -> None:
        """After a liquidation: a closed position leaves the index; a partly closed one re-sorts it."""
        if self._index is None:
            return
        if self.system.c.engine.position_of(self.traders[i], self.market).size != 0:
            self._index = None
            return
        for keys, ids in ((self._index[0], self._index[1]), (self._index[2], self._index[3])):
            if i in ids:
                k = ids.index(i)
                del keys[k], ids[k]

    def _build_index(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """Per side, the open positions sorted by bankruptcy key."""
        engine = self.system.c.engine
        scale = engine.notional_scale
        longs, shorts = [], []
        for i, trader in enumerate(self.traders):
            position = engine.position_of(trader, self.market)
            if position.size == 0:
                continue
            cushion = (position.margin - position.accrued_funding) * scale // abs(position.size)
            base = position.entry_price - position.funding_index
            if position.size > 0:
                longs.append((base - cushion, i))
            else:
                shorts.append((base + cushion, i))
        longs.sort()
        shorts.sort()
        self._largest = max(
            (abs(engine.position_of(self.traders[i], self.market).size) for _, i in longs + shorts), default=0
        )
        return [k for k, _ in longs], [i for _, i in longs], [k for k, _ in shorts], [i for _, i in shorts]

    def worth_it(self, at: int, i: int, gas: int | None = None) -> bool:
        try:
            preview = self.system.c.engine.preview_liquidation(self.env(at), self.traders[i], self.market)
        except Revert:
            return False
        return preview.keeper_reward >= (self.population.gas_cost if gas is None else gas)

    def unrealised_shortfall(self, at: int) -> int:
        """Negative equity of the positions still open, at the real market price of the last step
        (a stuck or stale oracle hides it from the chain). Read-only: the engine's own equity
        formula on a WAD price, nothing written."""
        engine = self.system.c.engine
        params, state = engine._listed(self.market)
        decimals = self.timeline.decimals
        price = int(round(self.prices[-1] * 10**decimals)) * 10 ** (18 - decimals)
        _, index = engine._current_funding_index(self.env(at), params, state, price)
        total = 0
        for trader in self.traders:
            position = engine.position_of(trader, self.market)
            if position.size != 0:
                equity = engine._equity(position, price, index)
                total += -equity if equity < 0 else 0
        return total

    def deleverage(self, at: int, step: int = 0) -> tuple[int, int]:
        """The keeper, granted the ADL-keeper role at setup (it holds no position): while a side is above
        its trigger (or above target once active), follow adl_plan."""
        engine = self.system.c.engine
        notional = count = 0
        for is_long in (True, False):
            try:
                ratio = engine.side_profit_ratio(self.env(at, "keeper"), self.market, is_long)
            except Revert:
                return notional, count
            state = engine.market_state(self.market)
            active = state.adl_long_active if is_long else state.adl_short_active
            if ratio <= (engine.adl_target_bps if active else engine.adl_trigger_bps):
                continue
            for account, reduction in adl_plan(engine, self.env(at, "keeper"), self.market, is_long):
                outcome = self.act("keeper", at, "engine", "autoDeleverage", account, self.market, reduction)
                if not outcome.reverted:
                    event = outcome.event("AutoDeleveraged")
                    notional += reduction * event.oracle_price // self.system.c.engine.notional_scale
                    count += 1
                    signed = reduction if is_long else -reduction
                    self.sold[step] += signed / 1e18 * event.oracle_price / 1e18
                    self.adl_trades.append((step, self._account.get(account, -1), signed))
                    self._index = None
        return notional, count

    def liquidation_row(self, step: int, at: int, i: int, outcome: Outcome) -> LiquidationRow:
        liq = outcome.event("Liquidated")
        bad = outcome.events_named("BadDebtSettled")
        debt = bad[0] if bad else None
        updated = GENESIS + int(self.timeline.observed_at[0, step])
        return LiquidationRow(
            step=step,
            trader=i,
            oracle_price=liq.oracle_price,
            execution_price=liq.execution_price,
            bankruptcy_price=liq.bankruptcy_price,
            size_closed=liq.size_closed,
            realised=liq.realised,
            reward=liq.keeper_reward,
            penalty=liq.penalty,
            shortfall=debt.shortfall if debt else 0,
            from_insurance=debt.from_insurance if debt else 0,
            from_safety_module=debt.from_safety_module if debt else 0,
            from_pool=debt.from_pool if debt else 0,
            oracle_lag=GENESIS + at - updated,
        )


def open_population(run: ExactRun, at: int) -> list[Outcome]:
    """Opens every position of the population through two-step orders (issue 8): every trader
    submits at block time `at` (seconds since genesis), escrowing margin and execution fee;
    `minExecutionDelay` later (at least a second) the oracle observes the same price again and the
    keeper executes every order at that round. Returns the executions' outcomes (a refused fill
    shows as `OrderCancelled`). The ONE place positions are opened."""
    pop: Population = run.population
    router = run.system.c.order_router
    fee = router.execution_fee
    for i, (size, margin) in enumerate(zip(pop.sizes, pop.margins, strict=True)):
        name = trader_name(i)
        run.fund(name, "orderRouter", margin + fee)
        acceptable = 2**256 - 1 if size > 0 else 0
        run.act(name, at, "orderRouter", "submitOrder", run.market, size, margin, acceptable)
    fill_at = at + max(1, router.min_execution_delay)
    run.post_opening_round(fill_at)
    return [
        run.act("keeper", fill_at, "orderRouter", "executeOrder", trader, run.market, [], []) for trader in run.traders
    ]


def run_exact(config: SimConfig, path: int = 0) -> ExactResult:
    """Tier 1 on path `path` of `config`. With the depth model on, the path's price is moved by
    its own liquidation and ADL flow (simulator.cascade): run, move, run again until the
    liquidations and ADL trades no longer change (the causal fixed point)."""
    if not config.depth.enabled:
        return ExactRun(config, path).run()
    base = generate_paths(config, path, 1)
    shift = None
    previous = None
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        result = ExactRun(config, path, moved_prices(base, shift)).run()
        flow = (tuple((r.step, r.trader, r.size_closed) for r in result.liquidations), tuple(result.adl_trades))
        if flow == previous:
            break
        previous = flow
        shift = depth_shift(config, result.sold_usd[None, :])
    result.depth_rounds = rounds
    return result
