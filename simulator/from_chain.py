"""The Monte Carlo from a live deployment: the exact tier started from the book, pool, insurance
buckets and safety module that are on chain now (`ape run simulate --from-deployment`).

The deployment's model comes from `chainio.watch`: rebuilt from the record and every
transaction since, and held to the chain's state to the wei up to the head (or, offline, from a
watcher checkpoint, as of its block). Each path then runs on a copy of that model from the head
block's time: the scenario's price path starts at the market's current feed answer, its rounds
are posted to the market's own mock feed by the deployer, and keepers (an address outside the
deployment, granted the ADL role when the scenario's keepers run ADL) liquidate and deleverage
as in `simulator.exact.ExactRun`: same loop, same rules. The scenario's `system` and
`population` are replaced by the deployment's: what is simulated is what is deployed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from eth_utils import to_checksum_address
from rich.table import Table

from chainio.deploy_record import DeploymentRecord
from pymodel.core import Env
from pymodel.system import System, source_name
from simulator.config import SimConfig
from simulator.exact import ExactResult, ExactRun, RecordedAction, trader_name
from simulator.metrics import distribution
from simulator.oracles import simulate_oracle
from simulator.paths import generate_paths
from simulator.population import Population, keeper_latency_steps

# The simulated keeper: an address no deployment holds (it only liquidates and deleverages).
KEEPER = to_checksum_address("0x" + "6b" * 20)
LAYERS = ("shortfall", "from_insurance", "from_safety_module", "from_pool")


@dataclass(frozen=True)
class Book:
    """The deployment's model at `timestamp` (a block's time) and where it came from."""

    system: System
    timestamp: int
    block: int
    deployer: str
    source: str  # "chain" (watched to the head) or the checkpoint's path

    def traders(self, market_id: int) -> list[str]:
        """Accounts with an open position in `market_id`, in the engine's order."""
        positions = self.system.c.engine.s.positions
        return [account for (account, market), p in positions.items() if market == market_id and p.size != 0]


def scenario_for(config: SimConfig, record: DeploymentRecord, book: Book) -> SimConfig:
    """`config` on the deployed protocol: its system, its market's current price as the path's
    start; the sampled population is replaced by the book (only its bounds are kept valid)."""
    system = record.deployment_config().system
    if config.market_id not in {m.market_id for m in system.markets}:
        raise ValueError(f"market_id={config.market_id} is not a market of the deployment")
    market = next(m for m in system.markets if m.market_id == config.market_id)
    deployed = len(market.oracle_sources())
    if len(config.oracle.sources) != deployed:
        raise ValueError(
            f"oracle.sources: the scenario has {len(config.oracle.sources)} source(s), market "
            f"{config.market_id} of the deployment {deployed}"
        )
    feed = book.system.c.sources[config.market_id][0]
    start_price = feed.latest_round_data()[1] / 10**feed.decimals  # the path generator's floats
    data = config.model_dump()
    data["preset"] = None
    data["system"] = system.model_dump()
    data["path"]["start_price"] = start_price
    data["population"] |= {"leverage_min": 1.0, "leverage_max": 1.0}
    return SimConfig.model_validate(data)


class DeploymentRun(ExactRun):
    """One path of a scenario on a copy of the deployment's model, from the book's time on."""

    def __init__(self, config: SimConfig, path: int, book: Book) -> None:
        self.config = config
        self.path = path
        rows = generate_paths(config, path, 1)
        self.timeline = simulate_oracle(config, rows, path)
        self.prices = [float(x) for x in rows[0]]
        self.lag = int(keeper_latency_steps(config, path, 1)[0])
        self.market = config.market_id
        self.start = book.timestamp
        self.system = copy.deepcopy(book.system)
        self.addresses = self.system.addresses
        traders = book.traders(self.market)
        self.actors = {"owner": book.deployer, "keeper": KEEPER}
        self.actors |= {trader_name(i): account for i, account in enumerate(traders)}
        self.traders = traders
        c = self.system.c
        positions = [c.engine.position_of(account, self.market) for account in traders]
        unit = 10**config.system.collateral_decimals
        self.population = Population(
            sizes=tuple(p.size for p in positions),
            margins=tuple(p.margin for p in positions),
            leverages=(),
            lp_deposit=c.pool.cash,
            insurance=c.insurance_fund.bucket_of(self.market),
            safety_module=c.safety_module.total_assets,
            gas_cost=int(config.keepers.gas_cost_usd * unit),
        )
        self._init_run_state(rows)

    # The clock starts at the book's block time (ExactRun's at GENESIS)

    def act(self, sender: str, at: int, contract: str, function: str, *args: Any) -> Any:
        outcome = self.system.execute(self.actors[sender], self.start + at, contract, function, args)
        self.actions.append(RecordedAction(at, sender, contract, function, tuple(args), outcome))
        return outcome

    def post_round(self, at: int, answer: int, updated_at: int, source: int = 0) -> None:
        self.act("owner", at, source_name(self.market, source), "setRoundData", answer, self.start + updated_at)

    def env(self, at: int, sender: str = "keeper") -> Env:
        return Env(self.actors[sender], self.start + at)

    def setup(self) -> None:
        """The book is open already; the keeper is granted the ADL role if it runs ADL."""
        if self.config.keepers.adl:
            self.act("owner", 0, "engine", "setAdlKeeper", KEEPER, True)


