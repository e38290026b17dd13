"""Crash-safe sending for `ape run deploy`: each step's transaction is signed, recorded (hash,
nonce, the CREATE address it will make, the signed bytes) and only then broadcast; the record
is completed from the receipt. A resume reconciles a recorded-but-unfinished transaction with
the chain (`reconcile`) instead of sending the step again:

- a receipt for the recorded hash: the step is done (the contract is at the receipt's address);
- no receipt and the account's nonce still at the recorded one: the transaction never landed,
  and the very same signed bytes are broadcast again (same nonce, same hash: it cannot land twice);
- the nonce is used but not by the recorded hash (a replacement sent by hand): the step is done
  only if its effect is on chain (code at the expected address, the wiring's view reads back the
  step's arguments), otherwise the resume refuses and names what it found.

Tests kill the deploy at chosen points (`PERP_DEPLOY_KILL=<phase>:<step index>[:<signal>]`, phases
`signed` = recorded, not broadcast; `sent` = broadcast (mined, on an automining node), receipt
not recorded; `boundary` = after the step is recorded), see `tests/deploy/test_kill_resume.py`.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

from eth_utils import keccak, to_checksum_address
from pydantic import BaseModel, ConfigDict

from chainio.deploy import LOCAL_CHAIN_IDS, Call, Deploy, Step, StepResult
from chainio.ops import OperatorError
from chainio.rpc import RpcClient, RpcError

KILL_VARIABLE = "PERP_DEPLOY_KILL"


class PendingTx(BaseModel):
    """A step's transaction, recorded before it is broadcast."""

    model_config = ConfigDict(extra="forbid")

    index: int
    step: str
    tx_hash: str
    nonce: int
    expected_address: str | None = None  # a deployment's CREATE address (sender, nonce)
    raw: str  # the signed transaction: a resume re-broadcasts exactly this


def create_address(sender: str, nonce: int) -> str:
    """The address `sender`'s CREATE with `nonce` makes: keccak(rlp([sender, nonce]))[12:]."""
    import rlp

    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def kill_point(phase: str, index: int) -> None:
    """The test hook: kills this process with the configured signal at (`phase`, `index`)."""
    wanted = os.environ.get(KILL_VARIABLE)
    if not wanted:
        return
    parts = wanted.split(":")
    if parts[0] == phase and int(parts[1]) == index:
        name = parts[2] if len(parts) > 2 else "KILL"
        os.kill(os.getpid(), getattr(signal, f"SIG{name}"))
        time.sleep(5)  # a handled SIGTERM raises before this returns


def default_confirmations(rpc: RpcClient, chain_id: int, network_default: int) -> int:
    """0 on a local chain or a node that mines each transaction at once (Anvil, Hardhat: the
    automine query answers true), else the network's setting (ape's `required_confirmations`)."""
    if chain_id in LOCAL_CHAIN_IDS:
        return 0
    for method in ("anvil_getAutomine", "hardhat_getAutomine"):
        try:
            if rpc.request(method) is True:
                return 0
        except (RpcError, OSError):
            continue
    return network_default


