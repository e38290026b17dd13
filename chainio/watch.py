"""A live deployment held to the model, block by block (`ape run watch`).

From the deployment record (`deployments/<chainId>.json`) the model of the deployment is built
as `chainio.history` builds it for the keeper; then, from the first deployment block on, every
block is read (full transactions, in pages of `eth_getBlockByNumber` batched per request) with
the system's logs of the same range (one `eth_getLogs` over every system address per page).
A transaction touched the system when it was sent to one of its contracts (whoever signed it:
ape, cast, any client) or when one of them emitted a log in it. Each such transaction runs on
the model at its block's time, from its sender, decoded from its calldata; its outcome (status,
the ordered events of the receipt, and where the node traces, the return value or the revert
error) must equal the model's, and after the block the full state the differential harness
compares (`difftest.ledger.Ledger`, the same queries, at that block) must too, to the wei.

The first difference stops the watch (`Divergence`: the block, the transaction, the first
differing field). Things the model cannot mirror are differences too: a contract outside the
record calling into the system (or a contract creation doing so), a selector the ABI lacks, a
call the model cannot execute (`setOracle` to a feed it has no model of). State that changes
with no transaction (`anvil_setStorageAt`, a self-destructed contract) shows at the next
comparison; the block where it happened is found by bisection over the blocks in between.

The checkpoint (`Checkpoint`) is what the model is made of: the steps' block times and every
transaction executed since, calldata as sent. Resuming re-executes them on the model (no chain
reads), checks the state at the checkpoint's block and goes on; `simulate --from-deployment`
rebuilds the book from one offline.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict

from chainio.abi import AbiRegistry, DecodedEvent
from chainio.contract import LeanContract
from chainio.deploy import Deployment
from chainio.deploy_record import DeploymentRecord
from chainio.history import CallDecoder, deployment_stamps, model_from_stamps
from chainio.rpc import RpcClient, RpcError
from difftest.ledger import Action, Ledger, ParityError, first_difference
from pymodel.core import ZERO_ADDRESS, EmittedEvent
from pymodel.system import Outcome, System

BLOCK_BATCH = 50  # full blocks per batched request


class WatchedTx(BaseModel):
    """One transaction the model executed, as the chain ran it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block: int
    timestamp: int
    tx_hash: str
    sender: str
    contract: str  # the model's name of the contract it was sent to
    input: str  # calldata, hex


class Checkpoint(BaseModel):
    """The model of the deployment after block `next_block - 1`, as its inputs (see the module
    docstring): tied to one record by chain id and config hash."""

    model_config = ConfigDict(extra="forbid")

    chain_id: int
    config_hash: str
    deployment_stamps: dict[int, int]  # step index -> block time
    next_block: int
    block_timestamp: int  # of block next_block - 1
    actors: list[str]
    transactions: list[WatchedTx]

    def save(self, path: Path) -> None:
        """Atomic: a crash leaves the previous checkpoint or this one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def check_record(self, record: DeploymentRecord) -> None:
        if (self.chain_id, self.config_hash) != (record.chain_id, record.config_hash):
            raise ValueError(
                f"the checkpoint is for chain {self.chain_id} config {self.config_hash[:10]}…, the record for "
                f"chain {record.chain_id} config {record.config_hash[:10]}…"
            )


class Divergence(Exception):
    """The chain and the model differ: at `block`, in transaction `tx_hash` (None: no transaction
    touched the system in that block), `what` names the first difference."""

    def __init__(self, block: int, tx_hash: str | None, what: str) -> None:
        self.block, self.tx_hash, self.what = block, tx_hash, what
        where = f"block {block}" + (f", tx {tx_hash}" if tx_hash else ", no transaction to the system")
        super().__init__(f"DIVERGED at {where}: {what}")


@dataclass
class TxReport:
    tx_hash: str
    sender: str
    contract: str
    function: str
    args: tuple[Any, ...]
    outcome: Outcome
    events: list[DecodedEvent] = field(default_factory=list)  # the chain's, decoded (named fields)


@dataclass
class BlockReport:
    """One compared block: what touched the system (deployment steps are not listed)."""

    number: int
    timestamp: int
    transactions: list[TxReport]
    deployment_steps: int = 0
    state_compared: bool = False


def rebuild_model(
    record: DeploymentRecord, checkpoint: Checkpoint, decoders: dict[str, CallDecoder]
) -> tuple[System, list[Outcome]]:
    """The model a checkpoint stands for (no chain reads), with each transaction's outcome."""
    checkpoint.check_record(record)
    system = model_from_stamps(record, checkpoint.deployment_stamps)
    outcomes = []
    for tx in checkpoint.transactions:
        function, args = decoders[tx.contract].decode(bytes.fromhex(tx.input[2:]))
        outcomes.append(system.execute(tx.sender, tx.timestamp, tx.contract, function, args))
    return system, outcomes


