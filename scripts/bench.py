"""`make bench` / `ape run bench`: toolchain and differential-harness throughput on Anvil.

Prints: compile time (solc-js through ape-solidity, forced recompile), eth_call/s
(one per request and JSON-RPC batched), tx/s (eth_sendTransactionSync) through the
same lean path the tests use, and differential examples/s of the math parity test.
Numbers, not pass/fail: nothing here is timed inside the test suite.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

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
from difftest.attacks import stale_arbitrage_row  # noqa: E402
from difftest.ledger import Ledger  # noqa: E402
from difftest.machine import FuzzWorld, LedgerMachine  # noqa: E402
from difftest.orders import close, trade  # noqa: E402
from pymodel.config import default_config  # noqa: E402

WAD = 10**18
FEED = 10**8
ETH = 1


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s  ({count} in {seconds:.2f} s)"


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


def bench_ledger(ledger: Ledger, rounds: int) -> tuple[dict[str, int], int, float]:
    """Gas of each core action (chain side of a differential run), then differential
    throughput: actions/s with model + chain + event and full-state comparison + conservation."""
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
    measured("executeOrder (open)", keeper, "orderRouter", "executeOrder", trader, ETH)
    measured("submitOrder (close)", trader, "orderRouter", "submitOrder", ETH, -10 * WAD, 0, 0)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED)
    measured("executeOrder (close)", keeper, "orderRouter", "executeOrder", trader, ETH)
    ledger.act(trader, "orderRouter", "submitOrder", ETH, 10 * WAD, usd(5_000), 3_000 * WAD)
    ledger.advance(2)
    ledger.set_price(ETH, 3_000 * FEED)
    measured("executeOrder (fill refused, escrow returned)", keeper, "orderRouter", "executeOrder", trader, ETH)
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
    trade(ledger, winner, ETH, -100 * WAD, usd(50_000), 2_200 * WAD)
    ledger.advance(60)
    ledger.set_price(ETH, 2_100 * FEED)
    measured("autoDeleverage", keeper, "engine", "autoDeleverage", winner, ETH, 10 * WAD)
    measured("requestRedeem", lp, "pool", "requestRedeem", 10**18)
    ledger.advance(3 * 24 * 3600)
    ledger.set_price(ETH, 2_750 * FEED)
    measured("redeem", lp, "pool", "redeem", 10**18, lp, lp)

    start = time.perf_counter()
    actions = 0
    for i in range(rounds):
        ledger.advance(30)
        ledger.set_price(ETH, (2_700 + i % 50) * FEED)
        trade(ledger, trader, ETH, WAD, usd(1_000), 3_000 * WAD)
        ledger.act(trader, "engine", "addMargin", ETH, usd(10))
        close(ledger, trader, ETH, 0)
        actions += 8
    return gas, actions, time.perf_counter() - start


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


@click.command(cls=ConnectedProviderCommand)
@click.option("--calls", default=2000, show_default=True, help="eth_calls per call benchmark")
@click.option("--txs", default=500, show_default=True, help="transactions for the tx/s benchmark")
@click.option("--examples", default=2000, show_default=True, help="math differential examples")
@click.option("--rounds", default=50, show_default=True, help="rounds of 8 differential ledger actions")
@click.option("--sequences", default=40, show_default=True, help="stateful fuzzing sequences")
@click.option("--skip-compile", is_flag=True, help="skip the forced recompile")
def cli(calls: int, txs: int, examples: int, rounds: int, sequences: int, skip_compile: bool) -> None:
    console = Console()
    table = Table(title="perp-backstop benchmarks (lean JSON-RPC path, Anvil)")
    table.add_column("measure")
    table.add_column("result", justify="right")

    if not skip_compile:
        table.add_row("compile, forced (solc-js via ape-solidity)", f"{bench_compile():.2f} s")

    rpc = RpcClient(chain.provider.uri)
    registry = project_registry(project)
    sender = accounts.test_accounts[0]
    harness = lean(rpc, registry, project.MathHarness, project.MathHarness.deploy(sender=sender).address)

    single, batched = bench_calls(harness, calls)
    table.add_row("eth_call, one per request", _rate(calls, single))
    table.add_row("eth_call, batched 100 per request", _rate(calls // 100 * 100, batched))
    table.add_row(
        "transactions (eth_sendTransactionSync)", _rate(txs, bench_transactions(harness, sender.address, txs))
    )
    executed, seconds = bench_math_differential(harness, examples)
    table.add_row("math differential examples (model + chain)", _rate(executed, seconds))

    actors = [account.address for account in accounts.test_accounts[:8]]
    ledger = Ledger.deploy(project, sender, actors, default_config(), rpc, registry, chain.blocks.head.timestamp + 100)
    gas, actions, seconds = bench_ledger(ledger, rounds)
    table.add_row("ledger differential actions (model + chain + full state)", _rate(actions, seconds))
    table.add_row(*stale_arbitrage_row(project, sender, actors, rpc, registry, chain.blocks.head.timestamp + 100))
    world, seconds = bench_stateful(rpc, registry, sequences)
    table.add_row("stateful fuzzing: transactions (model + chain + state + invariants)", _rate(world.steps, seconds))
    table.add_row("stateful fuzzing: sequences", _rate(world.examples, seconds))
    console.print(table)

    gas_table = Table(title="Gas per action (Anvil, solc 0.8.28, optimizer 200 runs)")
    gas_table.add_column("action")
    gas_table.add_column("gas", justify="right")
    for name, used in gas.items():
        gas_table.add_row(name, f"{used:,}")
    console.print(gas_table)
    sys.stdout.flush()
