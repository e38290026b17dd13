"""The model of a recorded deployment, rebuilt from the chain's own history: the deployment as
recorded, then every transaction sent to its contracts since, decoded and executed on the
model at its block's timestamp, in block order. Works for deployments the model mirrors
entirely (mock token and mock feeds). Used by the keeper (ADL plans) and the rehearsal test
(the model's prediction of what the chain holds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from chainio.abi import canonical_type
from chainio.deploy_record import DeploymentRecord
from chainio.rpc import RpcClient
from pymodel.core import Env
from pymodel.engine import MarketParams
from pymodel.system import Outcome, System, source_name


@dataclass(frozen=True)
class Replayed:
    tx_hash: str
    block: int
    timestamp: int
    sender: str
    contract: str
    function: str
    args: tuple[Any, ...]
    chain_succeeded: bool
    outcome: Outcome


class CallDecoder:
    """Calldata -> (function name, arguments as the model takes them), from the contract's ABI."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[bytes, dict[str, Any]] = {}
        for item in abi:
            if item.get("type") == "function":
                types = ",".join(canonical_type(i) for i in item["inputs"])
                self.functions[keccak(text=f"{item['name']}({types})")[:4]] = item

    def decode(self, data: bytes) -> tuple[str, tuple[Any, ...]]:
        item = self.functions[data[:4]]
        types = [canonical_type(i) for i in item["inputs"]]
        values = decode(types, data[4:])
        args = tuple(_model_value(p, v) for p, v in zip(item["inputs"], values, strict=True))
        if item["name"] in ("listMarket", "setMarketParams"):
            args = (args[0], MarketParams(*args[1]))
        return item["name"], args


def _model_value(param: dict[str, Any], value: Any) -> Any:
    kind = param["type"]
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("tuple") and not kind.endswith("]"):
        return tuple(_model_value(p, v) for p, v in zip(param["components"], value, strict=True))
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return tuple(_model_value(inner, v) for v in value)
    return value


def _block(rpc: RpcClient, number: int, full: bool = False) -> dict[str, Any]:
    return rpc.request("eth_getBlockByNumber", [hex(number), full])


def deployment_stamps(rpc: RpcClient, record: DeploymentRecord) -> dict[int, int]:
    """Each recorded step's block time (by step index; adopted contracts have none)."""
    blocks = {s.index: s.block for s in record.steps if s.block is not None}
    numbers = sorted(set(blocks.values()))
    replies = rpc.batch([("eth_getBlockByNumber", [hex(b), False]) for b in numbers])
    times = {b: int(reply["timestamp"], 16) for b, reply in zip(numbers, replies, strict=True)}
    return {index: times[block] for index, block in blocks.items()}


def model_of_deployment(rpc: RpcClient, record: DeploymentRecord) -> System:
    """The model right after the recorded deployment, at the chain's own deployment times."""
    return model_from_stamps(record, deployment_stamps(rpc, record))


def model_from_stamps(record: DeploymentRecord, stamp: dict[int, int]) -> System:
    """`model_of_deployment` from the steps' block times (`deployment_stamps`): no chain needed."""
    config = record.deployment_config()
    if not config.uses_mocks_only:
        raise ValueError("the model mirrors only deployments with the mock token and mock feeds")
    from chainio.deploy import addresses_of

    addresses = addresses_of(config, record.addresses)
    system = System(config.system, addresses, record.deployer, min(stamp.values()))
    # Deployment-time values the single-timestamp model sets differently: each feed's first
    # round and each market's funding clock carry the time of their own transaction.
    by_step = {s.step: s.index for s in record.steps}
    for market in config.system.markets:
        for i, source in enumerate(market.oracle_sources()):
            if source.kind != "chainlink":
                raise ValueError(
                    f"market {market.market_id}: the live model mirrors Chainlink-style sources only "
                    f"(source {i} is {source.kind})"
                )
            feed = system.c.sources[market.market_id][i]
            name = source_name(market.market_id, i)
            deployed_at = stamp[next(s.index for s in record.steps if s.name == name)]
            first = feed._rounds[1]
            first.started_at = first.updated_at = deployed_at
        listing = f"call engine.listMarket({market.market_id},"
        listed = next(i for step, i in by_step.items() if step.startswith(listing))
        system.c.engine.s.markets[market.market_id].last_funding_at = stamp[listed]
    for keeper in config.adl_keepers:
        granted = next(i for step, i in by_step.items() if step.startswith(f"call engine.setAdlKeeper({keeper!r},"))
        system.c.engine.set_adl_keeper(Env(record.deployer, stamp[granted]), keeper, True)
    if config.guardian is not None:
        guardian_step = next(i for step, i in by_step.items() if step.startswith("call engine.setGuardian("))
        system.c.engine.set_guardian(Env(record.deployer, stamp[guardian_step]), config.guardian)
    # The mocks' faucet caps and pusher role apply off the local chain (their `block.chainid`).
    system.c.token.chain_id = record.chain_id
    for market in config.system.markets:
        for i, feed in enumerate(system.c.sources[market.market_id]):
            feed.chain_id = record.chain_id
            name = source_name(market.market_id, i)
            for pusher in config.price_pushers:
                granted = by_step[f"call {name}.setPusher({pusher!r}, True)"]
                feed.set_pusher(Env(record.deployer, stamp[granted]), pusher, True)
    if "timelock" in record.addresses:  # the plan's last steps hand every owned contract to it
        c = system.c
        for owned in (c.oracle, c.pool, c.insurance_fund, c.safety_module, c.engine, c.order_router):
            owned.transfer_ownership(Env(record.deployer, max(stamp.values())), record.addresses["timelock"])
    system.c.log.take()
    return system


def replay_history(
    rpc: RpcClient,
    system: System,
    decoders: dict[str, CallDecoder],
    first_block: int,
    last_block: int | None = None,
) -> list[Replayed]:
    """Executes on the model every transaction to the deployment's contracts in
    [first_block, last_block], in chain order. `decoders` by the model's contract names."""
    names = {address.lower(): name for name, address in system.addresses.by_name().items()}
    if last_block is None:
        last_block = int(rpc.request("eth_blockNumber"), 16)
    replayed: list[Replayed] = []
    for number in range(first_block, last_block + 1):
        block = _block(rpc, number, full=True)
        timestamp = int(block["timestamp"], 16)
        for tx in block["transactions"]:
            name = names.get((tx.get("to") or "").lower())
            if name is None:
                continue
            function, args = decoders[name].decode(bytes.fromhex(tx["input"][2:]))
            sender = to_checksum_address(tx["from"])
            receipt = rpc.request("eth_getTransactionReceipt", [tx["hash"]])
            outcome = system.execute(sender, timestamp, name, function, args)
            replayed.append(
                Replayed(
                    tx["hash"],
                    number,
                    timestamp,
                    sender,
                    name,
                    function,
                    args,
                    int(receipt["status"], 16) == 1,
                    outcome,
                )
            )
    return replayed


def decoders_for(project: Any, record: DeploymentRecord) -> dict[str, CallDecoder]:
    """A decoder per model contract name (every feed shares the `feed` one)."""
    from chainio.project import abi_of

    types = {s.name: s.contract for s in record.steps if s.name is not None and s.contract is not None}
    decoders = {name: CallDecoder(abi_of(getattr(project, contract))) for name, contract in types.items()}
    feeds = [name for name in types if name.startswith("feed")]
    if feeds:
        decoders["feed"] = decoders[feeds[0]]
    return decoders


def last_deployment_block(record: DeploymentRecord) -> int:
    return max(s.block for s in record.steps if s.block is not None)
