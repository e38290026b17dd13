"""The whole deployment in the model, wired as on chain, executing one action at a time.

`System.execute` runs an action atomically: a revert leaves every contract exactly as it
was, as on chain, and the events of the action come back in emission order.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from pymodel.config import SystemConfig
from pymodel.core import EmittedEvent, Env, EventLog, ModelContract, event_class
from pymodel.erc20 import MockStablecoin
from pymodel.errors import Revert
from pymodel.insurance_fund import InsuranceFund
from pymodel.lp_pool import LPPool
from pymodel.mock_price_feed import MockPriceFeed
from pymodel.oracle_adapter import OracleAdapter
from pymodel.order_router import OrderRouter
from pymodel.perp_engine import PerpEngine
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

    def by_name(self) -> dict[str, str]:
        names = {"token": self.token, "oracle": self.oracle, "pool": self.pool}
        names |= {"insuranceFund": self.insurance_fund, "safetyModule": self.safety_module, "engine": self.engine}
        names |= {"orderRouter": self.order_router}
        names |= {feed_name(market_id): address for market_id, address in self.feeds.items()}
        return names


def feed_name(market_id: int) -> str:
    return f"feed{market_id}"


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
    """Every model contract of a deployment; deep-copied as one graph for atomic execution."""

    def __init__(self, config: SystemConfig, addresses: Addresses, deployer: str, timestamp: int) -> None:
        self.log = EventLog()
        env = Env(deployer, timestamp)
        self.token = MockStablecoin(
            addresses.token, self.log, config.collateral_name, config.collateral_symbol, config.collateral_decimals
        )
        self.feeds = {
            market.market_id: MockPriceFeed(
                addresses.feeds[market.market_id], self.log, env, market.feed_decimals, market.initial_answer
            )
            for market in config.markets
        }
        self.oracle = OracleAdapter(
            addresses.oracle, self.log, {feed.address: feed for feed in self.feeds.values()}, deployer
        )
        for market in config.markets:
            self.oracle.set_feed(env, market.market_id, addresses.feeds[market.market_id], market.oracle_max_age)
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
        self.order_router.set_execution_params(
            env, config.execution_fee, config.min_execution_delay, config.max_execution_delay
        )
        self.log.take()  # deployment events are not part of any action

    def by_name(self, name: str) -> ModelContract:
        if name.startswith("feed"):
            return self.feeds[int(name[len("feed") :])]
        return {
            "token": self.token,
            "oracle": self.oracle,
            "pool": self.pool,
            "insuranceFund": self.insurance_fund,
            "safetyModule": self.safety_module,
            "engine": self.engine,
            "orderRouter": self.order_router,
        }[name]


class System:
    """The model of one deployment (see `chainio.deploy.deploy_system` for the chain's)."""

    def __init__(self, config: SystemConfig, addresses: Addresses, deployer: str, timestamp: int) -> None:
        self.config = config
        self.addresses = addresses
        self.c = _Contracts(config, addresses, deployer, timestamp)

    def execute(self, sender: str, timestamp: int, contract: str, function: str, args: tuple[Any, ...]) -> Outcome:
        """Runs `contract.function(*args)` from `sender` in a block at `timestamp`, atomically."""
        saved = copy.deepcopy(self.c)
        target = self.c.by_name(contract)
        method = getattr(target, snake_case(function))
        try:
            value = method(Env(sender, timestamp), *args)
        except Revert as revert:
            self.c = saved
            return Outcome(reverted=True, error=revert.signature())
        return Outcome(reverted=False, return_value=value, events=self.c.log.take())
