"""Deploys a system from ONE list of steps, in the order the model mirrors (`pymodel.system`).

`plan(config)` turns a validated `DeploymentConfig` into the steps: deploy a contract with its
constructor arguments, adopt a contract that already exists (a given token or Chainlink feed),
or call a wiring function. `execute` runs them; the test harness (`deploy_system`) and the
testnet deploy (`scripts/deploy.py`, which also records every step in `deployments/<chainId>.json`
and resumes from it) run the same plan. A new contract (an order router, another oracle source,
a keeper role) is one more stage function appended to `STAGES`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from chainio.abi import AbiRegistry
from chainio.contract import LeanContract
from chainio.project import lean
from chainio.rpc import RpcClient
from pymodel.config import MAX_GRACE_PERIOD, SystemConfig
from pymodel.system import (
    PYTH_UPDATE_FEE,
    PYTH_VALID_TIME_PERIOD,
    Addresses,
    feed_name,
    pyth_update,
    source_name,
    source_specs,
)

ZERO_ADDRESS = "0x" + "00" * 20


def _address(value: str) -> str:
    from eth_utils import is_hex_address, to_checksum_address

    if not is_hex_address(value):
        raise ValueError(f"{value!r} is not a 20-byte hex address")
    if int(value, 16) == 0:
        raise ValueError("the zero address is not allowed")
    return to_checksum_address(value)


Address = Annotated[str, AfterValidator(_address)]

# Chains the project ships network settings for (ape-config.yaml), by ecosystem:network.
KNOWN_CHAIN_IDS = {"ethereum:sepolia": 11155111, "ethereum:arbitrum-sepolia": 421614, "ethereum:base-sepolia": 84532}


# The longest timelock delay a config may ask for (a change stays visible this long before it runs).
MAX_TIMELOCK_DELAY = 30 * 24 * 3600
LOCAL_CHAIN_IDS = (31337, 1337)


class TimelockConfig(BaseModel):
    """OpenZeppelin's `TimelockController`, owner of every owned contract on a deployed network."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Seconds between scheduling a change and its earliest execution.
    min_delay: Annotated[int, Field(ge=0, le=MAX_TIMELOCK_DELAY)]
    # May schedule (and cancel) changes; empty: the deployer.
    proposers: tuple[Address, ...] = ()
    # May execute a ready change; empty: anyone (OpenZeppelin's open executor role, address(0)).
    executors: tuple[Address, ...] = ()


class DeploymentConfig(BaseModel):
    """What to deploy where: the system's parameters plus the addresses it plugs into."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: Annotated[str, Field(pattern=r"^[a-z0-9-]+:[a-z0-9-]+(:[a-z0-9-]+)?$")]
    chain_id: Annotated[int, Field(gt=0, lt=2**64)]
    system: SystemConfig
    # An existing ERC-20 as collateral; without one, the mock stablecoin is deployed.
    collateral: Address | None = None
    # Chainlink aggregators by market id; a market without one gets a mock feed.
    feeds: dict[int, Address] = Field(default_factory=dict)
    # L2 sequencer uptime feed (Arbitrum, Base) and the grace period after a restart.
    sequencer_feed: Address | None = None
    sequencer_grace_period: Annotated[int, Field(ge=0, le=MAX_GRACE_PERIOD)] = 3600
    # May pause opens (PerpEngine.setOpensPaused); none leaves it unset.
    guardian: Address | None = None
    # Accounts granted the ADL keeper role (PerpEngine.setAdlKeeper); ADL is closed to all others.
    adl_keepers: tuple[Address, ...] = ()
    # May push prices to the mock feeds besides the deployer (MockPriceFeed.setPusher).
    price_pushers: tuple[Address, ...] = ()
    # Owner of every owned contract; required on deployed networks (none on a local chain: the
    # harness calls the setters directly).
    timelock: TimelockConfig | None = None

    @model_validator(mode="after")
    def _cross_rules(self) -> DeploymentConfig:
        ids = {m.market_id for m in self.system.markets}
        unknown = sorted(set(self.feeds) - ids)
        if unknown:
            raise ValueError(f"feeds: market ids {unknown} are not in system.markets (ids {sorted(ids)})")
        expected = KNOWN_CHAIN_IDS.get(":".join(self.network.split(":")[:2]))
        if expected is not None and expected != self.chain_id:
            raise ValueError(f"chain_id={self.chain_id} but network {self.network} has chain id {expected}")
        if self.timelock is None and self.chain_id not in LOCAL_CHAIN_IDS:
            raise ValueError(
                f"timelock: required on chain {self.chain_id} (every parameter change goes through it); "
                'e.g. "timelock": {"min_delay": 86400}'
            )
        return self

    def digest(self) -> str:
        """sha256 of the canonical JSON: what a deployment record is tied to."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return "0x" + hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def uses_mocks_only(self) -> bool:
        """Every contract the model mirrors is deployed here (mock token and mock feeds)."""
        return self.collateral is None and not self.feeds and self.sequencer_feed is None

    @classmethod
    def local(cls, system: SystemConfig) -> DeploymentConfig:
        """The test harness's deployment: mocks everywhere, on the local chain."""
        return cls(network="ethereum:local", chain_id=31337, system=system)