def _addresses(value: Any) -> Iterator[str]:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _addresses(item)


class Watcher:
    """Holds the chain to the model from a record (and a checkpoint). `contracts`: a
    `LeanContract` per model contract name; `decoders`: a `CallDecoder` per name."""

    def __init__(
        self,
        rpc: RpcClient,
        record: DeploymentRecord,
        contracts: dict[str, LeanContract],
        decoders: dict[str, CallDecoder],
        registry: AbiRegistry,
        checkpoint: Checkpoint | None = None,
        log_chunk: int = 2_000,
    ) -> None:
        self.rpc, self.record, self.contracts, self.decoders, self.registry = rpc, record, contracts, decoders, registry
        self.log_chunk = log_chunk
        steps = [s for s in record.steps if s.block is not None]
        self.first_block = min(s.block for s in steps)  # type: ignore[type-var]
        self.deployed_block = max(s.block for s in steps)  # type: ignore[type-var]
        self.step_hashes = {s.tx_hash.lower(): s.index for s in steps if s.tx_hash}
        self.tracing: bool | None = None  # the node answers debug_traceTransaction (None: not tried)
        self.notes: list[str] = []
        config = record.deployment_config()
        self.decimals = config.system.collateral_decimals
        fixed = [record.deployer, *config.adl_keepers, *([config.guardian] if config.guardian else [])]
        if checkpoint is None:
            self.stamps = deployment_stamps(rpc, record)
            self.system = model_from_stamps(record, self.stamps)
            self.transactions: list[WatchedTx] = []
            self.next_block = self.first_block
            self.block_timestamp = self.stamps[max(self.stamps)]
            self.actors: list[str] = []
            self.resumed = False
        else:
            self.system, _ = rebuild_model(record, checkpoint, decoders)
            self.stamps = checkpoint.deployment_stamps
            self.transactions = list(checkpoint.transactions)
            self.next_block = checkpoint.next_block
            self.block_timestamp = checkpoint.block_timestamp
            self.actors = list(checkpoint.actors)
            self.resumed = True
        self.names = {address.lower(): name for name, address in self.system.addresses.by_name().items()}
        for actor in fixed:
            self._add_actor(actor)
        self._ledger: Ledger | None = None
        self.compared_block: int | None = None  # the last block whose state was compared
        if self.resumed and self.next_block > self.deployed_block:
            self._compare_state(self.next_block - 1, None)

    # The model's state as the harness compares it

    def _add_actor(self, address: str) -> None:
        address = to_checksum_address(address)
        if address.lower() in self.names or address == ZERO_ADDRESS or address in self.actors:
            return
        self.actors.append(address)
        self._ledger = None  # its queries cover the actors it was built with

    def ledger(self) -> Ledger:
        """The differential harness's view of this deployment (its state queries, its model views)."""
        if self._ledger is None:
            deployment = Deployment(self.system.addresses, self.contracts, self.record.deployer, self.block_timestamp)
            self._ledger = Ledger(deployment, self.system, self.rpc, list(self.actors))
        return self._ledger

    def difference(self, block: int) -> str | None:
        """The first field where the chain's state at `block` differs from the model's now."""
        ledger = self.ledger()
        model, chain = ledger.model_state(), ledger.chain_state(hex(block))
        return None if model == chain else first_difference(model, chain)

    def _compare_state(self, block: int, tx_hash: str | None) -> None:
        difference = self.difference(block)
        if difference is not None:
            if tx_hash is None and self.compared_block is not None:
                # No transaction touched the system since the last comparison: the change happened
                # at the first block whose state differs, and everything before it matched.
                if self.compared_block < block - 1:
                    block = self._first_changed(self.compared_block, block)
                before = self.rpc.request("eth_getBlockByNumber", [hex(block - 1), False])
                self.next_block, self.block_timestamp = block, int(before["timestamp"], 16)
            what = "state after the block" if tx_hash else "state changed outside any transaction"
            raise Divergence(block, tx_hash, f"{what}: {difference}")
        self.compared_block = block

    def _first_changed(self, good: int, bad: int) -> int:
        """The first block in (good, bad] whose state differs (no transaction in between)."""
        while bad - good > 1:
            middle = (good + bad) // 2
            good, bad = (good, middle) if self.difference(middle) else (middle, bad)
        return bad

    # Following the chain

    def head(self) -> int:
        return int(self.rpc.request("eth_blockNumber"), 16)

    def run(
        self,
        to_block: int | None = None,
        follow: bool = False,
        interval: float = 2.0,
        on_block: Callable[[BlockReport], None] | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> int:
        """Compares every block from `next_block` to `to_block` (default: the head; with `follow`,
        then every new block as it comes, until `to_block` if given). Returns the last block
        compared; raises `Divergence`. `on_page` runs after each page (the checkpoint)."""
        while True:
            head = self.head()
            last = head if to_block is None else min(to_block, head)
            while self.next_block <= last:
                end = min(last, self.next_block + self.log_chunk - 1)
                for report in self._scan(self.next_block, end):
                    if on_block is not None:
                        on_block(report)
                if self.compared_block != end and end >= self.deployed_block:
                    self._compare_state(end, None)
                if on_page is not None:
                    on_page()
            if not follow or (to_block is not None and self.next_block > to_block):
                return self.next_block - 1
            time.sleep(interval)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            chain_id=self.record.chain_id,
            config_hash=self.record.config_hash,
            deployment_stamps=self.stamps,
            next_block=self.next_block,
            block_timestamp=self.block_timestamp,
            actors=self.actors,
            transactions=self.transactions,
        )

    def _scan(self, first: int, last: int) -> Iterator[BlockReport]:
        addresses = [to_checksum_address(a) for a in self.names]
        query = {"address": addresses, "fromBlock": hex(first), "toBlock": hex(last)}
        logged: dict[str, list[dict[str, Any]]] = {}
        for log in self.rpc.request("eth_getLogs", [query]):
            logged.setdefault(log["transactionHash"].lower(), []).append(log)
        for start in range(first, last + 1, BLOCK_BATCH):
            numbers = range(start, min(last, start + BLOCK_BATCH - 1) + 1)
            blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
            for block in blocks:
                report = self._block(block, logged)
                if report is not None:
                    yield report

    def _block(self, block: dict[str, Any], logged: dict[str, list[dict[str, Any]]]) -> BlockReport | None:
        number, timestamp = int(block["number"], 16), int(block["timestamp"], 16)
        touched = [
            tx
            for tx in block["transactions"]
            if (tx.get("to") or "").lower() in self.names or tx["hash"].lower() in logged
        ]
        report = BlockReport(number, timestamp, [])
        executed: list[WatchedTx] = []
        if touched:
            receipts = self.rpc.batch([("eth_getTransactionReceipt", [tx["hash"]]) for tx in touched])
            for tx, receipt in zip(touched, receipts, strict=True):
                if tx["hash"].lower() in self.step_hashes:
                    report.deployment_steps += 1
                    continue
                report.transactions.append(self._transaction(number, timestamp, tx, receipt, logged, executed))
        if number >= self.deployed_block and (report.transactions or number == self.deployed_block):
            self._compare_state(number, touched[-1]["hash"] if touched else None)
            report.state_compared = True
        # The block is done: what the checkpoint holds moves on with it, all at once.
        self.transactions += executed
        self.block_timestamp = timestamp
        self.next_block = number + 1
        return report if touched else None

    def _transaction(
        self,
        number: int,
        timestamp: int,
        tx: dict[str, Any],
        receipt: dict[str, Any],
        logged: dict[str, list[dict[str, Any]]],
        executed: list[WatchedTx],
    ) -> TxReport:
        tx_hash, sender, to = tx["hash"], to_checksum_address(tx["from"]), tx.get("to")
        name = self.names.get((to or "").lower())
        if name is None:
            emitters = sorted({self.names[log["address"].lower()] for log in logged[tx_hash.lower()]})
            who = "a contract creation" if to is None else f"contract {to_checksum_address(to)}"
            raise Divergence(
                number,
                tx_hash,
                f"{who} (not in the record) made {', '.join(emitters)} emit events, in a transaction from "
                f"{sender}: the model cannot mirror what it did",
            )
        data = bytes.fromhex(tx["input"][2:])
        decoder = self.decoders[name]
        if data[:4] not in decoder.functions:
            raise Divergence(
                number, tx_hash, f"{name} was sent calldata 0x{data[:4].hex()}… its ABI has no function for"
            )
        function, args = decoder.decode(data)
        action = Action(sender, name, function, args, timestamp)
        try:
            model = self.system.execute(sender, timestamp, name, function, args)
        except Exception as error:  # not a Revert (execute returns those): the model has no mirror of it
            raise Divergence(number, tx_hash, f"{action}: the model cannot execute it: {error}") from error
        events = [self.registry.decode_log(log) for log in receipt["logs"]]
        chain = self._chain_outcome(tx_hash, receipt, name, function, model, events)
        try:
            Ledger._require_same_outcome(action, model, chain)
        except ParityError as error:
            raise Divergence(number, tx_hash, str(error)) from None
        executed.append(
            WatchedTx(
                block=number, timestamp=timestamp, tx_hash=tx_hash, sender=sender, contract=name, input=tx["input"]
            )
        )
        for address in (sender, *_addresses(args), *(a for e in events for a in _addresses(e.values()))):
            self._add_actor(address)
        return TxReport(tx_hash, sender, name, function, args, model, events)

    def _chain_outcome(
        self,
        tx_hash: str,
        receipt: dict[str, Any],
        name: str,
        function: str,
        model: Outcome,
        events: list[DecodedEvent],
    ) -> Outcome:
        """The chain's side of one transaction. Receipts carry status and logs; the return value and
        the revert data come from the node's call tracer (without one they are taken as the model's:
        status and events are still compared)."""
        succeeded = int(receipt["status"], 16) == 1
        codec = self.contracts[name].codec
        output = self._trace_output(tx_hash) if not succeeded or codec.has_outputs(function) else None
        if not succeeded:
            error = self.registry.decode_revert(output) if output is not None else model.error
            return Outcome(reverted=True, error=error)
        value = model.return_value
        if output is not None and codec.has_outputs(function):
            value = codec.decode_output(function, output)
        emitted = [EmittedEvent(e.emitter, e.name, e.values()) for e in events]
        return Outcome(reverted=False, return_value=value, events=emitted, gas_used=int(receipt["gasUsed"], 16))

    def _trace_output(self, tx_hash: str) -> bytes | None:
        if self.tracing is False:
            return None
        try:
            trace = self.rpc.request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        except RpcError as error:
            self.tracing = False
            self.notes.append(
                f"the node does not trace ({error}): return values and revert errors are not compared, "
                "status, events and state are"
            )
            return None
        self.tracing = True
        return bytes.fromhex(trace.get("output", "0x")[2:])