class RecordedSender:
    """Sends each step's transaction from an ape account, recording it first (`on_pending`),
    then waits for its receipt and `confirmations` blocks more."""

    def __init__(
        self,
        project: Any,
        account: Any,
        rpc: RpcClient,
        on_pending: Callable[[PendingTx], None],
        confirmations: int = 0,
        poll: float = 0.2,
        timeout: float = 600.0,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.project = project
        self.account = account
        self.address = account.address
        self.rpc = rpc
        self.on_pending = on_pending
        self.confirmations = confirmations
        self.poll = poll
        self.timeout = timeout
        self.echo = echo
        self.current: tuple[int, Step] | None = None

    def begin(self, index: int, step: Step) -> None:
        self.current = (index, step)

    def deploy(self, contract: str, args: tuple[Any, ...]) -> StepResult:
        txn = getattr(self.project, contract).constructor.serialize_transaction(*args, sender=self.account)
        return self._send(txn, deploys=True)

    def call(self, contract: str, address: str, function: str, args: tuple[Any, ...]) -> StepResult:
        instance = getattr(self.project, contract).at(address)
        txn = getattr(instance, function).as_transaction(*args, sender=self.account)
        return self._send(txn, deploys=False)

    def _send(self, txn: Any, deploys: bool) -> StepResult:
        assert self.current is not None, "begin(index, step) before each step"
        index, step = self.current
        nonce = int(self.rpc.request("eth_getTransactionCount", [self.address, "pending"]), 16)
        txn.sender = self.address
        txn.nonce = nonce
        txn.chain_id = int(self.rpc.request("eth_chainId"), 16)
        prepared = self.account.prepare_transaction(txn)
        signed = self.account.sign_transaction(prepared)
        if signed is None:
            raise OperatorError(f"step {index}: the account did not sign the transaction: nothing sent")
        raw = "0x" + bytes(signed.serialize_transaction()).hex()
        pending = PendingTx(
            index=index,
            step=step.describe(),
            tx_hash="0x" + keccak(hexstr=raw).hex(),
            nonce=nonce,
            expected_address=create_address(self.address, nonce) if deploys else None,
            raw=raw,
        )
        self.on_pending(pending)
        kill_point("signed", index)
        broadcast(self.rpc, pending)
        kill_point("sent", index)
        return wait_for(self.rpc, pending, self.confirmations, self.poll, self.timeout, self.echo)


def broadcast(rpc: RpcClient, pending: PendingTx) -> None:
    """Sends the recorded signed bytes; a node that already has them (or mined them) is fine."""
    try:
        rpc.request("eth_sendRawTransaction", [pending.raw])
    except RpcError as error:
        text = str(error.message).lower()
        if "already known" in text or "known transaction" in text or "nonce too low" in text:
            return
        raise


def _receipt(rpc: RpcClient, tx_hash: str) -> dict[str, Any] | None:
    return rpc.request("eth_getTransactionReceipt", [tx_hash])


def result_of(pending: PendingTx, receipt: dict[str, Any]) -> StepResult:
    if int(receipt["status"], 16) != 1:
        raise OperatorError(
            f"step {pending.index} (`{pending.step}`): transaction {pending.tx_hash} reverted in block "
            f"{int(receipt['blockNumber'], 16)}: the deployment stops here (see the record's pending entry)"
        )
    address = receipt.get("contractAddress")
    return StepResult(
        address=to_checksum_address(address) if address else None,
        tx_hash=pending.tx_hash,
        block=int(receipt["blockNumber"], 16),
    )


def wait_for(
    rpc: RpcClient,
    pending: PendingTx,
    confirmations: int,
    poll: float = 0.2,
    timeout: float = 600.0,
    echo: Callable[[str], None] = print,
) -> StepResult:
    """The step's result once its receipt is `confirmations` blocks deep."""
    deadline = time.monotonic() + timeout
    said = False
    while (receipt := _receipt(rpc, pending.tx_hash)) is None:
        if time.monotonic() > deadline:
            raise OperatorError(
                f"step {pending.index}: transaction {pending.tx_hash} not mined after {timeout:.0f} s "
                "(gas price too low? the node down?): run again to resume, it re-broadcasts the same transaction"
            )
        if not said and time.monotonic() > deadline - timeout + 10:
            echo(f"      waiting for {pending.tx_hash} to be mined ...")
            said = True
        time.sleep(poll)
    result = result_of(pending, receipt)
    if confirmations > 0:
        assert result.block is not None
        echo(f"      waiting for {confirmations} confirmation(s) of block {result.block} ...")
        while int(rpc.request("eth_blockNumber"), 16) - result.block + 1 < confirmations:
            if time.monotonic() > deadline:
                raise OperatorError(
                    f"step {pending.index}: {confirmations} confirmations not reached after {timeout:.0f} s "
                    "(an automining node never makes more blocks: pass --confirmations 0): run again to resume"
                )
            time.sleep(max(poll, 1.0))
    return result


def reconcile(
    rpc: RpcClient,
    pending: PendingTx,
    step: Step,
    sender: str,
    confirmations: int,
    effect_on_chain: Callable[[Step], bool],
    echo: Callable[[str], None] = print,
) -> StepResult:
    """The result of a step whose transaction was recorded but whose outcome was not (see the
    module's docstring); raises OperatorError where the chain shows neither."""
    receipt = _receipt(rpc, pending.tx_hash)
    if receipt is not None:
        block = int(receipt["blockNumber"], 16)
        echo(f"  reconciled step {pending.index}: {pending.tx_hash} was mined in block {block}")
        return wait_for(rpc, pending, confirmations, echo=echo)
    nonce = int(rpc.request("eth_getTransactionCount", [sender, "latest"]), 16)
    if nonce < pending.nonce:
        raise OperatorError(
            f"step {pending.index}: the record's transaction has nonce {pending.nonce} but {sender} is at "
            f"nonce {nonce} (a reset chain?): nothing sent"
        )
    if nonce == pending.nonce:
        echo(f"  step {pending.index}: {pending.tx_hash} never landed: broadcasting the same signed transaction")
        broadcast(rpc, pending)
        return wait_for(rpc, pending, confirmations, echo=echo)
    # Nonce used by another transaction: the step counts only if its effect is there.
    if isinstance(step, Deploy):
        assert pending.expected_address is not None
        code = rpc.request("eth_getCode", [pending.expected_address, "latest"])
        if code not in ("0x", "", None) and effect_on_chain(step):
            echo(f"  reconciled step {pending.index}: {step.name} is at {pending.expected_address} (another tx)")
            return StepResult(address=pending.expected_address)
    elif isinstance(step, Call) and effect_on_chain(step):
        echo(f"  reconciled step {pending.index}: the chain already reads back `{pending.step}`")
        return StepResult()
    raise OperatorError(
        f"step {pending.index} (`{pending.step}`): nonce {pending.nonce} was used by a transaction other than "
        f"the recorded {pending.tx_hash} and the step's effect is not on chain: nothing sent; inspect the "
        "account's transaction at that nonce, then delete the record's `pending` entry to send the step anew"
    )