# Steps


@dataclass(frozen=True)
class Ref:
    """The address of the contract an earlier step named `name` deployed or adopted."""

    name: str


@dataclass(frozen=True)
class Deploy:
    name: str  # the name pymodel.system uses: token, feed1, oracle, pool, ..., engine
    contract: str  # the project's contract type
    args: tuple[Any, ...] = ()

    def describe(self) -> str:
        return f"deploy {self.name} = {self.contract}({_render(self.args)})"


@dataclass(frozen=True)
class Adopt:
    """An existing contract used as `name` (nothing is sent)."""

    name: str
    contract: str  # the ABI it is read with
    address: str

    def describe(self) -> str:
        return f"adopt {self.name} = {self.contract} at {self.address}"


@dataclass(frozen=True)
class Call:
    target: str  # a step name
    function: str
    args: tuple[Any, ...] = ()

    def describe(self) -> str:
        return f"call {self.target}.{self.function}({_render(self.args)})"


Step = Deploy | Adopt | Call


@dataclass(frozen=True)
class PythInitialPrice:
    """A Pyth source's first update (`MockPyth.createPriceFeedUpdateData`), published at the
    block time of the step that sends it (known only then)."""

    market_id: int
    index: int
    decimals: int
    answer: int

    def update(self, publish_time: int) -> bytes:
        return pyth_update(self.market_id, self.index, self.decimals, self.answer, publish_time)

    def __str__(self) -> str:
        return f"pyth-update(market {self.market_id} source {self.index}: {self.answer})"


def _render(args: Any) -> str:
    if isinstance(args, tuple):
        return ", ".join(_render(a) if not isinstance(a, tuple) else f"({_render(a)})" for a in args)
    if isinstance(args, Ref):
        return f"@{args.name}"
    return repr(args) if isinstance(args, str) else str(args)


def _collateral(config: DeploymentConfig) -> list[Step]:
    s = config.system
    if config.collateral is not None:
        return [Adopt("token", "MockStablecoin", config.collateral)]  # read through the ERC-20 part of its ABI
    return [Deploy("token", "MockStablecoin", (s.collateral_name, s.collateral_symbol, s.collateral_decimals))]


