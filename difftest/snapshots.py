"""EVM snapshots the harness can trust: nothing queued survives a revert.

Anvil 1.7.1 keeps its transaction pool across `evm_revert`: a transaction still queued (mining
paused, or a pipelined block whose `evm_mine` never arrived because the connection broke) is
mined on top of the reverted state, and was seen to re-apply a reverted transaction in 14 of 60
tries. The model would then start the next example from the snapshot while the chain does not:
a false mismatch, or worse, none.

The harness queues transactions in one place only, `Ledger._execute_block_on_chain`, between
`evm_setAutomine false` and `evm_mine` of one pipelined write; when that write completes the pool
is empty again. `ChainSnapshot.restore` does not rely on it: it drops whatever is pending,
requires the pool empty before and after the revert, switches automine back on, and checks that
the head is the block the snapshot was taken at (number and hash).
"""

from __future__ import annotations

from typing import Any

from chainio.rpc import RpcClient


class SnapshotError(AssertionError):
    """The chain is not where the snapshot left it (the message says what differs)."""


def _pool_size(rpc: RpcClient) -> int:
    status = rpc.request("txpool_status")
    return int(status["pending"], 16) + int(status["queued"], 16)


def _head(rpc: RpcClient) -> tuple[int, str]:
    block = rpc.request("eth_getBlockByNumber", ["latest", False])
    return int(block["number"], 16), block["hash"]


class ChainSnapshot:
    """An `evm_snapshot` with the head it was taken at; `restore` returns to it (and keeps a
    fresh snapshot of it, so it can be restored again)."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc
        self.id: Any = None
        self.head = (0, "")
        self.take()

    def take(self) -> None:
        if _pool_size(self.rpc):
            raise SnapshotError("a snapshot with transactions still queued would not be the chain's state")
        self.head = _head(self.rpc)
        self.id = self.rpc.request("evm_snapshot")

    def restore(self, retake: bool = True) -> None:
        rpc = self.rpc
        rpc.request("anvil_dropAllTransactions")
        rpc.request("evm_setAutomine", [True])
        if queued := _pool_size(rpc):
            raise SnapshotError(f"{queued} transactions still queued after anvil_dropAllTransactions")
        if rpc.request("evm_revert", [self.id]) is not True:
            raise SnapshotError(f"evm_revert({self.id}) refused: the snapshot is gone")
        if queued := _pool_size(rpc):
            raise SnapshotError(f"{queued} transactions queued after evm_revert")
        head = _head(rpc)
        if head != self.head:
            raise SnapshotError(f"after evm_revert the head is block {head}, the snapshot was taken at {self.head}")
        if retake:
            self.id = rpc.request("evm_snapshot")
