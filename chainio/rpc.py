"""A minimal JSON-RPC client over one keep-alive HTTP/1.1 connection, with batching.

It speaks just enough HTTP over a raw socket (a POST, a `Content-Length` or chunked reply):
`http.client` cost ~280 µs of Python per request, this ~50 µs, and the differential harness
makes several requests per action.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlparse

# Linux re-arms delayed ACKs after every read. Pipelined replies come back as several writes, and
# a node whose socket keeps Nagle on holds each next write until the previous one is ACKed: a
# 40 ms stall per pipelined batch (measured: 42.6 ms per mined block, ~40 of them idle). An
# immediate ACK after each read releases the node's next write at once.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class RpcError(Exception):
    """A JSON-RPC error response (code, message and the node's data field)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.method = method
        self.code = error.get("code")
        self.message = error.get("message", "")
        self.data = error.get("data")
        super().__init__(f"{method}: {self.message} (code {self.code})")


class _ConnectionLost(Exception):
    """The node closed the keep-alive connection (idle, or restarted): reconnect once."""


class RpcClient:
    """JSON-RPC over HTTP/1.1 keep-alive; `batch` sends many requests in one round trip."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parsed = urlparse(url)
        self.url = url
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 80
        self._path = parsed.path or "/"
        self._timeout = timeout
        self._socket: socket.socket | None = None
        self._buffer = b""
        self._head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: "
        ).encode()
        self._next_id = 0

    def _connect(self) -> socket.socket:
        connection = socket.create_connection((self._host, self._port), timeout=self._timeout)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket, self._buffer = connection, b""
        return connection

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        request = b"%s%d\r\n\r\n%s" % (self._head, len(body), body)
        for attempt in (0, 1):
            connection = self._socket or self._connect()
            try:
                connection.sendall(request)
                return json.loads(self._read_response())
            except (_ConnectionLost, ConnectionError):
                self.close()
                if attempt:
                    raise ConnectionError(f"JSON-RPC connection to {self.url} lost") from None
            except BaseException:
                self.close()  # a timeout or an interrupt mid-reply: the stream is out of step
                raise
        raise AssertionError("unreachable")

    def _receive(self) -> bytes:
        assert self._socket is not None
        chunk = self._socket.recv(1 << 20)
        if not chunk:
            raise _ConnectionLost()
        if _QUICKACK is not None:
            self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return chunk

    def _read_response(self) -> bytes:
        buffer = self._buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer += self._receive()
        head = buffer[:end].decode("latin-1").split("\r\n")
        headers = {line.partition(":")[0].strip().lower(): line.partition(":")[2].strip() for line in head[1:]}
        buffer = buffer[end + 4 :]
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(buffer) < length:
                buffer += self._receive()
            body, self._buffer = buffer[:length], buffer[length:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body, self._buffer = self._read_chunked(buffer)
        else:
            raise _ConnectionLost()  # no framing: the body runs to the end of the connection
        if headers.get("connection", "").lower() == "close":
            self.close()
        return body

    def _read_chunked(self, buffer: bytes) -> tuple[bytes, bytes]:
        parts = []
        while True:
            while (end := buffer.find(b"\r\n")) < 0:
                buffer += self._receive()
            size = int(buffer[:end].split(b";")[0], 16)
            buffer = buffer[end + 2 :]
            while len(buffer) < size + 2:
                buffer += self._receive()
            if size == 0:
                # Trailers are not used by JSON-RPC nodes: the final CRLF ends the reply.
                return b"".join(parts), buffer[2:]
            parts.append(buffer[:size])
            buffer = buffer[size + 2 :]

    def request(self, method: str, params: list[Any] | None = None) -> Any:
        """One call; raises RpcError on an error response."""
        self._next_id += 1
        reply = self._post({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or []})
        if "error" in reply:
            raise RpcError(method, reply["error"])
        return reply["result"]

    def batch_raw(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Many calls in one HTTP request; returns each raw reply ({'result'} or {'error'}) in order."""
        if not calls:
            return []
        first = self._next_id + 1
        self._next_id += len(calls)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        replies = self._post(payload)
        by_id = {reply["id"]: reply for reply in replies}
        return [by_id[first + i] for i in range(len(calls))]

    def pipeline(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Many calls as separate HTTP requests written at once (HTTP/1.1 pipelining): the node
        runs them one after the other, in order, as if sent one by one, without a round trip
        each (a JSON-RPC batch may run its calls concurrently). Returns each raw reply in order.
        A lost connection is an error here (the node may have run some of the calls)."""
        requests = []
        for method, params in calls:
            self._next_id += 1
            payload = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
            body = json.dumps(payload, separators=(",", ":")).encode()
            requests.append(b"%s%d\r\n\r\n%s" % (self._head, len(body), body))
        connection = self._socket or self._connect()
        try:
            connection.sendall(b"".join(requests))
            return [json.loads(self._read_response()) for _ in calls]
        except BaseException:
            self.close()
            raise

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Many calls in one round trip; raises the first RpcError."""
        results = []
        for (method, _), reply in zip(calls, self.batch_raw(calls), strict=True):
            if "error" in reply:
                raise RpcError(method, reply["error"])
            results.append(reply["result"])
        return results

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._buffer = b""
