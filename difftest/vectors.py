"""Golden vectors: scenarios as versioned JSON files, recorded from a Ledger and replayed on a
fresh deployment with model ⇄ chain parity checked at every step.

Format `perp-backstop/vector/1` (JSON Schema: docs/vector.schema.json, generated from the
models below by `python -m difftest.vectors`):

    {
      "format": "perp-backstop/vector/1",
      "description": "LP deposit, long open and close",
      "config": { ... a pymodel.config.SystemConfig ... },
      "actors": ["owner", "lp", "trader"],
      "actions": [
        {"at": "0", "sender": "lp", "contract": "pool", "function": "deposit",
         "args": ["1000000000000", "@lp"],
         "expect": {"return": "1000000000000000000", "events": [
           {"emitter": "#token", "event": "Transfer", "args": ["@lp", "#pool", "1000000000000"]}, ...]}},
        {"at": "4201", "sender": "keeper", "contract": "orderRouter", "function": "executeOrder", "args": [...],
         "expect": {"error": "StalePrice", "args": ["1", "t+0", "t+4201", "4200"]}}
      ],
      "final_state": {"pool.cash": "...", "token.balanceOf/@lp": "...", ...}
    }

- `actors` are names; actor i is the chain's funded test account i at replay, and actor 0
  deploys (owns) every contract. `contract` is a name of `pymodel.system.Addresses.by_name()`
  ("token", "oracle", "pool", "insuranceFund", "safetyModule", "engine", "orderRouter", "feed<marketId>") and
  `function` the contract's Solidity function, mirrored by the model method of the same name.
- `at` is the block time in seconds since genesis (the deployment block); it never decreases.
- `expect` (optional) is the recorded outcome: `{"return": value, "events": [...]}` or
  `{"error": name, "args": [...]}`; `final_state` (optional) is the recorded
  `Ledger.model_state()` after the last action. Both are filled in by `replay(record=True)`.

Values (args, outcomes, state) are JSON-safe and independent of the deployment:

- integers are decimal strings ("-12"), booleans JSON booleans, a missing return value null;
- addresses are symbolic: "@<actor>", "#<contract name>", a raw checksummed "0x…" otherwise;
- block times are relative to genesis: "t+60", "t-5". Every nonzero integer in a time slot (a
  model field or argument named `at`, `*_at`, `block_timestamp`, `window_start`, `window_end`,
  or `cooldownStartOf`) is written so, and such a string reads back as genesis ± n anywhere,
  so a vector replays at any genesis;
- tuples, structs and arrays are lists; a MarketParams argument is an object with the fields
  of `pymodel.engine.MarketParams` (or a list in struct order);
- `config` is a SystemConfig with every integer a decimal string too.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from eth_utils import to_checksum_address
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from typing_extensions import TypeAliasType

from chainio.abi import AbiRegistry
from chainio.rpc import RpcClient
from difftest.ledger import GENESIS, Action, Ledger, ParityError, genesis_time
from pymodel.config import SystemConfig
from pymodel.core import event_class
from pymodel.engine import MarketParams, MarketState, Position
from pymodel.errors import error_classes
from pymodel.mock_price_feed import RoundData
from pymodel.mock_pyth import PythPrice
from pymodel.oracle_adapter import Mark
from pymodel.order_router import Order
from pymodel.system import Addresses, Outcome, System, snake_case

FORMAT = "perp-backstop/vector/1"
# Replays deploy at this block time (Jan 2027) while it is in the future, else 100 s after the
# chain's head: vectors hold times relative to genesis, so either gives the same recording.
REPLAY_GENESIS = GENESIS
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "vector.schema.json"

_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_POSITIVE_PATTERN = "^[1-9][0-9]*$"
_UINT_PATTERN = "^(0|[1-9][0-9]*)$"
_INT_PATTERN = "^-?(0|[1-9][0-9]*)$"
_TIME = re.compile(r"t([+-])(0|[1-9][0-9]*)")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")  # bytes32 ids, Pyth updates (never 20 bytes: address)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ABSENT = "<absent>"  # what a difference shows for a missing key or list item

# Time slots: model field / argument names that hold a block time.
_TIME_NAMES = frozenset(
    {"at", "block_timestamp", "window_start", "window_end", "cooldown_start", "start", "deadline", "publish_time"}
)
# Names of the values returned by the views the compared state reads (chain tuples are unnamed).
_VIEW_FIELDS: dict[str, str | tuple[str, ...]] = {
    "latestRoundData": RoundData._fields,
    "getRoundData": RoundData._fields,
    "marketState": tuple(f.name for f in fields(MarketState)),
    "positionOf": tuple(f.name for f in fields(Position)),
    "redeemRequestOf": ("shares", "requested_at", "assets"),
    "pendingOf": ("shares", "claimable_at", "deadline"),
    "cooldownStartOf": "cooldown_start",
    "slashCheckpointOf": ("at", "kept"),
    "slashOrigin": "at",
    "markOf": Mark._fields,
    "getPriceUnsafe": PythPrice._fields,
    "orderOf": tuple(f.name for f in fields(Order)),
}

Names = str | tuple[str, ...] | None


# ---------------------------------------------------------------------------------------------
# File format
# ---------------------------------------------------------------------------------------------

Value = TypeAliasType("Value", StrictStr | StrictBool | None | list["Value"] | dict[StrictStr, "Value"])


def _no_json_numbers(value: Any) -> Any:
    """Integers are decimal strings in a vector: a JSON number is an error, not a guess."""

    def walk(item: Any, where: str) -> None:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            raise ValueError(f"{where or 'value'}: integers are written as decimal strings, got the number {item!r}")
        if isinstance(item, list):
            for i, sub in enumerate(item):
                walk(sub, f"{where}[{i}]")
        elif isinstance(item, dict):
            for key, sub in item.items():
                walk(sub, f"{where}[{key!r}]")

    walk(value, "")
    return value


Values = Annotated[list[Value], BeforeValidator(_no_json_numbers)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordedEvent(_Frozen):
    """One event of an action: which contract emitted it, its name and its values in order."""

    emitter: str = Field(description='"#<contract name>" (or a raw address)')
    event: str
    args: Values


class RecordedOutcome(_Frozen):
    """What an action did: `{"return": value, "events": [...]}` or `{"error": name, "args": [...]}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)

    return_: Annotated[Value, BeforeValidator(_no_json_numbers)] = Field(
        default=None, alias="return", description="the return value (null when the function returns nothing)"
    )
    events: list[RecordedEvent] = Field(default_factory=list, description="the action's events in order")
    error: str | None = Field(default=None, description="the custom error (or Panic) the action reverted with")
    args: Values | None = Field(default=None, description="the error's arguments in order")

    @model_validator(mode="after")
    def _success_or_revert(self) -> RecordedOutcome:
        if self.error is None:
            if self.args is not None:
                raise ValueError("'args' belongs to a revert: give its 'error' too")
        elif "return_" in self.model_fields_set or self.events:
            raise ValueError(f"a revert ({self.error}) has neither a return value nor events")
        return self

    @property
    def reverted(self) -> bool:
        return self.error is not None

    @model_serializer
    def _canonical(self) -> dict[str, Any]:
        if self.error is not None:
            return {"error": self.error, "args": list(self.args or [])}
        return {"return": self.return_, "events": [event.model_dump() for event in self.events]}

    def to_json_data(self) -> dict[str, Any]:
        return self.model_dump()


class VectorAction(_Frozen):
    """One transaction: `sender` calls `contract.function(*args)` in a block at genesis + `at`."""

    at: int = Field(ge=0, description="block time, in seconds since genesis (never decreasing)")
    sender: str = Field(description="an actor name")
    contract: str = Field(description='a contract name: "token", "oracle", "pool", "engine", "feed1", ...')
    function: str = Field(description="the Solidity function name")
    args: Values = Field(default_factory=list)
    expect: RecordedOutcome | None = Field(default=None, description="the recorded outcome, if any")


class Vector(_Frozen):
    """A scenario: a configuration, named actors and their actions, with recorded results."""

    format: Literal["perp-backstop/vector/1"]
    description: str
    config: SystemConfig
    actors: list[str] = Field(min_length=1, description="actor i is test account i at replay; actor 0 deploys")
    actions: list[VectorAction]
    final_state: Annotated[dict[str, Value], BeforeValidator(_no_json_numbers)] | None = Field(
        default=None, description="the recorded full state (Ledger.model_state) after the last action"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Vector:
        for i, name in enumerate(self.actors):
            if not _NAME.fullmatch(name):
                raise ValueError(f"actors[{i}]: {name!r} is not a name ([A-Za-z_][A-Za-z0-9_.-]*)")
        if len(set(self.actors)) != len(self.actors):
            raise ValueError(f"actors: names must be unique, got {self.actors}")
        contracts = _contract_types(self.config)
        previous = 0
        for i, action in enumerate(self.actions):
            where = f"actions[{i}]"
            if action.at < previous:
                raise ValueError(f"{where}.at: {action.at} is before the previous action's {previous}")
            previous = action.at
            if action.sender not in self.actors:
                raise ValueError(f"{where}.sender: {action.sender!r} is not one of the actors {self.actors}")
            if action.contract not in contracts:
                raise ValueError(f"{where}.contract: {action.contract!r} is not one of {sorted(contracts)}")
            params = _transaction_params(contracts[action.contract], action.contract, action.function, where)
            required = sum(1 for p in params if p.required)
            if not required <= len(action.args) <= len(params):
                names = ", ".join(p.name for p in params)
                raise ValueError(
                    f"{where}.args: {action.contract}.{action.function}({names}) takes "
                    f"{len(params)} arguments, got {len(action.args)}"
                )
            for j, (value, param) in enumerate(zip(action.args, params, strict=False)):
                _check_arg(value, param.hint, f"{where}.args[{j}] ({param.name})", self.actors, contracts)
        return self

    # Files

    @classmethod
    def load(cls, path: str | Path) -> Vector:
        """Reads and validates a vector file; a bad file raises pydantic's ValidationError."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def dump(self, path: str | Path) -> Path:
        """Writes the canonical text (`dumps`); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.dumps(), encoding="utf-8")
        return path

    def dumps(self) -> str:
        """Stable, pretty JSON: fields in format order, state keys sorted, short lists on one line."""
        return _render(self.to_json_data(), 0, 0) + "\n"

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": self.format,
            "description": self.description,
            "config": _decimal_strings(self.config.model_dump(mode="python")),
            "actors": list(self.actors),
            "actions": [],
        }
        for action in self.actions:
            item: dict[str, Any] = {
                "at": str(action.at),
                "sender": action.sender,
                "contract": action.contract,
                "function": action.function,
                "args": list(action.args),
            }
            if action.expect is not None:
                item["expect"] = action.expect.to_json_data()
            data["actions"].append(item)
        if self.final_state is not None:
            data["final_state"] = dict(sorted(self.final_state.items()))
        return data

    @property
    def recorded(self) -> bool:
        """Every action has its outcome and the final state is recorded."""
        return self.final_state is not None and all(a.expect is not None for a in self.actions)


class _VectorJsonSchema(GenerateJsonSchema):
    """Every integer of a vector file is a decimal string (exact in any language)."""

    def int_schema(self, schema: Any) -> dict[str, Any]:
        ge, gt = schema.get("ge"), schema.get("gt")
        if (gt is not None and gt >= 0) or (ge is not None and ge >= 1):
            pattern = _POSITIVE_PATTERN
        elif ge is not None and ge >= 0:
            pattern = _UINT_PATTERN
        else:
            pattern = _INT_PATTERN
        return {"type": "string", "pattern": pattern}

    def encode_default(self, dft: Any) -> Any:
        return _decimal_strings(super().encode_default(dft))


def vector_json_schema() -> dict[str, Any]:
    """The JSON Schema of the vector format, as committed at docs/vector.schema.json."""
    schema = Vector.model_json_schema(schema_generator=_VectorJsonSchema)
    schema["$defs"]["Value"]["description"] = (
        'An argument, outcome or state value: an integer as a decimal string ("-12"), a block time '
        'relative to genesis ("t+60"), an address ("@actor", "#contract" or "0x…"), a boolean, null '
        "(no return value), a list (tuples, structs, arrays) or an object (a MarketParams argument)."
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated from difftest/vectors.py by `python -m difftest.vectors`; do not edit.",
        **schema,
    }


def vector_json_schema_text() -> str:
    return json.dumps(vector_json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# Argument checks (at load) from the model methods the actions call
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Param:
    name: str
    hint: Any
    required: bool


def _contract_types(config: SystemConfig) -> dict[str, type]:
    """The model class behind each contract name of a deployment of `config`."""
    addresses = Addresses.numbered(config, 0)
    system = System(config, addresses, to_checksum_address(f"0x{7:040x}"), REPLAY_GENESIS)
    return {name: type(system.c.by_name(name)) for name in addresses.by_name()}


def _transaction_params(contract_type: type, contract: str, function: str, where: str) -> list[_Param]:
    """The arguments of the model method mirroring `contract.function` (a transaction: it takes
    the block env first)."""
    method = getattr(contract_type, snake_case(function), None)
    if not callable(method) or function.startswith("_"):
        raise ValueError(f"{where}.function: {contract} ({contract_type.__name__}) has no function {function!r}")
    params = list(inspect.signature(method).parameters.values())[1:]  # self
    if not params or params[0].name != "env":
        raise ValueError(f"{where}.function: {contract}.{function} is a view, not a transaction")
    hints = typing.get_type_hints(method)
    return [_Param(p.name, hints.get(p.name, Any), p.default is inspect.Parameter.empty) for p in params[1:]]


def _check_arg(value: Any, hint: Any, where: str, actors: list[str], contracts: dict[str, type]) -> None:
    if hint is MarketParams:
        names = [f.name for f in fields(MarketParams)]
        if isinstance(value, dict):
            if set(value) != set(names):
                missing, extra = sorted(set(names) - set(value)), sorted(set(value) - set(names))
                raise ValueError(f"{where}: MarketParams fields missing {missing}, unknown {extra}")
            items = [value[name] for name in names]
        elif isinstance(value, list) and len(value) == len(names):
            items = value
        else:
            raise ValueError(f"{where}: a MarketParams is an object of its {len(names)} fields or a list of them")
        for name, item in zip(names, items, strict=True):
            parts = item if name.startswith("tier_") and isinstance(item, list) and len(item) == 4 else [item]
            for part in parts:
                _check_arg(part, int, f"{where}.{name}", actors, contracts)
        return
    if hint is int and not (isinstance(value, str) and (_INT.fullmatch(value) or _TIME.fullmatch(value))):
        raise ValueError(f'{where}: expected an integer as a decimal string (or a time "t+N"), got {value!r}')
    if hint is bool and not isinstance(value, bool):
        raise ValueError(f"{where}: expected a JSON boolean, got {value!r}")
    if hint is str and not isinstance(value, str):
        raise ValueError(f'{where}: expected an address ("@actor", "#contract", "0x…") or a string, got {value!r}')
    _check_symbols(value, where, actors, contracts)


def _check_symbols(value: Any, where: str, actors: list[str], contracts: dict[str, type]) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_symbols(item, f"{where}[{i}]", actors, contracts)
    elif isinstance(value, str):
        if value.startswith("@") and value[1:] not in actors:
            raise ValueError(f"{where}: {value!r} names no actor (actors: {actors})")
        if value.startswith("#") and value[1:] not in contracts:
            raise ValueError(f"{where}: {value!r} names no contract (contracts: {sorted(contracts)})")


# ---------------------------------------------------------------------------------------------
# Values: Python <-> vector
# ---------------------------------------------------------------------------------------------


def _is_time(name: str) -> bool:
    return name in _TIME_NAMES or name.endswith("_at")


@functools.cache
def _error_fields(name: str) -> tuple[str, ...] | None:
    cls = error_classes().get(name)
    return tuple(f.name for f in fields(cls)) if cls is not None else None


@functools.cache
def _event_fields(name: str, arity: int) -> tuple[str, ...] | None:
    try:
        return tuple(f.name for f in fields(event_class(name, arity)))
    except KeyError:
        return None


@dataclass
class Symbols:
    """A deployment's names: actor and contract addresses and the genesis block time."""

    genesis: int
    actors: dict[str, str]  # name -> address
    contracts: dict[str, str]  # name -> address
    _names: dict[str, str] = field(init=False, repr=False)  # address -> "@actor" / "#contract"

    def __post_init__(self) -> None:
        self._names = {to_checksum_address(a): f"#{n}" for n, a in self.contracts.items()}
        self._names |= {to_checksum_address(a): f"@{n}" for n, a in self.actors.items()}

    # Python -> vector

    def encode(self, value: Any, names: Names = None) -> Any:
        """A model/chain value as a vector value; `names` are its field names (time slots)."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            if isinstance(names, str) and _is_time(names) and value != 0:
                offset = value - self.genesis
                return f"t{'+' if offset >= 0 else '-'}{abs(offset)}"
            return str(value)
        if isinstance(value, str):
            return self._encode_str(value)
        if isinstance(value, bytes) and len(value) != 20:  # bytesN (Pyth ids, OrderCancelled reasons): hex
            return "0x" + value.hex()
        if isinstance(value, MarketParams):
            return {f.name: self.encode(getattr(value, f.name)) for f in fields(value)}
        if is_dataclass(value) and hasattr(value, "as_tuple"):
            return self.encode(value.as_tuple(), tuple(f.name for f in fields(value)))
        if isinstance(value, (tuple, list)):
            slots = names if isinstance(names, tuple) and len(names) == len(value) else (None,) * len(value)
            return [self.encode(item, slot) for item, slot in zip(value, slots, strict=True)]
        raise TypeError(f"cannot write {value!r} ({type(value).__name__}) into a vector")

    def _encode_str(self, value: str) -> str:
        if _ADDRESS.fullmatch(value):
            address = to_checksum_address(value)
            return self._names.get(address, address)
        if _INT.fullmatch(value) or _TIME.fullmatch(value) or value[:1] in ("@", "#") or value.startswith("0x"):
            raise ValueError(f"the string {value!r} would read back as a number, time or address")
        return value

    def encode_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """`Ledger.model_state()` / `chain_state()` with symbolic keys and values."""
        encoded = {}
        for key, value in state.items():
            head, *rest = key.split("/")
            function = head.rsplit(".", 1)[-1]
            symbolic = "/".join(
                [head, *(self._encode_str(part) if _ADDRESS.fullmatch(part) else part for part in rest)]
            )
            encoded[symbolic] = self.encode(value, _VIEW_FIELDS.get(function))
        return dict(sorted(encoded.items()))

    def encode_outcome(self, outcome: Outcome, function: str) -> RecordedOutcome:
        if outcome.reverted:
            assert outcome.error is not None
            name, args = outcome.error
            return RecordedOutcome(error=name, args=self.encode(list(args), _error_fields(name)))
        events = [
            RecordedEvent(
                emitter=self.encode(event.emitter),
                event=event.name,
                args=self.encode(list(event.values), _event_fields(event.name, len(event.values))),
            )
            for event in outcome.events
        ]
        return RecordedOutcome(return_=self.encode(outcome.return_value, _VIEW_FIELDS.get(function)), events=events)

    def encode_args(self, system: System, action: Action) -> list[Any]:
        method = getattr(system.c.by_name(action.contract), snake_case(action.function))
        names = [p for p in inspect.signature(method).parameters][1:]  # env first
        slots = tuple(names[: len(action.args)]) if len(names) >= len(action.args) else None
        return self.encode(list(action.args), slots)

    # vector -> Python

    def decode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, list):
            return tuple(self.decode(item) for item in value)
        if not isinstance(value, str):
            raise ValueError(f"cannot read {value!r} as a vector value")
        if _INT.fullmatch(value):
            return int(value)
        if time := _TIME.fullmatch(value):
            offset = int(time.group(2))
            return self.genesis + offset if time.group(1) == "+" else self.genesis - offset
        if value.startswith("@"):
            return self._lookup(self.actors, value, "actor")
        if value.startswith("#"):
            return self._lookup(self.contracts, value, "contract")
        if _ADDRESS.fullmatch(value):
            return to_checksum_address(value)
        if _BYTES.fullmatch(value):
            return bytes.fromhex(value[2:])
        return value

    @staticmethod
    def _lookup(names: dict[str, str], value: str, kind: str) -> str:
        try:
            return names[value[1:]]
        except KeyError:
            raise ValueError(f"{value!r} names no {kind} (known: {sorted(names)})") from None

    def decode_args(self, system: System, action: VectorAction) -> tuple[Any, ...]:
        method = getattr(system.c.by_name(action.contract), snake_case(action.function))
        hints = typing.get_type_hints(method)
        names = [p for p in inspect.signature(method).parameters][1:]
        decoded = []
        for value, name in zip(action.args, names, strict=False):
            if hints.get(name) is MarketParams:
                decoded.append(self._decode_params(value))
            else:
                decoded.append(self.decode(value))
        return tuple(decoded)

    def _decode_params(self, value: Any) -> MarketParams:
        if isinstance(value, dict):
            return MarketParams(**{name: self.decode(item) for name, item in value.items()})
        return MarketParams(*self.decode(value))


def _decimal_strings(value: Any) -> Any:
    """Python data with every integer as a decimal string (booleans kept)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {key: _decimal_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimal_strings(item) for item in value]
    raise TypeError(f"cannot write {value!r} into a vector")


# ---------------------------------------------------------------------------------------------
# Pretty, deterministic JSON
# ---------------------------------------------------------------------------------------------

_WIDTH = 120


def _flat(value: dict[str, Any] | list[Any]) -> bool:
    """Scalars, lists of scalars and records of those (an event): written on one line if it fits."""
    children = value.values() if isinstance(value, dict) else value
    return all(
        not isinstance(child, (dict, list))
        or (isinstance(child, list) and all(not isinstance(c, (dict, list)) for c in child))
        for child in children
    )


def _render(value: Any, column: int, depth: int) -> str:
    inline = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or (_flat(value) and column + len(inline) <= _WIDTH):
        return inline
    inner = "  " * (depth + 1)
    if isinstance(value, list):
        lines = [inner + _render(item, len(inner), depth + 1) for item in value]
    else:
        lines = []
        for key, item in value.items():
            head = f"{inner}{json.dumps(key, ensure_ascii=False)}: "
            lines.append(head + _render(item, len(head), depth + 1))
    opening, closing = ("[", "]") if isinstance(value, list) else ("{", "}")
    return opening + "\n" + ",\n".join(lines) + "\n" + "  " * depth + closing


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------


def _ledger_symbols(ledger: Ledger, actor_names: Sequence[str] | None) -> tuple[list[str], Symbols]:
    names = list(actor_names) if actor_names is not None else [f"actor{i}" for i in range(len(ledger.actors))]
    if len(names) != len(ledger.actors):
        raise ValueError(f"{len(names)} actor names for {len(ledger.actors)} actors")
    if not ledger.actors or ledger.actors[0].lower() != ledger.deployment.deployer.lower():
        raise ValueError("a vector's first actor deploys the system: ledger.actors[0] must be the deployer")
    symbols = Symbols(
        ledger.deployment.timestamp,
        dict(zip(names, ledger.actors, strict=True)),
        ledger.deployment.addresses.by_name(),
    )
    return names, symbols


def _recorded_action(ledger: Ledger, symbols: Symbols, action: Action, outcome: Outcome | None) -> VectorAction:
    sender = symbols.encode(action.sender)
    if not sender.startswith("@"):
        raise ValueError(f"{action}: the sender is not one of the ledger's actors")
    return VectorAction(
        at=action.timestamp - symbols.genesis,
        sender=sender[1:],
        contract=action.contract,
        function=action.function,
        args=symbols.encode_args(ledger.system, action),
        expect=None if outcome is None else symbols.encode_outcome(outcome, action.function),
    )


def vector_from_ledger(ledger: Ledger, description: str, actor_names: Sequence[str] | None = None) -> Vector:
    """The ledger's history so far as a vector, every outcome and the final state recorded.
    Actors are named `actor_names` (default actor0, actor1, …); actor 0 must be the deployer."""
    names, symbols = _ledger_symbols(ledger, actor_names)
    return Vector(
        format=FORMAT,
        description=description,
        config=ledger.system.config,
        actors=names,
        actions=[_recorded_action(ledger, symbols, action, outcome) for action, outcome in ledger.history],
        final_state=symbols.encode_state(ledger.model_state()),
    )


def save_regression(
    ledger: Ledger,
    directory: str | Path,
    description: str,
    failing: Action | None = None,
    actor_names: Sequence[str] | None = None,
) -> Path:
    """Writes the ledger's history so far as `<directory>/regression-<hash>.json` (a short hash
    of the content) and returns the path. Call it on the first failing sequence, before the fix.

    `Ledger.act` adds an action to `history` only once both sides agreed, so pass the action
    that failed as `failing` (e.g. `Action(sender, contract, function, args, ledger.now)`): it
    is appended without an outcome. No final state is recorded (the sides disagreed); replay
    with `--record` once the bug is fixed to fill it in."""
    names, symbols = _ledger_symbols(ledger, actor_names)
    actions = [_recorded_action(ledger, symbols, action, outcome) for action, outcome in ledger.history]
    if failing is not None:
        actions.append(_recorded_action(ledger, symbols, failing, None))
    vector = Vector(format=FORMAT, description=description, config=ledger.system.config, actors=names, actions=actions)
    text = vector.dumps()
    path = Path(directory) / f"regression-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    return vector.dump(path)


# ---------------------------------------------------------------------------------------------
# Replay
# ---------------------------------------------------------------------------------------------


class Difference(BaseModel):
    """The first place a replay differs.

    A recorded value that differs: `expected` is the recorded value, `actual` what the model
    and the chain (which agreed) did; `path` starts with `expect` or `final_state`. The model
    and the chain disagreeing: `expected` is the model's, `actual` the chain's, and `path`
    starts with `parity.outcome`, `parity.state` or `parity.invariant`."""

    action_index: int | None = Field(description="the action; null for the final state or the deployment")
    path: str
    expected: Any
    actual: Any
    message: str


class ReplaySide(BaseModel):
    """One side's results: every action's outcome and the state after the last one run."""

    outcomes: list[RecordedOutcome]
    final_state: dict[str, Any] | None


class ReplayResult(BaseModel):
    ok: bool
    genesis: int
    actions_run: int
    first_difference: Difference | None
    model: ReplaySide
    chain: ReplaySide
    recorded: Vector | None = Field(default=None, exclude=True)  # with record=True

    def summary(self, vector: Vector) -> str:
        """One line for an exact match, else where and what the first difference is."""
        if self.first_difference is None:
            recorded = sum(1 for action in vector.actions if action.expect is not None)
            state = " and the final state" if vector.final_state is not None else ""
            return (
                f"exact match: model = chain on all {len(vector.actions)} actions; "
                f"{recorded} recorded outcomes{state} agree"
            )
        d = self.first_difference
        where = "the final state" if d.action_index is None else f"action {d.action_index}"
        if d.action_index is not None and d.action_index < len(vector.actions):
            a = vector.actions[d.action_index]
            where += f" ({a.contract}.{a.function} from {a.sender} at t+{a.at})"
        if d.path.startswith("parity"):
            return f"model != chain at {where}: {d.path}\n  model: {d.expected!r}\n  chain: {d.actual!r}"
        return f"mismatch at {where}: {d.path}\n  recorded: {d.expected!r}\n  replayed: {d.actual!r}"

    def to_json_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def dumps(self) -> str:
        """Both sides' results as pretty JSON (what `ape run replay --json` writes)."""
        return _render(self.to_json_data(), 0, 0) + "\n"


def _path_join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _first_difference(expected: Any, actual: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first differing leaf of two JSON values: (path, expected, actual)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if ("error" in expected) != ("error" in actual):  # an outcome: revert vs success
            return path, expected, actual
        for key in [*expected, *(k for k in actual if k not in expected)]:
            found = _first_difference(expected.get(key, ABSENT), actual.get(key, ABSENT), _path_join(path, key))
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for i in range(max(len(expected), len(actual))):
            a = expected[i] if i < len(expected) else ABSENT
            b = actual[i] if i < len(actual) else ABSENT
            found = _first_difference(a, b, _path_join(path, i))
            if found:
                return found
        return None
    return None if expected == actual else (path, expected, actual)


def _difference(index: int | None, found: tuple[str, Any, Any], message: str) -> Difference:
    path, expected, actual = found
    return Difference(action_index=index, path=path, expected=expected, actual=actual, message=message)


def replay(
    vector: Vector,
    project: Any,
    accounts: Sequence[Any],
    rpc: RpcClient,
    registry: AbiRegistry,
    record: bool = False,
    *,
    genesis: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Deploys `vector.config` fresh (at `genesis`, default `genesis_time(rpc)`) with actor i as
    `accounts[i]`, runs every action through `Ledger.act` (model ⇄ chain parity at each step)
    and compares the recorded outcomes and final state, when present, with what happened.

    Stops at the first parity failure. With `record`, `result.recorded` is the vector with
    every outcome and the final state recorded (None after a parity failure). `progress` is
    called with (actions done, total) after each action."""
    if len(vector.actors) > len(accounts):
        raise ValueError(f"the vector has {len(vector.actors)} actors but only {len(accounts)} accounts are funded")
    genesis = genesis_time(rpc) if genesis is None else genesis
    addresses = [account.address for account in accounts[: len(vector.actors)]]
    empty = ReplaySide(outcomes=[], final_state=None)
    try:
        ledger = Ledger.deploy(project, accounts[0], addresses, vector.config, rpc, registry, genesis)
    except ParityError as error:
        first = Difference(action_index=None, path="parity.deployment", expected=None, actual=None, message=str(error))
        return ReplayResult(ok=False, genesis=genesis, actions_run=0, first_difference=first, model=empty, chain=empty)
    symbols = Symbols(genesis, dict(zip(vector.actors, addresses, strict=True)), ledger.deployment.addresses.by_name())

    # Ledger.act raises on a parity failure before returning the model's outcome: keep it here.
    last_model: list[Outcome] = []
    execute = ledger.system.execute

    def execute_and_keep(*args: Any) -> Outcome:
        last_model[:] = [execute(*args)]
        return last_model[0]

    ledger.system.execute = execute_and_keep  # type: ignore[method-assign]

    model_outcomes: list[RecordedOutcome] = []
    chain_outcomes: list[RecordedOutcome] = []
    first: Difference | None = None
    parity_failed = False
    for index, action in enumerate(vector.actions):
        ledger.advance(genesis + action.at - ledger.now)
        sender = symbols.actors[action.sender]
        try:
            ledger.act(sender, action.contract, action.function, *symbols.decode_args(ledger.system, action))
        except ParityError as error:
            parity_failed = True
            model = symbols.encode_outcome(last_model[0], action.function).to_json_data()
            chain = symbols.encode_outcome(ledger.last_chain, action.function).to_json_data()  # type: ignore[arg-type]
            model_outcomes.append(RecordedOutcome.model_validate(model))
            chain_outcomes.append(RecordedOutcome.model_validate(chain))
            found = _first_difference(model, chain, "parity.outcome") or _first_difference(
                symbols.encode_state(ledger.model_state()),
                symbols.encode_state(ledger.chain_state()),
                "parity.state",
            )
            first = _difference(index, found or ("parity.invariant", None, None), str(error))
            break
        outcome = symbols.encode_outcome(last_model[0], action.function)
        model_outcomes.append(outcome)
        chain_outcomes.append(symbols.encode_outcome(ledger.last_chain, action.function))  # type: ignore[arg-type]
        if first is None and action.expect is not None:
            found = _first_difference(action.expect.to_json_data(), outcome.to_json_data(), "expect")
            if found:
                first = _difference(index, found, f"action {index}: the recorded outcome differs at {found[0]}")
        if progress is not None:
            progress(index + 1, len(vector.actions))

    model_state = symbols.encode_state(ledger.model_state())
    chain_state = symbols.encode_state(ledger.chain_state())
    if first is None and vector.final_state is not None:
        found = _first_difference(vector.final_state, model_state, "final_state")
        if found:
            first = _difference(None, found, f"the recorded final state differs at {found[0]}")

    recorded = None
    if record and not parity_failed:
        actions = [a.model_copy(update={"expect": o}) for a, o in zip(vector.actions, model_outcomes, strict=True)]
        recorded = vector.model_copy(update={"actions": actions, "final_state": model_state})
    return ReplayResult(
        ok=first is None,
        genesis=genesis,
        actions_run=len(model_outcomes),
        first_difference=first,
        model=ReplaySide(outcomes=model_outcomes, final_state=model_state),
        chain=ReplaySide(outcomes=chain_outcomes, final_state=chain_state),
        recorded=recorded,
    )


if __name__ == "__main__":  # python -m difftest.vectors: regenerate docs/vector.schema.json
    SCHEMA_PATH.write_text(vector_json_schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
