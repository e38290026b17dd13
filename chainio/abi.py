"""ABI encoding and decoding for calls, custom errors and events (eth-abi underneath)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import InsufficientDataBytes
from eth_utils import keccak, to_checksum_address

# A deployment has a handful of addresses: checksum each once (keccak per call otherwise).
_checksum = lru_cache(maxsize=1 << 16)(to_checksum_address)

PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)


def canonical_type(param: dict[str, Any]) -> str:
    """`uint256`, `address[]`, or `(uint256,int256)[]` for tuples."""
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(canonical_type(p) for p in item.get('inputs', []))})"


def _normalise(value: Any) -> Any:
    """Decoded values as plain Python: checksummed addresses, lists for arrays, tuples for structs."""
    if isinstance(value, tuple):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return _checksum(value)
    return value


def _split_top_level(inner: str) -> list[str]:
    """`uint256,(int256,bool),address` -> its three components."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if inner:
        parts.append(inner[start:])
    return parts


def static_decoder(kind: str) -> Any:
    """A fast decoder `(data, offset) -> (value, offset)` for a static ABI type, or None when
    the type is dynamic (strings, bytes, T[]): those go through eth-abi. Decodes like eth-abi
    followed by `_normalise` (checksummed addresses, tuples for structs and fixed arrays)."""
    if kind.endswith("]"):
        base, _, count = kind[:-1].rpartition("[")
        if not count:
            return None
        element = static_decoder(base)
        if element is None:
            return None
        n = int(count)

        def decode_array(data: bytes, offset: int) -> tuple[Any, int]:
            values = []
            for _ in range(n):
                value, offset = element(data, offset)
                values.append(value)
            return tuple(values), offset

        return decode_array
    if kind.startswith("("):
        elements = [static_decoder(part) for part in _split_top_level(kind[1:-1])]
        if any(e is None for e in elements):
            return None

        def decode_tuple(data: bytes, offset: int) -> tuple[Any, int]:
            values = []
            for element in elements:
                value, offset = element(data, offset)
                values.append(value)
            return tuple(values), offset

        return decode_tuple
    if kind.startswith("uint"):
        return lambda data, offset: (int.from_bytes(data[offset : offset + 32], "big"), offset + 32)
    if kind.startswith("int"):
        return lambda data, offset: (int.from_bytes(data[offset : offset + 32], "big", signed=True), offset + 32)
    if kind == "bool":
        return lambda data, offset: (data[offset + 31] == 1, offset + 32)
    if kind == "address":
        return lambda data, offset: (_checksum(data[offset + 12 : offset + 32]), offset + 32)
    return None


@dataclass(frozen=True)
class DecodedEvent:
    """One log: which contract emitted it, the event's name and its arguments in ABI order."""

    emitter: str
    name: str
    args: tuple[tuple[str, Any], ...]

    def arg(self, key: str) -> Any:
        return dict(self.args)[key]

    def values(self) -> tuple[Any, ...]:
        """The arguments' values in ABI order (what parity compares)."""
        return tuple(value for _, value in self.args)