def _oracle(config: DeploymentConfig) -> list[Step]:
    """Each market's sources in the adapter's order (a given Chainlink aggregator stands for a
    market's first source; otherwise a MockPriceFeed per Chainlink source and a MockPythSource
    per Pyth source, whose initial price is pushed at deployment, as the model does), then the
    adapter and each market's source set and aggregation rules."""
    steps: list[Step] = []
    for m in config.system.markets:
        for i, source in enumerate(m.oracle_sources()):
            name = source_name(m.market_id, i)
            if i == 0 and m.market_id in config.feeds:
                steps.append(Adopt(name, "MockPriceFeed", config.feeds[m.market_id]))
            elif source.kind == "chainlink":
                steps.append(Deploy(name, "MockPriceFeed", (source.decimals, source.initial_answer)))
                steps += [Call(name, "setPusher", (pusher, True)) for pusher in config.price_pushers]
            else:
                steps.append(Deploy(name, "MockPythSource", (PYTH_VALID_TIME_PERIOD, PYTH_UPDATE_FEE)))
                initial = PythInitialPrice(m.market_id, i, source.decimals, source.initial_answer)
                steps.append(Call(name, "updatePriceFeeds", ((initial,),)))
    steps.append(Deploy("oracle", "OracleAdapter", (Ref("deployer"),)))
    for m in config.system.markets:
        names = [source_name(m.market_id, i) for i in range(len(m.oracle_sources()))]
        specs = source_specs(m, tuple(Ref(name) for name in names))  # type: ignore[arg-type]
        steps.append(
            Call("oracle", "setOracle", (m.market_id, tuple(tuple(spec) for spec in specs), m.oracle_params()))
        )
    if config.sequencer_feed is not None:
        steps.append(Call("oracle", "setSequencerFeed", (config.sequencer_feed, config.sequencer_grace_period)))
    return steps


def _core(config: DeploymentConfig) -> list[Step]:
    s = config.system
    token, deployer = Ref("token"), Ref("deployer")
    return [
        Deploy("pool", "LPPool", (token, deployer, s.redeem_cooldown, s.redeem_window)),
        Deploy("insuranceFund", "InsuranceFund", (token, deployer)),
        Deploy(
            "safetyModule",
            "SafetyModule",
            (
                token,
                deployer,
                s.safety_module_cooldown,
                s.safety_module_unstake_window,
                s.max_slash_bps,
                s.slash_window,
                s.safety_module_exit_delay,
            ),
        ),
        Deploy(
            "engine",
            "PerpEngine",
            (token, Ref("oracle"), Ref("pool"), Ref("insuranceFund"), Ref("safetyModule"), deployer),
        ),
        Deploy("orderRouter", "OrderRouter", (token, Ref("oracle"), Ref("engine"), deployer)),
    ]


def _wiring(config: DeploymentConfig) -> list[Step]:
    s = config.system
    engine = Ref("engine")
    steps: list[Step] = [
        Call("pool", "setEngine", (engine,)),
        Call("insuranceFund", "setEngine", (engine,)),
        Call("safetyModule", "setEngine", (engine,)),
        Call("engine", "setFeeShares", (s.insurance_share_bps, s.safety_module_share_bps)),
        Call("engine", "setPoolLimits", (s.max_utilisation_bps, s.reserve_factor_bps)),
        Call("engine", "setAdlParams", (s.adl_trigger_bps, s.adl_target_bps)),
    ]
    if config.guardian is not None:
        steps.append(Call("engine", "setGuardian", (config.guardian,)))
    return steps


def _markets(config: DeploymentConfig) -> list[Step]:
    return [Call("engine", "listMarket", (m.market_id, m.params().as_tuple())) for m in config.system.markets]


def _orders(config: DeploymentConfig) -> list[Step]:
    """Every trade is a two-step order through the router (SPEC §5a)."""
    s = config.system
    return [
        Call("engine", "setOrderRouter", (Ref("orderRouter"),)),
        Call("oracle", "setOrderRouter", (Ref("orderRouter"),)),
        Call("orderRouter", "setExecutionParams", (s.execution_fee, s.min_execution_delay, s.max_execution_delay)),
    ]