@dataclass
class DeploymentReport:
    config: SimConfig
    book: Book
    results: list[ExactResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Per-path distributions in USD (exact tier) and the book it started from."""
        unit = 10**self.config.system.collateral_decimals
        totals = [r.totals() for r in self.results]
        values = {layer: np.array([t[layer] / unit for t in totals]) for layer in LAYERS}
        unrealised = np.array([r.unrealised_shortfall / unit for r in self.results])
        c = self.book.system.c
        market = self.config.market_id
        return {
            "tier": "exact",
            "paths": len(self.results),
            "block": self.book.block,
            "timestamp": self.book.timestamp,
            "book": {
                "positions": len(self.book.traders(market)),
                "long_size": c.engine.market_state(market).long_size,
                "short_size": c.engine.market_state(market).short_size,
                "pool_cash_usd": c.pool.cash / unit,
                "insurance_usd": c.insurance_fund.bucket_of(market) / unit,
                "safety_module_usd": c.safety_module.total_assets / unit,
                "start_price": self.config.path.start_price,
            },
            "distribution_usd": {layer: distribution(values[layer]) for layer in LAYERS},
            "unrealised_shortfall_usd": distribution(unrealised),
            "probability": {
                "insurance_touched": float((values["from_insurance"] > 0).mean()),
                "safety_module_slashed": float((values["from_safety_module"] > 0).mean()),
                "pool_hit": float((values["from_pool"] > 0).mean()),
                "adl_triggered": float(np.mean([r.adl_steps > 0 for r in self.results])),
            },
            "liquidations_per_path": float(np.mean([t["liquidations"] for t in totals])),
            "adl_steps_per_path": float(np.mean([r.adl_steps for r in self.results])),
            "haircut_usd_mean": float(np.mean([r.haircut / unit for r in self.results])),
        }


def simulate_deployment(config: SimConfig, record: DeploymentRecord, book: Book) -> DeploymentReport:
    """`config.paths` paths of the scenario, each on the exact model from the book."""
    scenario = scenario_for(config, record, book)
    report = DeploymentReport(scenario, book)
    for path in range(scenario.paths):
        report.results.append(DeploymentRun(scenario, path, book).run())
    return report


def book_from_chain(project: Any, rpc: Any, record: DeploymentRecord, checkpoint: Any = None) -> Book:
    """The deployment's model at the head, held to the chain on the way (`chainio.watch`;
    raises `Divergence` where they differ)."""
    from chainio.watch import watcher_for

    watcher = watcher_for(project, rpc, record, checkpoint)
    block = watcher.run()
    return Book(watcher.system, watcher.block_timestamp, block, record.deployer, "chain")


def book_from_checkpoint(project: Any, record: DeploymentRecord, path: Path) -> Book:
    """The deployment's model as of a watcher checkpoint's block (no chain reads)."""
    from chainio.history import decoders_for
    from chainio.watch import Checkpoint, rebuild_model

    checkpoint = Checkpoint.load(path)
    system, _ = rebuild_model(record, checkpoint, decoders_for(project, record))
    return Book(system, checkpoint.block_timestamp, checkpoint.next_block - 1, record.deployer, str(path))


def header(report: DeploymentReport) -> str:
    from chainio.watch_view import usd

    c, market, d = report.book.system.c, report.config.market_id, report.config.system.collateral_decimals
    feed = c.sources[market][0]
    return (
        f"from block {report.book.block} ({report.book.source}): {len(report.book.traders(market))} positions in "
        f"market {market} at {usd(feed.latest_round_data()[1], feed.decimals)}, pool {usd(c.pool.cash, d)}, "
        f"insurance {usd(c.insurance_fund.bucket_of(market), d)}, safety module {usd(c.safety_module.total_assets, d)}"
    )


def tables(report: DeploymentReport) -> list[Table]:
    s = report.summary()
    title = f"{s['paths']:,} paths x {report.config.steps} steps of {report.config.step_s} s, exact tier"
    table = Table(title=title, title_justify="left")
    table.add_column("USD per path")
    for column in ("mean", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="right")
    rows = [(layer, s["distribution_usd"][layer]) for layer in LAYERS]
    rows.append(("unliquidated at horizon", s["unrealised_shortfall_usd"]))
    labels = {"shortfall": "bad debt (shortfall)", "from_insurance": "  insurance bucket"}
    labels |= {"from_safety_module": "  safety module", "from_pool": "  LP pool"}
    for key, row in rows:
        table.add_row(labels.get(key, key), *(f"{row[c]:,.2f}" for c in ("mean", "p50", "p95", "p99", "max")))
    risk = Table(show_header=False)
    risk.add_column("metric")
    risk.add_column("value", justify="right")
    for name, p in s["probability"].items():
        risk.add_row(f"P({name.replace('_', ' ')})", f"{p:.1%}")
    risk.add_row("liquidations per path (mean)", f"{s['liquidations_per_path']:.1f}")
    risk.add_row("ADL steps per path (mean)", f"{s['adl_steps_per_path']:.1f}")
    return [table, risk]


def resolve(source: str, deployments: Path) -> tuple[DeploymentRecord, Path | None]:
    """`--from-deployment`'s argument: a chain id (its record in `deployments`), a record file, or
    a watcher checkpoint (its record next to it, `<dir>/<chainId>/watch.checkpoint.json` beside
    `<dir>/<chainId>.json`, or in `deployments`). Returns the record and the checkpoint, if any."""
    import json

    from chainio import deploy_record
    from chainio.watch import Checkpoint, record_for_chain, watchable

    if source.isdigit():
        return record_for_chain(deployments, int(source)), None
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"--from-deployment {source}: neither a chain id nor a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise ValueError(
            f"--from-deployment {source}: not JSON (a deployment record or a watcher checkpoint)"
        ) from None
    if isinstance(data, dict) and "deployment_stamps" in data:
        chain_id = Checkpoint.model_validate(data).chain_id
        for directory in (path.parent.parent, deployments):
            if deploy_record.record_path(directory, chain_id).exists():
                return record_for_chain(directory, chain_id), path
        raise ValueError(f"no record of chain {chain_id} beside {path} or in {deployments}")
    return watchable(path), None


def run_cli(source: str, config: SimConfig, console: Any, out: Path | None, deployments: Path) -> None:
    """`ape run simulate --from-deployment SOURCE`: one line and exit 1 on any refusal."""
    import click
    from ape import networks, project
    from ape.exceptions import ApeException
    from pydantic import ValidationError

    from chainio import RpcClient
    from chainio.rpc import RpcError
    from chainio.watch import Divergence

    try:
        record, checkpoint = resolve(source, deployments)
        if checkpoint is not None:
            book = book_from_checkpoint(project, record, checkpoint)
        else:
            with console.status(f"holding chain {record.chain_id} to the model up to its head"):
                with networks.parse_network_choice(record.network) as provider:
                    rpc = RpcClient(provider.uri)
                    book = book_from_chain(project, rpc, record)
                    rpc.close()
        with console.status(f"{config.paths} path(s) on the exact tier"):
            report = simulate_deployment(config, record, book)
    except (ValueError, ValidationError, Divergence, RpcError, OSError, ApeException) as error:
        raise click.ClickException(f"--from-deployment {source}: {error}") from None
    console.print(header(report))
    for table in tables(report):
        console.print(table)
    if out is not None:
        from simulator import export

        out.mkdir(parents=True, exist_ok=True)
        console.print(f"written: {export.write_json(out / 'summary.json', report.summary())}")
