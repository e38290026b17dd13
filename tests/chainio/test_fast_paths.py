"""The chain-side fast paths agree with the general ones: event logs decoded without eth-abi
equal eth-abi's decoding, and the raw-socket JSON-RPC client frames HTTP replies (length or
chunked, pipelined bytes, a closed keep-alive connection) like a real HTTP client."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from eth_abi import encode
from eth_abi.exceptions import InsufficientDataBytes
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from chainio.abi import AbiRegistry
from chainio.rpc import RpcClient, RpcError

EVENT = {
    "type": "event",
    "name": "Liquidated",
    "anonymous": False,
    "inputs": [
        {"name": "account", "type": "address", "indexed": True},
        {"name": "marketId", "type": "uint256", "indexed": True},
        {"name": "pnl", "type": "int256", "indexed": False},
        {"name": "full", "type": "bool", "indexed": False},
        {"name": "caps", "type": "uint256[2]", "indexed": False},
    ],
}
TOPIC0 = "0x" + keccak(text="Liquidated(address,uint256,int256,bool,uint256[2])").hex()


@given(
    account=st.binary(min_size=20, max_size=20),
    market_id=st.integers(0, 2**256 - 1),
    pnl=st.integers(-(2**255), 2**255 - 1),
    full=st.booleans(),
    caps=st.tuples(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1)),
)
def test_decode_log__static_event__fast_path_equals_eth_abi(account, market_id, pnl, full, caps):
    registry = AbiRegistry()
    registry.add([EVENT])
    log = {
        "address": "0x" + "ab" * 20,
        "topics": [TOPIC0, "0x" + encode(["address"], ["0x" + account.hex()]).hex(), "0x" + f"{market_id:064x}"],
        "data": "0x" + encode(["int256", "bool", "uint256[2]"], [pnl, full, list(caps)]).hex(),
    }
    fast = registry.decode_log(log)
    slow = registry._decode_log_slow(log, to_checksum_address(log["address"]))
    assert fast == slow
    assert fast.values() == (to_checksum_address(account), market_id, pnl, full, caps)


def test_decode_log__short_data__falls_back_to_eth_abi_and_raises():
    registry = AbiRegistry()
    registry.add([EVENT])
    log = {"address": "0x" + "ab" * 20, "topics": [TOPIC0, "0x" + "00" * 32, "0x" + "00" * 32], "data": "0x00"}
    with pytest.raises(InsufficientDataBytes):
        registry.decode_log(log)


class _Node:
    """A JSON-RPC echo node: replies with a `Content-Length` or chunked, optionally closing
    the connection after each reply (an idle keep-alive timeout)."""

    def __init__(self, chunked: bool, close_after_reply: bool) -> None:
        self.chunked, self.close_after_reply = chunked, close_after_reply
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = int(
                    next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1]
                )
                while len(buffer) < length:
                    buffer += connection.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                connection.sendall(self._reply(json.loads(body)))
                if self.close_after_reply:
                    return

    def _reply(self, request: object) -> bytes:
        def one(r: dict) -> dict:
            if r["method"] == "fail":
                return {"jsonrpc": "2.0", "id": r["id"], "error": {"code": 3, "message": "reverted", "data": "0x12"}}
            return {"jsonrpc": "2.0", "id": r["id"], "result": r["params"]}

        replies = [one(r) for r in request] if isinstance(request, list) else one(request)
        body = json.dumps(replies).encode()
        if not self.chunked:
            return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
                len(body),
                body,
            )
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + 7]), body[i : i + 7]) for i in range(0, len(body), 7))
        return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"

    def close(self) -> None:
        self.server.close()


@pytest.fixture(
    params=[(False, False), (True, False), (False, True), (True, True)],
    ids=["length", "chunked", "length-close", "chunked-close"],
)
def node(request) -> Iterator[_Node]:
    served = _Node(*request.param)
    yield served
    served.close()


def test_rpc_client__requests_batches_and_errors__round_trip_over_keep_alive(node):
    client = RpcClient(f"http://127.0.0.1:{node.port}")
    big = "x" * 200_000  # a reply larger than one recv
    for i in range(20):
        assert client.request("echo", [i, big]) == [i, big]
    assert client.batch([("echo", [1]), ("echo", [2])]) == [[1], [2]]
    replies = client.batch_raw([("echo", [3]), ("fail", [])])
    assert replies[0]["result"] == [3] and replies[1]["error"]["data"] == "0x12"
    with pytest.raises(RpcError) as raised:
        client.request("fail")
    assert raised.value.data == "0x12"
    # One connection for everything; a node that closes it after each reply gets a new one per
    # request (the count lags the last accept by a moment).
    if node.close_after_reply:
        assert node.connections >= 20
    else:
        assert node.connections == 1
    client.close()
