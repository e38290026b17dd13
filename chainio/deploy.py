"""Deploys a SystemConfig with ape, in the order the model mirrors (`pymodel.system`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainio.abi import AbiRegistry
from chainio.contract import LeanContract
from chainio.project import lean
from chainio.rpc import RpcClient
from pymodel.config import SystemConfig
from pymodel.system import (
    PYTH_UPDATE_FEE,
    PYTH_VALID_TIME_PERIOD,
    Addresses,
    feed_name,
    pyth_update,
    source_name,
    source_specs,
)


@dataclass
class Deployment:
    addresses: Addresses
    contracts: dict[str, LeanContract]  # by the names pymodel.system uses
    deployer: str
    timestamp: int


def deploy_system(
    project: Any,
    deployer: Any,
    config: SystemConfig,
    rpc: RpcClient | None = None,
    registry: AbiRegistry | None = None,
    timestamp: int | None = None,
) -> Deployment:
    """Deploys and wires every contract. With `timestamp`, every deployment transaction is
    mined at exactly that block time (local chains), so the model can start from it."""

    def at_time() -> None:
        if timestamp is not None and rpc is not None:
            rpc.request("evm_setNextBlockTimestamp", [timestamp])

    def deploy(container: Any, *args: Any) -> Any:
        at_time()
        return container.deploy(*args, sender=deployer)

    def send(contract: Any, function: str, *args: Any) -> None:
        at_time()
        getattr(contract, function)(*args, sender=deployer)

    token = deploy(project.MockStablecoin, config.collateral_name, config.collateral_symbol, config.collateral_decimals)
    # Each market's sources in order: a MockPriceFeed per Chainlink source, a MockPythSource per
    # Pyth source (its initial price pushed at the deployment time, as the model does).
    sources: dict[int, list[Any]] = {}
    for market in config.markets:
        sources[market.market_id] = []
        for i, source in enumerate(market.oracle_sources()):
            if source.kind == "chainlink":
                sources[market.market_id].append(deploy(project.MockPriceFeed, source.decimals, source.initial_answer))
                continue
            pyth = deploy(project.MockPythSource, PYTH_VALID_TIME_PERIOD, PYTH_UPDATE_FEE)
            publish_time = timestamp if timestamp is not None else _head_time(rpc)
            send(
                pyth,
                "updatePriceFeeds",
                [pyth_update(market.market_id, i, source.decimals, source.initial_answer, publish_time)],
            )
            sources[market.market_id].append(pyth)
    feeds = {market_id: deployed[0] for market_id, deployed in sources.items()}
    oracle = deploy(project.OracleAdapter, deployer.address)
    source_addresses = {market_id: tuple(s.address for s in deployed) for market_id, deployed in sources.items()}
    for market in config.markets:
        specs = [tuple(spec) for spec in source_specs(market, source_addresses[market.market_id])]
        send(oracle, "setOracle", market.market_id, specs, market.oracle_params())
    pool = deploy(project.LPPool, token.address, deployer.address, config.redeem_cooldown, config.redeem_window)
    insurance_fund = deploy(project.InsuranceFund, token.address, deployer.address)
    safety_module = deploy(
        project.SafetyModule,
        token.address,
        deployer.address,
        config.safety_module_cooldown,
        config.safety_module_unstake_window,
        config.max_slash_bps,
        config.slash_window,
    )
    engine = deploy(
        project.PerpEngine,
        token.address,
        oracle.address,
        pool.address,
        insurance_fund.address,
        safety_module.address,
        deployer.address,
    )
    order_router = deploy(project.OrderRouter, token.address, oracle.address, engine.address, deployer.address)
    send(pool, "setEngine", engine.address)
    send(insurance_fund, "setEngine", engine.address)
    send(safety_module, "setEngine", engine.address)
    send(engine, "setFeeShares", config.insurance_share_bps, config.safety_module_share_bps)
    send(engine, "setPoolLimits", config.max_utilisation_bps, config.reserve_factor_bps)
    send(engine, "setAdlParams", config.adl_trigger_bps, config.adl_target_bps)
    for market in config.markets:
        send(engine, "listMarket", market.market_id, market.params().as_tuple())
    send(engine, "setOrderRouter", order_router.address)
    send(
        order_router,
        "setExecutionParams",
        config.execution_fee,
        config.min_execution_delay,
        config.max_execution_delay,
    )

    addresses = Addresses(
        token=token.address,
        feeds={market_id: feed.address for market_id, feed in feeds.items()},
        oracle=oracle.address,
        pool=pool.address,
        insurance_fund=insurance_fund.address,
        safety_module=safety_module.address,
        engine=engine.address,
        sources=source_addresses,
        order_router=order_router.address,
    )
    kinds = {
        name: source.kind
        for market in config.markets
        for i, source in enumerate(market.oracle_sources())
        for name in [source_name(market.market_id, i)]
    }
    contracts: dict[str, LeanContract] = {}
    if rpc is not None and registry is not None:
        containers = {
            "token": project.MockStablecoin,
            "oracle": project.OracleAdapter,
            "pool": project.LPPool,
            "insuranceFund": project.InsuranceFund,
            "safetyModule": project.SafetyModule,
            "engine": project.PerpEngine,
            "orderRouter": project.OrderRouter,
        }
        for name, address in addresses.by_name().items():
            if name.startswith("feed"):
                container = project.MockPythSource if kinds[name] == "pyth" else project.MockPriceFeed
            else:
                container = containers[name]
            contracts[name] = lean(rpc, registry, container, address)
    assert all(feed_name(m.market_id) in addresses.by_name() for m in config.markets)
    return Deployment(addresses, contracts, deployer.address, timestamp or 0)


def _head_time(rpc: RpcClient | None) -> int:
    """The next block's time on a chain without a fixed deployment time: a Pyth update must be
    dated at or before it (any time works for MockPyth; the adapter then checks its age)."""
    assert rpc is not None, "deploying a Pyth source needs `rpc` or `timestamp`"
    return int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