def _adl_keepers(config: DeploymentConfig) -> list[Step]:
    """The accounts allowed to auto-deleverage (SPEC §7: an ADL keeper role)."""
    return [Call("engine", "setAdlKeeper", (keeper, True)) for keeper in config.adl_keepers]


# Every contract with an owner, in plan order: each is handed to the timelock last.
OWNED = ("oracle", "pool", "insuranceFund", "safetyModule", "engine", "orderRouter")


def _timelock(config: DeploymentConfig) -> list[Step]:
    """The timelock (it administers itself: no admin), then every owned contract handed to it:
    from here on the deployer can change nothing (issue 19 item 5)."""
    if config.timelock is None:
        return []
    t = config.timelock
    proposers = t.proposers or (Ref("deployer"),)
    executors = t.executors or (ZERO_ADDRESS,)
    steps: list[Step] = [Deploy("timelock", "Timelock", (t.min_delay, proposers, executors, ZERO_ADDRESS))]
    return steps + [Call(name, "transferOwnership", (Ref("timelock"),)) for name in OWNED]


# The plan, stage by stage: a new contract or role is one more function here.
STAGES: list[Callable[[DeploymentConfig], list[Step]]] = [
    _collateral,
    _oracle,
    _core,
    _wiring,
    _markets,
    _orders,
    _adl_keepers,
    _timelock,
]


def plan(config: DeploymentConfig) -> list[Step]:
    return [step for stage in STAGES for step in stage(config)]


# Execution


@dataclass(frozen=True)
class StepResult:
    """What one step left on chain (an adopted contract has no transaction)."""

    address: str | None = None
    tx_hash: str | None = None
    block: int | None = None


class Sender(Protocol):
    """Sends a plan's transactions from one account (`address`, the `Ref("deployer")`)."""

    address: str

    def deploy(self, contract: str, args: tuple[Any, ...]) -> StepResult: ...

    def call(self, contract: str, address: str, function: str, args: tuple[Any, ...]) -> StepResult: ...


class ApeSender:
    """Sends through ape's contract containers from an ape account."""

    def __init__(
        self,
        project: Any,
        account: Any,
        before_each: Callable[[], None] | None = None,
        tx_kwargs: dict[str, Any] | None = None,
        receipts: bool = False,
    ) -> None:
        self.project = project
        self.account = account
        self.address = account.address
        self.before_each = before_each
        self.tx_kwargs = tx_kwargs or {}
        self.receipts = receipts  # fetch tx hashes and blocks (the testnet record needs them)

    def deploy(self, contract: str, args: tuple[Any, ...]) -> StepResult:
        if self.before_each:
            self.before_each()
        instance = getattr(self.project, contract).deploy(*args, sender=self.account, **self.tx_kwargs)
        if not self.receipts:
            return StepResult(address=instance.address)
        tx_hash = _hex(instance.txn_hash)
        receipt = instance.provider.get_receipt(tx_hash)
        return StepResult(address=instance.address, tx_hash=tx_hash, block=receipt.block_number)

    def call(self, contract: str, address: str, function: str, args: tuple[Any, ...]) -> StepResult:
        if self.before_each:
            self.before_each()
        instance = getattr(self.project, contract).at(address)
        receipt = getattr(instance, function)(*args, sender=self.account, **self.tx_kwargs)
        return StepResult(tx_hash=_hex(receipt.txn_hash), block=receipt.block_number)


def _hex(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value) if str(value).startswith("0x") else "0x" + str(value)


def resolve(args: Any, addresses: dict[str, str], clock: Callable[[], int] | None = None) -> Any:
    """Step arguments as sent: `Ref`s become addresses, a `PythInitialPrice` its update data
    dated `clock()` (the block time the step is sent at)."""
    if isinstance(args, tuple):
        return tuple(resolve(a, addresses, clock) for a in args)
    if isinstance(args, Ref):
        return addresses[args.name]
    if isinstance(args, PythInitialPrice):
        assert clock is not None, "a Pyth source's initial price needs the block time (execute's clock)"
        return [args.update(clock())]
    return args