class AbiRegistry:
    """Errors and events of every known contract, found by selector / topic."""

    def __init__(self) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {
            PANIC_SELECTOR: ("Panic", ["uint256"]),
            ERROR_SELECTOR: ("Error", ["string"]),
        }
        self._events: dict[bytes, dict[str, Any]] = {}
        self._fast_events: dict[bytes, Any] = {}  # topic0 -> static decoders, or False

    def add(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item["type"] == "error":
                selector = keccak(text=signature(item))[:4]
                self._errors[selector] = (item["name"], [canonical_type(p) for p in item["inputs"]])
            elif item["type"] == "event" and not item.get("anonymous"):
                self._events[keccak(text=signature(item))] = item
                self._fast_events.clear()

    def decode_revert(self, data: bytes) -> tuple[str, tuple[Any, ...]]:
        """Revert data as `(error name, args)`; unknown selectors come back as `('Unknown', (hex,))`."""
        if len(data) < 4:
            return ("EmptyRevert", ()) if not data else ("Unknown", (data.hex(),))
        known = self._errors.get(data[:4])
        if known is None:
            return "Unknown", (data.hex(),)
        name, types = known
        return name, tuple(_normalise(v) for v in decode(types, data[4:]))

    def decode_log(self, log: dict[str, Any]) -> DecodedEvent:
        topics = log["topics"]
        emitter = _checksum(log["address"])
        topic0 = bytes.fromhex(topics[0][2:]) if topics else b""
        fast = self._fast_events.get(topic0)
        if fast is None:
            fast = self._fast_events[topic0] = self._fast_event_decoder(topic0)
        if fast is not False and len(topics) == fast[1] + 1:
            name, _, indexed, plain, order = fast
            values: dict[str, Any] = {}
            for (param, decoder), topic in zip(indexed, topics[1:], strict=True):
                values[param] = decoder(bytes.fromhex(topic[2:]), 0)[0]
            data = bytes.fromhex(log["data"][2:])
            offset = 0
            try:
                for param, decoder in plain:
                    values[param], offset = decoder(data, offset)
            except IndexError:
                offset = len(data) + 1  # short data: eth-abi says what is wrong
            if offset <= len(data):
                return DecodedEvent(emitter, name, tuple((param, values[param]) for param in order))
        return self._decode_log_slow(log, emitter)

    def _fast_event_decoder(self, topic0: bytes) -> Any:
        """(name, indexed count, [(param, decoder)] indexed, [(param, decoder)] data, ABI order)
        when every parameter is static (decoded without eth-abi), else False."""
        item = self._events.get(topic0)
        if item is None:
            return False
        indexed, plain = [], []
        for param in item["inputs"]:
            decoder = static_decoder(canonical_type(param))
            if decoder is None:
                return False
            (indexed if param.get("indexed") else plain).append((param["name"], decoder))
        order = [param["name"] for param in item["inputs"]]
        if len(set(order)) != len(order):
            return False
        return item["name"], len(indexed), indexed, plain, order

    def _decode_log_slow(self, log: dict[str, Any], emitter: str) -> DecodedEvent:
        """eth-abi decoding: dynamic parameters, unknown events, malformed logs."""
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        item = self._events.get(topics[0]) if topics else None
        if item is None:
            return DecodedEvent(emitter, "Unknown", (("topics", tuple(t.hex() for t in topics)), ("data", log["data"])))
        indexed = [p for p in item["inputs"] if p.get("indexed")]
        plain = [p for p in item["inputs"] if not p.get("indexed")]
        values: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=True):
            values[param["name"]] = _normalise(decode([canonical_type(param)], topic)[0])
        data = bytes.fromhex(log["data"][2:])
        for param, value in zip(plain, decode([canonical_type(p) for p in plain], data), strict=True):
            values[param["name"]] = _normalise(value)
        return DecodedEvent(emitter, item["name"], tuple((p["name"], values[p["name"]]) for p in item["inputs"]))


class AbiCodec:
    """One contract's functions: calldata in, return values out."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._functions: dict[str, dict[str, Any]] = {}
        names: dict[str, int] = {}
        for item in abi:
            if item["type"] == "function":
                names[item["name"]] = names.get(item["name"], 0) + 1
        for item in abi:
            if item["type"] != "function":
                continue
            outputs = [canonical_type(p) for p in item["outputs"]]
            decoders = [static_decoder(kind) for kind in outputs]
            entry = {
                "selector": keccak(text=signature(item))[:4],
                "inputs": [canonical_type(p) for p in item["inputs"]],
                "outputs": outputs,
                # All-static outputs decode without eth-abi (the differential hot loop reads many).
                "decoders": decoders if all(d is not None for d in decoders) else None,
            }
            self._functions[signature(item)] = entry
            if names[item["name"]] == 1:
                self._functions[item["name"]] = entry

    def _function(self, name: str) -> dict[str, Any]:
        try:
            return self._functions[name]
        except KeyError:
            raise KeyError(f"no function {name!r} (overloaded functions need the full signature)") from None

    def has_outputs(self, name: str) -> bool:
        return bool(self._function(name)["outputs"])

    @staticmethod
    def _decode_static(decoders: list[Any], data: bytes) -> tuple[Any, ...]:
        offset, decoded = 0, []
        for decoder in decoders:
            value, offset = decoder(data, offset)
            decoded.append(value)
        if offset > len(data):
            # Strict, whatever eth-abi's registry was set to: a short return is a bug, not zeros.
            raise InsufficientDataBytes(f"return data has {len(data)} bytes, the outputs need {offset}")
        return tuple(decoded)

    def encode_call(self, name: str, args: tuple[Any, ...] | list[Any]) -> str:
        fn = self._function(name)
        return "0x" + (fn["selector"] + encode(fn["inputs"], list(args))).hex()

    def decode_output(self, name: str, data: bytes) -> Any:
        """A single return value as itself, several as a tuple, none as None."""
        fn = self._function(name)
        outputs = fn["outputs"]
        if fn["decoders"] is not None:
            values = self._decode_static(fn["decoders"], data)
        else:
            values = tuple(_normalise(v) for v in decode(outputs, data))
        if not outputs:
            return None
        return values[0] if len(values) == 1 else values
