"""`make bench` / `ape run bench`: toolchain, model and differential-harness throughput on Anvil.

Prints: compile time (solc-js through ape-solidity, forced recompile), eth_call/s (one per
request and JSON-RPC batched), tx/s (eth_sendTransactionSync) through the same lean path the
tests use, differential examples/s of the math parity test, pure-model actions/s (after 10 and
after 1,000 oracle rounds), ledger differential actions/s (model + chain + full state), stateful
fuzzing transactions/s, and the gas of each core action.
Numbers, not pass/fail: nothing here is timed inside the test suite.

Each measurement is a section: a function `(bench) -> None` in `SECTIONS` that adds rows to
`bench.table` (or its own table to `bench.tables`). Add a section by appending a function.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# `ape run` does not put the project root on sys.path.
sys.path.insert(0, str(ROOT))

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from chainio import RpcClient  # noqa: E402
from chainio.project import lean, project_registry  # noqa: E402
from difftest.attacks import stale_arbitrage_row, straddle_rows  # noqa: E402
from difftest.ledger import Ledger  # noqa: E402
from difftest.machine import FuzzWorld, LedgerMachine  # noqa: E402
from difftest.model_only import ModelDriver, model_system  # noqa: E402
from difftest.orders import execute, next_round, submit, three_source_config, trade  # noqa: E402
from pymodel.config import default_config  # noqa: E402
from pymodel.system import pyth_update  # noqa: E402
from simulator.bench import print_bench  # noqa: E402

WAD = 10**18
FEED = 10**8
ETH = 1


def _anvil_cpu() -> float | None:
    """CPU seconds the chain's Anvil process has used so far (None where it cannot be read)."""
    process = getattr(chain.provider, "process", None)
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (AttributeError, OSError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rate(count: int, seconds: float, clock: str = "") -> str:
    return f"{count / seconds:,.0f}/s  ({count} in {seconds:.2f} s{clock})"


def bench_compile() -> float:
    start = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/ape"), "compile", "--force"], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def bench_calls(harness, n: int) -> tuple[float, float]:
    args = (10**30, 3 * 10**18, 7 * 10**12)
    start = time.perf_counter()
    for _ in range(n):
        harness.call("mulDivUp", *args)
    single = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(n // 100):
        harness.call_many([("mulDivUp", args)] * 100)
    batched = time.perf_counter() - start
    return single, batched


def bench_transactions(harness, sender: str, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        harness.transact("mulDivDown", i, 3, 2, sender=sender)
    return time.perf_counter() - start


def bench_math_differential(harness, n: int) -> tuple[int, float]:
    from difftest.math_cases import FUNCTIONS, outcome_of_chain, outcome_of_model

    names = sorted(FUNCTIONS)
    executed = 0

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        nonlocal executed
        name = data.draw(st.sampled_from(names))
        model_fn, strategy = FUNCTIONS[name]
        args = data.draw(strategy)
        assert outcome_of_model(model_fn, args) == outcome_of_chain(harness, name, args), (name, args)
        executed += 1

    start = time.perf_counter()
    run()
    return executed, time.perf_counter() - start


def bench_model(rounds: int, repeats: int = 5) -> dict[int, tuple[int, float]]:
    """Pure-model throughput on the ledger bench's loop (a price; an open order, a round, its
    execution, add margin; a close order, a round, its execution), on a
    model with 10 and one with 1,000 oracle rounds of history: an action's cost must not grow
    with history. Process CPU time (the machine is shared, the model is all Python in this
    process); the two are measured in turns, `repeats` times, and the best turn of each counts."""
    drivers = {}
    for history in (10, 1_000):
        system, actors = model_system()
        driver = ModelDriver(system, actors)
        driver.fund()
        while system.c.feeds[ETH].latest_round_id < history:
            driver.now += 1
            driver.set_price(ETH, 2_700 * FEED)
        drivers[history] = driver
    best: dict[int, tuple[int, float]] = {}
    for _ in range(repeats):
        for history, driver in drivers.items():
            start, actions = time.process_time(), driver.actions
            for i in range(rounds // repeats):
                driver.bench_round(i)
            done = (driver.actions - actions, time.process_time() - start)
            if history not in best or done[1] < best[history][1]:
                best[history] = done
    return best


def bench_ledger(ledger: Ledger) -> dict[str, int]:
    """Gas of each core action (chain side of a differential run)."""
    owner, lp, trader, whale, keeper, staker, bankrupt, winner = ledger.actors[:8]
    usd = ledger.system.config.usd
    gas: dict[str, int] = {}

    def measured(name: str, *action) -> None:
        out = ledger.act(*action)
        assert not out.reverted, (name, out.error)
        gas[name] = ledger.last_chain.gas_used

    for actor, amount in (
        (lp, 5_000_000),
        (trader, 1_000_000),
        (whale, 1_000_000),
        (staker, 10_000),
        (bankrupt, 10_000),
        (winner, 100_000),
    ):
        ledger.mint_and_approve(actor, usd(amount))
    measured("deposit", lp, "pool", "deposit", usd(5_000_000), lp)
    measured("stake (safety module)", staker, "safetyModule", "stake", usd(10_000))
    measured("submitOrder (open)", trader, "orderRouter", "submitOrder", ETH, 10 * WAD, usd(5_000), 3_100 * WAD)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED)
    measured("executeOrder (open)", keeper, "orderRouter", "executeOrder", trader, ETH, [], [])
    measured("submitOrder (close)", trader, "orderRouter", "submitOrder", ETH, -10 * WAD, 0, 0)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED)
    measured("executeOrder (close)", keeper, "orderRouter", "executeOrder", trader, ETH, [], [])
    ledger.act(trader, "orderRouter", "submitOrder", ETH, 10 * WAD, usd(5_000), 3_000 * WAD)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED)
    measured("executeOrder (fill refused, escrow returned)", keeper, "orderRouter", "executeOrder", trader, ETH, [], [])
    ledger.act(trader, "orderRouter", "submitOrder", ETH, 10 * WAD, usd(5_000), 3_100 * WAD)
    ledger.advance(ledger.system.config.max_execution_delay)
    ledger.set_price(ETH, 3_000 * FEED)
    measured("cancelOrder (expired)", keeper, "orderRouter", "cancelOrder", trader, ETH)
    trade(ledger, trader, ETH, 10 * WAD, usd(3_200), 3_100 * WAD)
    trade(ledger, whale, ETH, 600 * WAD, usd(190_000), 3_100 * WAD)
    trade(ledger, bankrupt, ETH, 10 * WAD, usd(3_100), 3_100 * WAD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_750 * FEED)
    measured("liquidate (full)", keeper, "engine", "liquidate", trader, ETH)
    measured("liquidate (partial step)", keeper, "engine", "liquidate", whale, ETH)
    ledger.advance(60)
    ledger.set_price(ETH, 2_300 * FEED)
    measured("liquidate (bad debt: insurance, safety module, pool)", keeper, "engine", "liquidate", bankrupt, ETH)
    ledger.act(owner, "engine", "setAdlParams", 20, 10)  # a low trigger so one winner opens ADL
    ledger.act(owner, "engine", "setAdlKeeper", keeper, True)  # ADL is an owner-granted keeper role
    trade(ledger, winner, ETH, -100 * WAD, usd(50_000), 2_200 * WAD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_100 * FEED)
    measured("autoDeleverage", keeper, "engine", "autoDeleverage", winner, ETH, 10 * WAD)
    measured("requestRedeem", lp, "pool", "requestRedeem", 10**18)
    ledger.advance(3 * 24 * 3600)
    ledger.set_price(ETH, 2_750 * FEED)
    measured("redeem", lp, "pool", "redeem", 10**18, lp, lp)
    return gas


def bench_ledger_loop(ledger: Ledger, rounds: int, batch: int) -> tuple[int, float]:
    """Differential throughput (model + chain + event and full-state comparison + conservation)
    on the order flow: a price; four traders submit open orders; a round after the execution
    delay; a keeper executes them and the traders add margin; then close orders, a round, their
    execution. Actions at one block time share a block when `batch` > 1 (23 actions per round
    in 5 block times)."""
    traders = ledger.actors[2:6]
    usd = ledger.system.config.usd
    delay = max(1, ledger.system.c.order_router.min_execution_delay)
    for trader in traders[1:]:
        ledger.mint_and_approve(trader, usd(1_000_000))
    ledger.batch = batch
    start = time.perf_counter()
    actions = 0
    for i in range(rounds):
        ledger.advance(30)
        ledger.set_price(ETH, (2_700 + i % 50) * FEED)
        for trader in traders:
            submit(ledger, trader, ETH, WAD, usd(1_000), 3_000 * WAD)
        ledger.advance(delay)
        next_round(ledger, ETH)
        for trader in traders:
            execute(ledger, trader, ETH)
            ledger.act(trader, "engine", "addMargin", ETH, usd(10))
        for trader in traders:
            submit(ledger, trader, ETH, -WAD, 0, 0)
        ledger.advance(delay)
        next_round(ledger, ETH)
        for trader in traders:
            execute(ledger, trader, ETH)
        actions += 23
    ledger.flush()
    return actions, time.perf_counter() - start


def bench_stateful(rpc, registry, sequences: int) -> tuple[FuzzWorld, float]:
    """The stateful fuzzer (model + chain + full-state comparison + invariants per step)."""
    from hypothesis.stateful import run_state_machine_as_test

    world = FuzzWorld(project, accounts.test_accounts, rpc, registry, chain.blocks.head.timestamp + 100, "/tmp")
    LedgerMachine.world = world
    start = time.perf_counter()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=sequences,
            stateful_step_count=31,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    return world, time.perf_counter() - start


class Bench:
    """What the sections share: options, the chain, and the tables they fill."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.console = Console()
        self.table = Table(title="perp-backstop benchmarks (lean JSON-RPC path, Anvil)")
        self.table.add_column("measure")
        self.table.add_column("result", justify="right")
        self.tables: list[Table] = []  # further tables, printed after the main one
        self.results: dict[str, Any] = {}  # what one section leaves for another
        self.rpc = RpcClient(chain.provider.uri)
        self.registry = project_registry(project)
        self.sender = accounts.test_accounts[0]
        self.actors = [account.address for account in accounts.test_accounts[:8]]

    def row(self, measure: str, result: str) -> None:
        self.table.add_row(measure, result)

    @cached_property
    def harness(self) -> Any:
        return lean(
            self.rpc, self.registry, project.MathHarness, project.MathHarness.deploy(sender=self.sender).address
        )


def section_compile(bench: Bench) -> None:
    if not bench.options["skip_compile"]:
        bench.row("compile, forced (solc-js via ape-solidity)", f"{bench_compile():.2f} s")


def section_sizes(bench: Bench) -> None:
    """Each deployed contract's runtime size (EIP-170: 24,576 bytes) and initcode (EIP-3860:
    49,152), from the artifacts: the contracts of a timelocked deployment's plan and those the
    engine creates itself. The README quotes these rows, never typed numbers."""
    from chainio.deploy import Deploy, DeploymentConfig, TimelockConfig, plan
    from chainio.verify import CREATED
    from pymodel.config import default_config

    config = DeploymentConfig.local(default_config()).model_copy(update={"timelock": TimelockConfig(min_delay=0)})
    names = list(dict.fromkeys(step.contract for step in plan(config) if isinstance(step, Deploy)))
    names += [created for name in list(names) for _, created in CREATED.get(name, ())]
    sizes = []
    for name in names:
        contract_type = getattr(project, name).contract_type
        runtime = len(bytes(contract_type.runtime_bytecode.to_bytes()))
        initcode = len(bytes(contract_type.deployment_bytecode.to_bytes()))
        sizes.append((runtime, initcode, name))
    for runtime, initcode, name in sorted(sizes, reverse=True):
        bench.row(f"size {name}: runtime / initcode (bytes)", f"{runtime:,} / {initcode:,}")


def section_rpc(bench: Bench) -> None:
    calls, txs = bench.options["calls"], bench.options["txs"]
    single, batched = bench_calls(bench.harness, calls)
    bench.row("eth_call, one per request", _rate(calls, single))
    bench.row("eth_call, batched 100 per request", _rate(calls // 100 * 100, batched))
    seconds = bench_transactions(bench.harness, bench.sender.address, txs)
    bench.row("transactions (eth_sendTransactionSync)", _rate(txs, seconds))


def section_math(bench: Bench) -> None:
    executed, seconds = bench_math_differential(bench.harness, bench.options["examples"])
    bench.row("math differential examples (model + chain)", _rate(executed, seconds))


def section_model(bench: Bench) -> None:
    results = bench_model(bench.options["model_rounds"])
    for history, (actions, seconds) in results.items():
        bench.row(
            f"pure-model actions after {history:,} oracle rounds (target ≥20,000/s)",
            _rate(actions, seconds, ", process CPU"),
        )


def section_ledger(bench: Bench) -> None:
    ledger = Ledger.deploy(
        project,
        bench.sender,
        bench.actors,
        default_config(),
        bench.rpc,
        bench.registry,
        chain.blocks.head.timestamp + 100,
    )
    gas = bench_ledger(ledger)
    for batch, rounds, label in (
        (1, bench.options["rounds"], "one block per action"),
        (16, bench.options["rounds"] * 2, "batched per block time (target ≥500/s)"),
    ):
        python, anvil = time.process_time(), _anvil_cpu()
        actions, seconds = bench_ledger_loop(ledger, rounds, batch)
        bench.row(f"ledger differential actions, {label}", _rate(actions, seconds))
        if anvil is not None:
            # What the two processes spent per action, whatever else the machine was running;
            # they take turns, so an idle machine would reach about 1 / (their sum).
            python_ms = (time.process_time() - python) * 1000 / actions
            anvil_ms = (_anvil_cpu() - anvil) * 1000 / actions  # type: ignore[operator]
            bench.row(
                f"  CPU per action: Python + Anvil ({label.split(' (')[0]})",
                f"{python_ms:.2f} + {anvil_ms:.2f} ms (≈{1000 / (python_ms + anvil_ms):,.0f}/s idle)",
            )
    gas_table = Table(title="Gas per action (Anvil, solc 0.8.28, optimizer 200 runs)")
    gas_table.add_column("action")
    gas_table.add_column("gas", justify="right")
    for name, used in gas.items():
        gas_table.add_row(name, f"{used:,}")
    bench.tables.append(gas_table)


def section_stale_arbitrage(bench: Bench) -> None:
    """Issue 8: what a trader who sees the market 1% before the oracle earns per $ of notional."""
    bench.row(
        *stale_arbitrage_row(
            project, bench.sender, bench.actors, bench.rpc, bench.registry, chain.blocks.head.timestamp + 100
        )
    )


def section_trader_as_keeper(bench: Bench) -> None:
    """Issue 17: a trader who runs its own keeper straddles, keeps the leg in the money at the
    pinned price and lets the other expire (model only; ≤ 0 net of costs), and the gas of a
    pinned `executeOrder` on one and three sources (chain)."""
    for row in straddle_rows(default_config()):
        bench.row(*row)
    for label, config in (("one source", default_config()), ("three sources, one pull update", three_source_config())):
        bench.row(f"gas: executeOrder with pinned rounds, {label}", f"{bench_pinned_execute_gas(bench, config):,}")


def bench_pinned_execute_gas(bench: Bench, config: Any) -> int:
    """The gas of one `executeOrder` that opens a 10 ETH long at pinned rounds (the oracle finds
    them; a pull update for each Pyth source), on a fresh deployment under an EVM snapshot."""
    usd = 10**config.collateral_decimals
    snapshot = bench.rpc.request("evm_snapshot")
    try:
        ledger = Ledger.deploy(
            project, bench.sender, bench.actors, config, bench.rpc, bench.registry, chain.blocks.head.timestamp + 100
        )
        lp, trader, keeper = ledger.actors[1], ledger.actors[2], ledger.actors[4]
        ledger.mint_and_approve(lp, 1_000_000 * usd)
        ledger.act(lp, "pool", "deposit", 1_000_000 * usd, lp)
        ledger.mint_and_approve(trader, 100_000 * usd)
        assert not submit(ledger, trader, ETH, 10 * WAD, 3_100 * usd, 10**30).reverted
        ledger.advance(max(1, config.min_execution_delay))
        ledger.set_price(ETH, 3_000 * FEED)
        market = next(m for m in config.markets if m.market_id == ETH)
        updates = [
            pyth_update(ETH, i, s.decimals, 3_000 * 10**s.decimals, ledger.now)
            for i, s in enumerate(market.oracle_sources())
            if s.kind == "pyth"
        ]
        filled = ledger.act(keeper, "orderRouter", "executeOrder", trader, ETH, [], updates)
        assert filled.events_named("OrderExecuted"), filled
        return ledger.last_chain.gas_used
    finally:
        bench.rpc.request("evm_revert", [snapshot])


def section_stateful(bench: Bench) -> None:
    world, seconds = bench_stateful(bench.rpc, bench.registry, bench.options["sequences"])
    bench.row("stateful fuzzing: transactions (model + chain + state + invariants)", _rate(world.steps, seconds))
    bench.row("stateful fuzzing: sequences", _rate(world.examples, seconds))


def section_campaign(bench: Bench) -> None:
    """Issue 22: a short `ape run fuzz` campaign on local processes (two shards, one Anvil each,
    started by the shards themselves): tx/s per shard while fuzzing, and for the campaign (all
    transactions over its wall time, the shards' Anvil starts and deployments included)."""
    from difftest.campaign import CampaignOptions, run_campaign

    steps = bench.options["campaign_steps"]
    record = run_campaign(CampaignOptions(shards=2, profile="deep", steps=steps, seed=22))
    verdict = "" if record.passed else ", FAILED: see `ape run fuzz`"
    bench.row(
        f"fuzz campaign, 2 local shards, {record.totals.transactions:,} transactions{verdict}",
        _rate(record.totals.transactions, max(record.wall_s, 1e-9), ", campaign wall time"),
    )
    for result in record.results:
        label = f"  shard {result.shard}: transactions while fuzzing (model + chain + state + invariants)"
        bench.row(label, _rate(result.transactions, result.fuzz_s) if result.fuzz_s else result.status)


def section_simulator(bench: Bench) -> None:
    """Tier-2 throughput and memory, tier-1 actions/s, tier agreement (simulator.bench)."""
    print_bench(bench.console)


# In order; append a section to add a measurement.
SECTIONS: list[Callable[[Bench], None]] = [
    section_compile,
    section_sizes,
    section_rpc,
    section_math,
    section_model,
    section_ledger,
    section_stale_arbitrage,
    section_trader_as_keeper,
    section_stateful,
    section_campaign,
    section_simulator,
]


@click.command(cls=ConnectedProviderCommand)
@click.option("--calls", default=2000, show_default=True, help="eth_calls per call benchmark")
@click.option("--txs", default=500, show_default=True, help="transactions for the tx/s benchmark")
@click.option("--examples", default=2000, show_default=True, help="math differential examples")
@click.option("--rounds", default=20, show_default=True, help="rounds of 23 differential ledger actions")
@click.option("--model-rounds", default=2_500, show_default=True, help="rounds of 4 pure-model actions")
@click.option("--sequences", default=40, show_default=True, help="stateful fuzzing sequences")
@click.option("--campaign-steps", default=2_000, show_default=True, help="transactions of the fuzz campaign")
@click.option("--skip-compile", is_flag=True, help="skip the forced recompile")
@click.option("--only", default="", help="comma-separated sections (e.g. stale_arbitrage,trader_as_keeper)")
def cli(**options: Any) -> None:
    bench = Bench(options)
    only = {f"section_{name}" for name in options["only"].split(",") if name}
    for section in SECTIONS:
        if not only or section.__name__ in only:
            section(bench)
    bench.console.print(bench.table)
    for table in bench.tables:
        bench.console.print(table)
    sys.stdout.flush()
