"""A minimal JSON-RPC client over one keep-alive HTTP connection, with batching."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlparse


class RpcError(Exception):
    """A JSON-RPC error response (code, message and the node's data field)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.method = method
        self.code = error.get("code")
        self.message = error.get("message", "")
        self.data = error.get("data")
        super().__init__(f"{method}: {self.message} (code {self.code})")


class RpcClient:
    """JSON-RPC over HTTP/1.1 keep-alive; `batch` sends many requests in one round trip."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parsed = urlparse(url)
        self.url = url
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 80
        self._path = parsed.path or "/"
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._next_id = 0

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        for attempt in (0, 1):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            try:
                self._connection.request("POST", self._path, body, {"Content-Type": "application/json"})
                response = self._connection.getresponse()
                return json.loads(response.read())
            except (ConnectionError, http.client.HTTPException):
                # The node closed an idle keep-alive connection: reconnect once.
                self._connection.close()
                self._connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

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

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Many calls in one round trip; raises the first RpcError."""
        results = []
        for (method, _), reply in zip(calls, self.batch_raw(calls), strict=True):
            if "error" in reply:
                raise RpcError(method, reply["error"])
            results.append(reply["result"])
        return results

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
