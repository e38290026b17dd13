"""What a fuzz-campaign shard needs of a chain, without ape's provider: its own Anvil process
(the project's `.toolchain/bin/anvil`), a JSON-RPC client that turns a dead or stalled node into
`ChainUnavailable`, and the compiled contracts read from ape's build manifest.

`ape test` and `ape run` start Anvil through ape-foundry; a shard on a Dask worker must start,
kill and restart its own, so it talks to it over the lean path only. Deployments go through the
same plan (`chainio.deploy.deploy_system` with `ArtifactProject` standing in for ape's project),
from the same funded test accounts (ape's test mnemonic), so a regression vector written by a
shard replays with `ape run replay`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode

from chainio.abi import AbiCodec, AbiRegistry, canonical_type
from chainio.contract import LeanContract
from chainio.rpc import RpcClient, _ConnectionLost

# ape's test accounts (ape.utils.testing): the same mnemonic and path ape-foundry gives Anvil.
MNEMONIC = "test test test test test test test test test test test junk"
DERIVATION_PATH = "m/44'/60'/0'/0/"
DEPLOY_GAS = 30_000_000


class ChainUnavailable(KeyboardInterrupt):
    """The shard's chain died or stopped answering. Hypothesis takes any other exception raised
    in an example for a failure of that example (and shrinks it, on the dead chain); an
    interrupt alone stops its engine at once without recording the example. The shard restarts
    on a fresh Anvil and retries the sequences it was running (difftest/shard.py)."""


class ShardRpc(RpcClient):
    """RpcClient whose socket errors and timeouts name the call, the node and the block."""

    def __init__(self, url: str, timeout: float, node: str) -> None:
        super().__init__(url, timeout=timeout)
        self.node = node
        self.last_block: int | None = None  # the highest block number seen in a receipt
        self.before_write: Any = None  # fault injection (tests): called before each pipelined write

    def _unavailable(self, calls: str, error: BaseException, mining_at: int | None = None) -> ChainUnavailable:
        block = "before any block was mined" if self.last_block is None else f"after block {self.last_block}"
        if mining_at is not None:
            block = f"{block}, mining the next one at t={mining_at}"
        timed_out = isinstance(error, TimeoutError)
        what = f"did not answer within {self._timeout:.1f} s" if timed_out else f"failed ({error!r})"
        return ChainUnavailable(f"{self.node}: {calls} {what}, {block}")

    def _post(self, payload: Any) -> Any:
        try:
            reply = super()._post(payload)
        except OSError as error:
            calls = payload["method"] if isinstance(payload, dict) else _methods([p["method"] for p in payload])
            raise self._unavailable(calls, error) from error
        if isinstance(reply, list):
            for item in reply:
                result = item.get("result")
                if result.__class__ is dict and "blockNumber" in result:
                    self.last_block = max(self.last_block or 0, int(result["blockNumber"], 16))
                    break
        return reply

    def pipeline(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        if self.before_write is not None:
            self.before_write()
        try:
            return super().pipeline(calls)
        except (OSError, _ConnectionLost) as error:
            mined = [params[0] for method, params in calls if method == "evm_mine" and params]
            what = f"the pipelined block write ({_methods([m for m, _ in calls])})"
            raise self._unavailable(what, error, mined[0] if mined else None) from error


def _methods(methods: list[str]) -> str:
    seen: dict[str, int] = {}
    for method in methods:
        seen[method] = seen.get(method, 0) + 1
    return ", ".join(f"{m} x{n}" if n > 1 else m for m, n in seen.items())


class Anvil:
    """One Anvil process on a free port, from the project's toolchain."""

    def __init__(self, root: Path, rpc_timeout: float, attempts: int = 5) -> None:
        binary = root / ".toolchain" / "bin" / "anvil"
        if not binary.exists():
            raise FileNotFoundError(f"{binary} is missing: run `make setup` in {root} first")
        for _ in range(attempts):
            port = _free_port()
            command = [str(binary), "--port", str(port), "--silent", "--hardfork", "cancun"]
            command += ["--mnemonic", MNEMONIC, "--derivation-path", DERIVATION_PATH, "--accounts", "10"]
            command += ["--block-base-fee-per-gas", "0", "--gas-price", "0"]
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            self.port = port
            self.url = f"http://127.0.0.1:{port}"
            if self._wait_ready():
                break
            self.stop()
        else:
            raise RuntimeError(f"anvil did not start after {attempts} attempts")
        self.rpc = ShardRpc(self.url, rpc_timeout, f"anvil (pid {self.pid}, port {self.port})")

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, seconds: float = 60.0) -> bool:
        probe = RpcClient(self.url, timeout=2.0)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False  # the port was taken meanwhile: try another
                try:
                    probe.request("web3_clientVersion")
                    return True
                except OSError:
                    time.sleep(0.1)
            return False
        finally:
            probe.close()

    def cpu_seconds(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def signal(self, number: int) -> None:
        os.kill(self.pid, number)

    def wait_stopped(self, seconds: float = 10.0) -> None:
        """Until the kernel reports the process stopped (after SIGSTOP; Linux, else at once)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                return
            if state in ("T", "t"):
                return
            time.sleep(0.01)

    def stop(self) -> None:
        """SIGKILL (a stopped process takes it too) and reap: nothing on the chain is kept."""
        if getattr(self, "rpc", None) is not None:
            self.rpc.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGKILL when the shard's process dies, so a
    crashed worker leaves no Anvil behind (elsewhere a no-op; `stop` reaps it normally)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The compiled contracts, from ape's manifest (no provider needed)


@dataclass(frozen=True)
class Account:
    address: str


class _Instance:
    """A deployed contract as ape's sender uses it: `.address`, functions sending transactions."""

    def __init__(self, contract: LeanContract) -> None:
        self.address = contract.address
        self._contract = contract

    def __getattr__(self, function: str) -> Any:
        def send(*args: Any, sender: Any, **_: Any) -> Any:
            types = self._contract.codec._function(function)["inputs"]
            args = tuple(_flat_bytes(a) if t == "bytes[]" else a for t, a in zip(types, args, strict=True))
            receipt = self._contract.transact(function, *args, sender=sender.address, gas=DEPLOY_GAS)
            return _Sent(receipt.tx_hash, receipt.block_number)

        return send


def _flat_bytes(value: Any) -> list[bytes]:
    """A `bytes[]` argument as the deploy plan writes it (a Pyth update may come nested one
    level deeper, which ape's converter accepts): a flat list of byte strings."""
    if isinstance(value, bytes | bytearray):
        return [bytes(value)]
    return [item for part in value for item in _flat_bytes(part)]


@dataclass(frozen=True)
class _Sent:
    txn_hash: str
    block_number: int


class _Container:
    """One contract type: `.contract_type`, `.deploy(*args, sender=...)`, `.at(address)`."""

    def __init__(self, project: ArtifactProject, contract_type: Any) -> None:
        self.project = project
        self.contract_type = contract_type
        abi = [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]
        self.abi = abi
        constructor = next((item for item in abi if item["type"] == "constructor"), None)
        self._constructor_types = [canonical_type(p) for p in constructor["inputs"]] if constructor else []

    def deploy(self, *args: Any, sender: Any, **_: Any) -> _Instance:
        rpc = self.project.rpc
        data = self.contract_type.deployment_bytecode.bytecode + encode(self._constructor_types, list(args)).hex()
        tx = {"from": sender.address, "data": data, "gas": hex(DEPLOY_GAS)}
        receipt = rpc.request("eth_sendTransactionSync", [tx])
        if int(receipt["status"], 16) != 1 or not receipt.get("contractAddress"):
            raise RuntimeError(f"deploying {self.contract_type.name} reverted ({receipt['transactionHash']})")
        return self.at(receipt["contractAddress"])

    def at(self, address: str) -> _Instance:
        from eth_utils import to_checksum_address

        project = self.project
        contract = LeanContract(project.rpc, to_checksum_address(address), AbiCodec(self.abi), project.registry)
        return _Instance(contract)


class ArtifactProject:
    """Stands in for ape's project in `Ledger.deploy` (and `FuzzWorld`): the contract types of
    `.build/__local__.json`, deployed and called over `rpc`."""

    def __init__(self, root: Path, rpc: RpcClient) -> None:
        from ethpm_types import ContractType

        manifest = root / ".build" / "__local__.json"
        if not manifest.exists():
            raise FileNotFoundError(f"{manifest} is missing: run `make compile` in {root} first")
        types = json.loads(manifest.read_text())["contractTypes"]
        self.contracts = {name: ContractType.model_validate(data) for name, data in types.items()}
        self.rpc = rpc
        self.registry = AbiRegistry()
        for contract_type in self.contracts.values():
            self.registry.add([item.model_dump(mode="json", by_alias=True) for item in contract_type.abi])
        self._containers: dict[str, _Container] = {}

    def __getattr__(self, name: str) -> _Container:
        contracts = self.__dict__.get("contracts", {})
        if name not in contracts:
            raise AttributeError(name)
        if name not in self._containers:
            self._containers[name] = _Container(self, contracts[name])
        return self._containers[name]


def funded_accounts(rpc: RpcClient) -> list[Account]:
    return [Account(address) for address in _checksummed(rpc.request("eth_accounts"))]


def _checksummed(addresses: list[str]) -> list[str]:
    from eth_utils import to_checksum_address

    return [to_checksum_address(a) for a in addresses]
