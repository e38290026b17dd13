"""`chainio.deploy_tx.reconcile` on each state a killed deploy can leave a recorded transaction
in, against a scripted node (the real kill-and-resume matrix: test_rehearsal.py)."""

from __future__ import annotations

import pytest

from chainio.deploy import Call, Deploy
from chainio.deploy_tx import PendingTx, create_address, default_confirmations, reconcile
from chainio.ops import OperatorError
from chainio.rpc import RpcError

SENDER = "0x" + "11" * 20
TX = "0x" + "ab" * 32


class FakeNode:
    def __init__(self, receipt=None, nonce=5, code="0x", automine=None):
        self.receipt, self.nonce, self.code, self.automine = receipt, nonce, code, automine
        self.sent: list[str] = []

    def request(self, method, params=None):
        if method == "eth_getTransactionReceipt":
            return self.receipt
        if method == "eth_getTransactionCount":
            return hex(self.nonce)
        if method == "eth_getCode":
            return self.code
        if method == "eth_blockNumber":
            return hex(9)
        if method == "eth_sendRawTransaction":
            self.sent.append(params[0])
            self.receipt = {"status": "0x1", "blockNumber": hex(9), "contractAddress": None}
            return TX
        if method == "anvil_getAutomine" and self.automine is not None:
            return self.automine
        raise RpcError(method, {"code": -32601, "message": "method not found"})


def pending(index=3, nonce=5, deploys=False) -> PendingTx:
    address = create_address(SENDER, nonce) if deploys else None
    return PendingTx(index=index, step="s", tx_hash=TX, nonce=nonce, expected_address=address, raw="0xf00d")


DEPLOY = Deploy("pool", "LPPool", ())
CALL = Call("pool", "setEngine", ())


def test_create_address__matches_the_known_vector():
    # The first contract of 0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0 (the classic example).
    assert create_address("0x6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0", 0).lower() == (
        "0xcd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"
    )


def test_mined_but_unrecorded__taken_from_its_receipt_nothing_sent():
    node = FakeNode(receipt={"status": "0x1", "blockNumber": hex(7), "contractAddress": create_address(SENDER, 5)})
    result = reconcile(node, pending(deploys=True), DEPLOY, SENDER, 0, lambda s: False, echo=lambda _: None)
    assert (result.address, result.tx_hash, result.block, node.sent) == (create_address(SENDER, 5), TX, 7, [])


def test_never_landed__the_same_signed_bytes_broadcast_again():
    node = FakeNode(nonce=5)
    result = reconcile(node, pending(), CALL, SENDER, 0, lambda s: False, echo=lambda _: None)
    assert node.sent == ["0xf00d"] and result.tx_hash == TX


def test_reverted__refused_naming_the_step():
    node = FakeNode(receipt={"status": "0x0", "blockNumber": hex(7), "contractAddress": None})
    with pytest.raises(OperatorError, match="step 3 .* reverted in block 7"):
        reconcile(node, pending(), CALL, SENDER, 0, lambda s: True, echo=lambda _: None)


def test_nonce_used_elsewhere__done_only_if_the_effect_is_on_chain():
    node = FakeNode(nonce=6, code="0x6080")
    assert reconcile(node, pending(deploys=True), DEPLOY, SENDER, 0, lambda s: True, echo=lambda _: None).address
    assert reconcile(node, pending(), CALL, SENDER, 0, lambda s: True, echo=lambda _: None).tx_hash is None
    with pytest.raises(OperatorError, match="nonce 5 was used by a transaction other than the recorded"):
        reconcile(node, pending(), CALL, SENDER, 0, lambda s: False, echo=lambda _: None)
    with pytest.raises(OperatorError, match="nonce 5 was used"):
        reconcile(FakeNode(nonce=6), pending(deploys=True), DEPLOY, SENDER, 0, lambda s: True, echo=lambda _: None)
    assert node.sent == []


def test_nonce_behind_the_record__a_reset_chain_refused():
    with pytest.raises(OperatorError, match="a reset chain"):
        reconcile(FakeNode(nonce=2), pending(), CALL, SENDER, 0, lambda s: True, echo=lambda _: None)


@pytest.mark.parametrize(
    ("chain_id", "automine", "expected"), [(31337, None, 0), (11155111, True, 0), (11155111, None, 2)]
)
def test_confirmations__zero_on_local_and_automining_nodes(chain_id, automine, expected):
    assert default_confirmations(FakeNode(automine=automine), chain_id, 2) == expected
