"""A deployed contract driven over raw JSON-RPC: batched calls, one-request transactions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chainio.abi import AbiCodec, AbiRegistry, DecodedEvent
from chainio.rpc import RpcClient, RpcError

# Every transaction carries this gas limit: no eth_estimateGas round trip.
DEFAULT_GAS = 10_000_000


class ChainRevert(Exception):
    """A call or transaction reverted on chain; `name`/`args` are the decoded error."""

    def __init__(self, name: str, args: tuple[Any, ...]) -> None:
        self.name = name
        self.args_ = args
        super().__init__(f"{name}{args}")

    def signature(self) -> tuple[str, tuple[Any, ...]]:
        return self.name, self.args_


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    gas_used: int
    events: list[DecodedEvent]
    return_value: Any = None


def _revert_bytes(error: RpcError) -> bytes | None:
    """Anvil puts revert data in `error.data` as a hex string (sometimes nested)."""
    data = error.data
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return None


class LeanContract:
    """Calls and transactions against one address with a known ABI."""

    def __init__(self, rpc: RpcClient, address: str, codec: AbiCodec, registry: AbiRegistry) -> None:
        self.rpc = rpc
        self.address = address
        self.codec = codec
        self.registry = registry

    def _call_params(self, fn: str, args: tuple[Any, ...], sender: str | None, block: str) -> list[Any]:
        tx: dict[str, Any] = {"to": self.address, "data": self.codec.encode_call(fn, args)}
        if sender is not None:
            tx["from"] = sender
        return [tx, block]

    def call(self, fn: str, *args: Any, sender: str | None = None, block: str = "latest") -> Any:
        """eth_call; raises ChainRevert with the decoded custom error / panic."""
        return self.call_many([(fn, args)], sender=sender, block=block, raise_reverts=True)[0]

    def call_many(
        self,
        calls: list[tuple[str, tuple[Any, ...]]],
        sender: str | None = None,
        block: str = "latest",
        raise_reverts: bool = False,
    ) -> list[Any]:
        """Many eth_calls in one round trip. A revert comes back as a ChainRevert in its slot
        (or is raised, with raise_reverts)."""
        requests = [("eth_call", self._call_params(fn, args, sender, block)) for fn, args in calls]
        results: list[Any] = []
        for (fn, _), reply in zip(calls, self.rpc.batch_raw(requests), strict=True):
            if "error" in reply:
                error = RpcError("eth_call", reply["error"])
                data = _revert_bytes(error)
                if data is None:
                    raise error
                outcome: Any = ChainRevert(*self.registry.decode_revert(data))
                if raise_reverts:
                    raise outcome
            else:
                outcome = self.codec.decode_output(fn, bytes.fromhex(reply["result"][2:]))
            results.append(outcome)
        return results

    def transact(
        self, fn: str, *args: Any, sender: str, gas: int = DEFAULT_GAS, value: int = 0, want_return: bool = False
    ) -> Receipt:
        """Sends from an unlocked/impersonated account and returns the mined receipt (with the
        function's return value when `want_return`). A reverted transaction raises ChainRevert."""
        tx = {
            "from": sender,
            "to": self.address,
            "data": self.codec.encode_call(fn, args),
            "gas": hex(gas),
            "value": hex(value),
        }
        try:
            receipt = self.rpc.request("eth_sendTransactionSync", [tx])
        except RpcError as error:
            data = _revert_bytes(error)
            if data is None:
                raise
            raise ChainRevert(*self.registry.decode_revert(data)) from None
        succeeded = int(receipt["status"], 16) == 1
        return_value = None
        if not succeeded or (want_return and self.codec.has_outputs(fn)):
            # Receipts carry no return data: the call tracer's output has it (or the revert data).
            trace = self.rpc.request("debug_traceTransaction", [receipt["transactionHash"], {"tracer": "callTracer"}])
            output = bytes.fromhex(trace.get("output", "0x")[2:])
            if not succeeded:
                raise ChainRevert(*self.registry.decode_revert(output))
            return_value = self.codec.decode_output(fn, output)
        return Receipt(
            tx_hash=receipt["transactionHash"],
            block_number=int(receipt["blockNumber"], 16),
            gas_used=int(receipt["gasUsed"], 16),
            events=[self.registry.decode_log(log) for log in receipt["logs"]],
            return_value=return_value,
        )


def call_batch(calls: list[tuple[LeanContract, str, tuple[Any, ...]]], block: str = "latest") -> list[Any]:
    """eth_calls to several contracts in one round trip; a revert raises ChainRevert."""
    if not calls:
        return []
    rpc = calls[0][0].rpc
    requests = [("eth_call", contract._call_params(fn, args, None, block)) for contract, fn, args in calls]
    results = []
    for (contract, fn, _), reply in zip(calls, rpc.batch_raw(requests), strict=True):
        if "error" in reply:
            error = RpcError("eth_call", reply["error"])
            data = _revert_bytes(error)
            if data is None:
                raise error
            raise ChainRevert(*contract.registry.decode_revert(data))
        results.append(contract.codec.decode_output(fn, bytes.fromhex(reply["result"][2:])))
    return results


def _decode_bytes_array(data: bytes) -> list[bytes]:
    """ABI `bytes[]` (the only return value), decoded directly: offsets, lengths, payloads."""
    base = int.from_bytes(data[0:32], "big")
    count = int.from_bytes(data[base : base + 32], "big")
    heads = base + 32
    items = []
    for i in range(count):
        start = heads + int.from_bytes(data[heads + 32 * i : heads + 32 * i + 32], "big")
        length = int.from_bytes(data[start : start + 32], "big")
        items.append(data[start + 32 : start + 32 + length])
    return items


class Multicall:
    """Reads many views in one eth_call through a deployed StaticMulticall."""

    def __init__(self, aggregator: LeanContract) -> None:
        self.aggregator = aggregator

    def prepare(self, calls: list[tuple[LeanContract, str, tuple[Any, ...]]]) -> str:
        """The aggregate calldata for `calls`: encode once, call many times."""
        targets = [contract.address for contract, _, _ in calls]
        payloads = [bytes.fromhex(contract.codec.encode_call(fn, args)[2:]) for contract, fn, args in calls]
        return self.aggregator.codec.encode_call("aggregate", (targets, payloads))

    def call(
        self,
        calls: list[tuple[LeanContract, str, tuple[Any, ...]]],
        block: str = "latest",
        prepared: str | None = None,
    ) -> list[Any]:
        request = {"to": self.aggregator.address, "data": prepared or self.prepare(calls)}
        try:
            raw = self.aggregator.rpc.request("eth_call", [request, block])
        except RpcError as error:
            data = _revert_bytes(error)
            if data is None:
                raise
            name, args = self.aggregator.registry.decode_revert(data)
            if name == "CallFailed":
                index, inner = args
                raise ChainRevert(*calls[index][0].registry.decode_revert(inner)) from None
            raise ChainRevert(name, args) from None
        return self.decode(calls, raw)

    @staticmethod
    def decode(calls: list[tuple[LeanContract, str, tuple[Any, ...]]], raw: str) -> list[Any]:
        """The values of `calls` from the aggregate's raw (hex) result."""
        results = _decode_bytes_array(bytes.fromhex(raw[2:]))
        return [contract.codec.decode_output(fn, data) for (contract, fn, _), data in zip(calls, results, strict=True)]
