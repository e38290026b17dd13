"""Reverting to a snapshot while transactions are queued (difftest/snapshots.py).

Anvil keeps its pool across `evm_revert`: a transaction queued after the snapshot outlives the
revert and is mined once its sender's nonce comes round again (with a plain `evm_revert` this
test's chain diverged from the model in about half the tries). `ChainSnapshot.restore` must
leave chain and model equal every time, and stay equal while the same senders go on acting.
"""

from __future__ import annotations

from chainio.contract import DEFAULT_GAS
from difftest.snapshots import ChainSnapshot

USD = 10**6
TRIES = 12


def _send(rpc, token, sender: str, to: str, amount: int) -> None:
    data = token.codec.encode_call("transfer", (to, amount))
    rpc.request("eth_sendTransaction", [{"from": sender, "to": token.address, "data": data, "gas": hex(DEFAULT_GAS)}])


def test_restore_with_transactions_queued__chain_equals_model(ledger, rpc):
    lp, other = ledger.actors[1], ledger.actors[2]
    ledger.mint_and_approve(lp, 1_000 * USD)
    token = ledger.deployment.contracts["token"]
    snapshot = ChainSnapshot(rpc)
    for attempt in range(TRIES):
        # After the snapshot: one block mined with a transfer, two more transfers queued.
        rpc.request("evm_setAutomine", [False])
        _send(rpc, token, lp, other, 1)
        rpc.request("evm_mine", [ledger.now + 1])
        _send(rpc, token, lp, other, 2)
        _send(rpc, token, lp, other, 4)
        assert int(rpc.request("txpool_status")["pending"], 16) == 2
        snapshot.restore(retake=False)
        ledger.require_same_state(f"restore {attempt}")
        # The same sender goes on: its nonce comes round to the dropped transactions' again.
        ledger.advance(1)
        ledger.act(lp, "token", "transfer", other, 8)
        ledger.act(lp, "token", "transfer", other, 16)
        rpc.request("evm_mine", [ledger.now])
        ledger.require_same_state(f"after restore {attempt} and two transfers")
        snapshot.take()
    assert ledger.system.c.token.balance_of(other) == TRIES * 24