def record_for_chain(directory: Path, chain_id: int) -> DeploymentRecord:
    """The complete record of `chain_id` in `directory`; ValueError (one line) otherwise."""
    from chainio import deploy_record

    path = deploy_record.record_path(directory, chain_id)
    if not path.exists():
        raise ValueError(f"no deployment recorded for chain {chain_id} in {directory}")
    return watchable(path)


def watchable(path: Path) -> DeploymentRecord:
    """The record in `path` if the model can mirror it; ValueError (one line) otherwise."""
    from pydantic import ValidationError

    from chainio import deploy_record

    try:
        record = deploy_record.load(path)
    except (ValidationError, ValueError) as error:
        raise ValueError(f"{path} is not a valid deployment record: {error}") from None
    if record is None or not record.complete:
        raise ValueError(f"{path}: the deployment is not complete (resume `ape run deploy` first)")
    if not record.deployment_config().uses_mocks_only:
        raise ValueError(
            f"{path}: the model mirrors only deployments with the mock token and mock feeds (this one adopts "
            "a token, a feed or a sequencer feed)"
        )
    return record


def watcher_for(
    project: Any, rpc: RpcClient, record: DeploymentRecord, checkpoint: Checkpoint | None = None, log_chunk: int = 2_000
) -> Watcher:
    """A `Watcher` on `record` with the ABIs of the project's compiled contracts."""
    from chainio.history import decoders_for
    from chainio.project import lean, project_registry

    registry = project_registry(project)
    types = {s.name: s.contract for s in record.steps if s.name is not None and s.contract is not None}
    contracts = {
        name: lean(rpc, registry, getattr(project, types[name]), address) for name, address in record.addresses.items()
    }
    return Watcher(rpc, record, contracts, decoders_for(project, record), registry, checkpoint, log_chunk)
