"""The whole deployment in the model, wired as on chain, executing one action at a time.

`System.execute` runs an action atomically: a revert leaves every contract exactly as it
was, as on chain (the journal of `pymodel.core` undoes the action's writes), and the events of
the action come back in emission order.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_utils import to_checksum_address

from pymodel.config import MarketConfig, SystemConfig
from pymodel.core import (
    EmittedEvent,
    Env,
    EventLog,
    ModelContract,
    adopt,
    begin_action,
    end_action,
    event_class,
    rollback,
)
from pymodel.engine import PerpEngine
from pymodel.erc20 import MockStablecoin
from pymodel.errors import Revert
from pymodel.insurance_fund import InsuranceFund
from pymodel.lp_pool import LPPool
from pymodel.mock_price_feed import MockPriceFeed
from pymodel.mock_pyth import MockPyth, encode_price_feed_update
from pymodel.oracle_adapter import OracleAdapter, SourceKind, SourceSpec
from pymodel.order_router import OrderRouter
from pymodel.safety_module import SafetyModule


@dataclass(frozen=True)
class Addresses:
    """Where each contract of a deployment lives (the chain's addresses, reused by the model)."""

    token: str
    feeds: dict[int, str]
    oracle: str
    pool: str
    insurance_fund: str
    safety_module: str
    engine: str
    order_router: str
    # Every source of each market, in the adapter's order (`feeds` holds the first of each).
    sources: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def numbered(cls, config: SystemConfig, base: int) -> Addresses:
        """Stand-in addresses for a deployment that exists only in the model (model-only runs, the
        simulator, a vector's contract types): `base + 1..7` for the contracts and
        `base + 0x100 + 16 i + j` for source j of the i-th market."""

        def address(n: int) -> str:
            return to_checksum_address(f"0x{base + n:040x}")

        sources = {
            m.market_id: tuple(address(0x100 + 16 * i + j) for j in range(len(m.oracle_sources())))
            for i, m in enumerate(config.markets)
        }
        return cls(
            token=address(1),
            feeds={market_id: addresses[0] for market_id, addresses in sources.items()},
            oracle=address(2),
            pool=address(3),
            insurance_fund=address(4),
            safety_module=address(5),
            engine=address(6),
            order_router=address(7),
            sources=sources,
        )

    def by_name(self) -> dict[str, str]:
        names = {"token": self.token, "oracle": self.oracle, "pool": self.pool}
        names |= {"insuranceFund": self.insurance_fund, "safetyModule": self.safety_module, "engine": self.engine}
        names |= {"orderRouter": self.order_router}
        names |= {feed_name(market_id): address for market_id, address in self.feeds.items()}
        for market_id, addresses in self.sources.items():
            names |= {source_name(market_id, i): address for i, address in enumerate(addresses)}
        return names


def feed_name(market_id: int) -> str:
    return f"feed{market_id}"


def source_name(market_id: int, index: int) -> str:
    """`feed1` for a market's first source (the single-feed name), `feed1_2` for its third."""
    return feed_name(market_id) if index == 0 else f"{feed_name(market_id)}_{index}"


def parse_source_name(name: str) -> tuple[int, int]:
    """`feed1_2` -> (1, 2); `feed1` -> (1, 0)."""
    market, _, index = name[len("feed") :].partition("_")
    return int(market), int(index or 0)


def pyth_price_id(market_id: int, index: int) -> bytes:
    """The Pyth price id of a market's Pyth source (one MockPythSource per source, non-zero id)."""
    return (market_id * 256 + index + 1).to_bytes(32, "big")


# MockPythSource constructor: validTimePeriod (unused by the adapter) and a zero update fee.
PYTH_VALID_TIME_PERIOD = 60
PYTH_UPDATE_FEE = 0


@lru_cache(maxsize=4096)
def snake_case(solidity_name: str) -> str:
    """`openPosition` -> `open_position`: the model method mirroring a contract function."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", solidity_name).lower()


@dataclass
class Outcome:
    """What one action did: its return value or its revert, and its events in order."""

    reverted: bool
    error: tuple[str, tuple[Any, ...]] | None = None
    return_value: Any = None
    events: list[EmittedEvent] = field(default_factory=list)
    gas_used: int | None = None  # chain side only

    def events_named(self, name: str) -> list[Any]:
        """This action's events called `name`, as model event dataclasses (fields by name)."""
        return [event_class(name, len(event.values))(*event.values) for event in self.events if event.name == name]

    def event(self, name: str) -> Any:
        """The one event called `name`."""
        found = self.events_named(name)
        assert len(found) == 1, f"expected one {name} event, got {len(found)}"
        return found[0]


class _Contracts:
    """Every model contract of a deployment (its state journaled: see `pymodel.core`)."""

    def __init__(self, config: SystemConfig, addresses: Addresses, deployer: str, timestamp: int) -> None:
        self.log = EventLog()
        env = Env(deployer, timestamp)
        self.token = MockStablecoin(
            addresses.token, self.log, config.collateral_name, config.collateral_symbol, config.collateral_decimals
        )
        # Every source of each market (MockPriceFeed or MockPyth); `feeds` is the first of each.
        self.sources: dict[int, list[Any]] = {}
        for market in config.markets:
            self.sources[market.market_id] = []
            for i, source in enumerate(market.oracle_sources()):
                address = addresses.sources[market.market_id][i]
                if source.kind == "chainlink":
                    model: Any = MockPriceFeed(address, self.log, env, source.decimals, source.initial_answer)
                else:
                    model = MockPyth(address, self.log, PYTH_VALID_TIME_PERIOD, PYTH_UPDATE_FEE)
                    update = pyth_update(market.market_id, i, source.decimals, source.initial_answer, timestamp)
                    model.update_price_feeds(env, [update])
                self.sources[market.market_id].append(model)
        self.feeds = {market_id: models[0] for market_id, models in self.sources.items()}
        registry = {model.address: model for models in self.sources.values() for model in models}
        self.oracle = OracleAdapter(addresses.oracle, self.log, registry, deployer)
        for market in config.markets:
            self.oracle.set_oracle(
                env, market.market_id, source_specs(market, addresses.sources[market.market_id]), market.oracle_params()
            )
        self.pool = LPPool(addresses.pool, self.log, self.token, deployer, config.redeem_cooldown, config.redeem_window)
        self.insurance_fund = InsuranceFund(addresses.insurance_fund, self.log, self.token, deployer)
        self.safety_module = SafetyModule(
            addresses.safety_module,
            self.log,
            self.token,
            deployer,
            config.safety_module_cooldown,
            config.safety_module_unstake_window,
            config.max_slash_bps,
            config.slash_window,
            config.safety_module_exit_delay,
        )
        self.engine = PerpEngine(
            addresses.engine,
            self.log,
            self.token,
            self.oracle,
            self.pool,
            self.insurance_fund,
            self.safety_module,
            deployer,
        )
        self.order_router = OrderRouter(
            addresses.order_router, self.log, self.token, self.oracle, self.engine, deployer
        )
        self.pool.set_engine(env, self.engine.address)
        self.pool.perp = self.engine
        self.insurance_fund.set_engine(env, self.engine.address)
        self.safety_module.set_engine(env, self.engine.address)
        self.engine.set_fee_shares(env, config.insurance_share_bps, config.safety_module_share_bps)
        self.engine.set_pool_limits(env, config.max_utilisation_bps, config.reserve_factor_bps)
        self.engine.set_adl_params(env, config.adl_trigger_bps, config.adl_target_bps)
        for market in config.markets:
            self.engine.list_market(env, market.market_id, market.params())
        self.engine.set_order_router(env, self.order_router.address)
        self.oracle.set_order_router(env, self.order_router.address)
        self.order_router.set_execution_params(
            env, config.execution_fee, config.min_execution_delay, config.max_execution_delay
        )
        self.log.take()  # deployment events are not part of any action

    def by_name(self, name: str) -> ModelContract:
        if name.startswith("feed"):
            market_id, index = parse_source_name(name)
            return self.sources[market_id][index]
        return {
            "token": self.token,
            "oracle": self.oracle,
            "pool": self.pool,
            "insuranceFund": self.insurance_fund,
            "safetyModule": self.safety_module,
            "engine": self.engine,
            "orderRouter": self.order_router,
        }[name]


def pyth_update(market_id: int, index: int, decimals: int, answer: int, publish_time: int) -> bytes:
    """`MockPyth.createPriceFeedUpdateData` for a market's Pyth source: `answer` in `decimals`
    (exponent `-decimals`), zero confidence, published at `publish_time`."""
    return encode_price_feed_update(pyth_price_id(market_id, index), answer, 0, -decimals, publish_time)


def source_specs(market: MarketConfig, addresses: tuple[str, ...]) -> list[SourceSpec]:
    """The `setOracle` sources of a market whose sources are deployed at `addresses`, in order."""
    specs = []
    for i, source in enumerate(market.oracle_sources()):
        address = addresses[i]
        if source.kind == "chainlink":
            specs.append(SourceSpec(SourceKind.CHAINLINK, address, bytes(32), source.max_age))
        else:
            specs.append(SourceSpec(SourceKind.PYTH, address, pyth_price_id(market.market_id, i), source.max_age))
    return specs


class System:
    """The model of one deployment (see `chainio.deploy.deploy_system` for the chain's)."""

    def __init__(self, config: SystemConfig, addresses: Addresses, deployer: str, timestamp: int) -> None:
        self.config = config
        self.addresses = addresses
        self.c = adopt(_Contracts(config, addresses, deployer, timestamp))

    def __deepcopy__(self, memo: dict[int, Any]) -> System:
        adopt(self.c)  # whatever was assigned since the last action, so the copy journals it too
        copied = System.__new__(System)
        memo[id(self)] = copied
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    def execute(self, sender: str, timestamp: int, contract: str, function: str, args: tuple[Any, ...]) -> Outcome:
        """Runs `contract.function(*args)` from `sender` in a block at `timestamp`, atomically:
        on a revert the journal undoes every write of the action and its events are dropped."""
        log = self.c.log
        emitted = len(log.events)
        method = getattr(self.c.by_name(contract), snake_case(function))
        mark = begin_action()
        try:
            value = method(Env(sender, timestamp), *args)
        except Revert as revert:
            rollback(mark)
            del log.events[emitted:]
            return Outcome(reverted=True, error=revert.signature())
        finally:
            end_action(mark)
        return Outcome(reverted=False, return_value=value, events=log.take())