def contract_of(steps: list[Step]) -> dict[str, str]:
    """The contract type behind each step name."""
    return {step.name: step.contract for step in steps if isinstance(step, Deploy | Adopt)}


def execute(
    steps: list[Step],
    sender: Sender,
    done: dict[int, StepResult] | None = None,
    on_step: Callable[[int, Step, StepResult], None] | None = None,
    clock: Callable[[], int] | None = None,
    on_begin: Callable[[int, Step], None] | None = None,
) -> dict[str, str]:
    """Runs every step not in `done` (index -> result of an earlier run) and returns each
    name's address. `on_begin` sees each step before it is sent, `on_step` each result as soon
    as it is on chain (the record)."""
    done = done or {}
    addresses = {"deployer": sender.address}
    contracts = contract_of(steps)
    for index, step in enumerate(steps):
        if index in done:
            result = done[index]
        elif isinstance(step, Adopt):
            result = StepResult(address=step.address)
        elif isinstance(step, Deploy):
            if on_begin is not None:
                on_begin(index, step)
            result = sender.deploy(step.contract, resolve(step.args, addresses, clock))
        else:
            if on_begin is not None:
                on_begin(index, step)
            result = sender.call(
                contracts[step.target], addresses[step.target], step.function, resolve(step.args, addresses, clock)
            )
        if isinstance(step, Deploy | Adopt):
            assert result.address is not None
            addresses[step.name] = result.address
        if index not in done and on_step is not None:
            on_step(index, step, result)
    return addresses


def addresses_of(config: DeploymentConfig, named: dict[str, str]) -> Addresses:
    return Addresses(
        token=named["token"],
        feeds={m.market_id: named[feed_name(m.market_id)] for m in config.system.markets},
        oracle=named["oracle"],
        pool=named["pool"],
        insurance_fund=named["insuranceFund"],
        safety_module=named["safetyModule"],
        engine=named["engine"],
        order_router=named["orderRouter"],
        sources={
            m.market_id: tuple(named[source_name(m.market_id, i)] for i in range(len(m.oracle_sources())))
            for m in config.system.markets
        },
    )


# The test harness


@dataclass
class Deployment:
    addresses: Addresses
    contracts: dict[str, LeanContract]  # by the names pymodel.system uses
    deployer: str
    timestamp: int
    extra: dict[str, str] = field(default_factory=dict)  # every step name -> address


def deploy_system(
    project: Any,
    deployer: Any,
    config: SystemConfig,
    rpc: RpcClient | None = None,
    registry: AbiRegistry | None = None,
    timestamp: int | None = None,
) -> Deployment:
    """Deploys and wires every contract (mocks for token and feeds). With `timestamp`, every
    deployment transaction is mined at exactly that block time (local chains), so the model can
    start from it."""

    def at_time() -> None:
        if timestamp is not None and rpc is not None:
            rpc.request("evm_setNextBlockTimestamp", [timestamp])

    deployment_config = DeploymentConfig.local(config)
    steps = plan(deployment_config)

    def clock() -> int:
        return timestamp if timestamp is not None else _head_time(rpc)

    named = execute(steps, ApeSender(project, deployer, before_each=at_time), clock=clock)
    addresses = addresses_of(deployment_config, named)
    contracts: dict[str, LeanContract] = {}
    if rpc is not None and registry is not None:
        types = contract_of(steps)
        for name, address in addresses.by_name().items():
            contracts[name] = lean(rpc, registry, getattr(project, types[name]), address)
    return Deployment(addresses, contracts, deployer.address, timestamp or 0, named)


def _head_time(rpc: RpcClient | None) -> int:
    """The next block's time on a chain without a fixed deployment time: a Pyth update must be
    dated at or before it (any time works for MockPyth; the adapter then checks its age)."""
    assert rpc is not None, "deploying a Pyth source needs `rpc` or `timestamp`"
    return int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
