"""The model mirrors the contracts file for file (docs/DESIGN.md, "Map"): every contract or library
under contracts/ with behaviour (not an interface, not a test mock) has its model module of the
snake_case name somewhere under pymodel/, holding a class of the same name (a library: module
functions); every external or public function and public variable declared in the file has its
model twin of the snake_case name, and every public model method has its function on chain. For
the engine's files the functions also come in the same order (a reader goes from one to the other
in one hop). The exceptions are declared below, each with its reason."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from pymodel.config import default_config
from pymodel.system import Addresses, System, snake_case

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
PYMODEL = ROOT / "pymodel"

# Contract -> model module where the names differ (older modules, imported everywhere).
MODULE_NAMES = {"FixedPointMath": "fixed_point"}
# Solidity names whose model twin is spelled differently.
RENAMED = {"abs": "abs_"}
# Declared on chain, deliberately absent from the model: the addresses of the contracts the engine
# creates in its constructor (the model is one object and has no such addresses).
CHAIN_ONLY = {
    "EngineStorage": {"marketParamsValidator", "_scale"},  # _scale: one jump to the immutable (code size)
    # _requireValid: one shared revert site (code size; the model raises in place); _delegate and
    # _delegateView: the DELEGATECALL into the modules, whose mirrors the model's engine inherits.
    "PerpEngine": {"liquidationModule", "adlModule", "_requireValid", "_delegate", "_delegateView"},
    "MarketParamsValidator": {"_requireValid"},
}
# Public model methods with no function on chain: helpers the model's callers use.
MODEL_ONLY: dict[str, set[str]] = {
    # ERC-4626 conversions the model's callers read (on chain: OpenZeppelin's, not declared in LPPool.sol).
    "LPPool": {"convert_to_shares", "convert_to_assets"},
    # The router's token balance as the model computes it (on chain: the token's balanceOf).
    "OrderRouter": {"escrowed"},
}
# Files whose functions must come in the same order on both sides.
ORDERED = {"engine", "libraries/Funding"}
# Which model object holds a contract's public variables (built once below).
INSTANCE = {
    "EngineStorage": "engine",
    "PerpEngine": "engine",
    "LiquidationModule": "engine",
    "AdlModule": "engine",
    "MarketAccounting": "engine",
    "PositionMath": "engine",
    "LPPool": "pool",
    "InsuranceFund": "insuranceFund",
    "SafetyModule": "safetyModule",
    "OracleAdapter": "oracle",
    "OrderRouter": "orderRouter",
    "EngineGated": "pool",
}

_FUNCTION = re.compile(r"^\s*function (\w+)\s*\(([^)]*)\)([^{;]*)", re.M)
_PUBLIC_VARIABLE = re.compile(
    r"^    [\w.\[\]]+(?:\s*\([^;]*?\))?\s+public\s+(?:immutable\s+|constant\s+)?(\w+)\s*[;=]", re.M
)
_MAPPING_VARIABLE = re.compile(r"^    mapping\(.*\)\s+public\s+(\w+)\s*;", re.M)


def _sources() -> list[Path]:
    # governance/: OpenZeppelin's TimelockController as it is (no rule of ours; the model hands
    # owners to its address, chainio.history).
    return sorted(p for p in CONTRACTS.rglob("*.sol") if p.parent.name not in ("interfaces", "mocks", "governance"))


def _kind_and_name(text: str) -> tuple[str, str]:
    found = re.search(r"^(abstract contract|contract|library) (\w+)", text, re.M)
    assert found, "no contract or library"
    return found.group(1), found.group(2)


def _declared(text: str, kind: str, internal: bool) -> list[str]:
    """Functions declared in the file (a library's all; a contract's external and public ones, and
    its internal ones too when `internal`) and public variables, in source order."""
    names: list[tuple[int, str]] = []
    for m in _FUNCTION.finditer(text):
        visible = kind == "library" or re.search(r"\b(external|public)\b", m.group(3))
        if "private" in m.group(3) or not (visible or internal):
            continue
        names.append((m.start(), m.group(1)))
    if kind != "library":
        names += [(m.start(), m.group(1)) for m in _PUBLIC_VARIABLE.finditer(text)]
        names += [(m.start(), m.group(1)) for m in _MAPPING_VARIABLE.finditer(text)]
    return [name for _, name in sorted(names)]


def _stem(contract: str) -> str:
    """`LPPool` -> `lp_pool`, `PerpEngine` -> `perp_engine`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", contract).lower()


def _twin(name: str) -> str:
    return RENAMED.get(name, snake_case(name.lstrip("_")) if not name.startswith("_") else "_" + snake_case(name[1:]))


def _module_for(contract: str):
    stem = MODULE_NAMES.get(contract, _stem(contract))
    found = sorted(PYMODEL.rglob(f"{stem}.py"))
    assert len(found) == 1, f"{contract}: expected one pymodel/**/{stem}.py, found {found}"
    dotted = ".".join(found[0].relative_to(ROOT).with_suffix("").parts)
    return importlib.import_module(dotted)


@pytest.fixture(scope="module")
def instances() -> Any:
    config = default_config()
    return System(config, Addresses.numbered(config, 0x1000), "0x" + "d" * 40, 1_700_000_000).c


SOURCES = _sources()


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(CONTRACTS)) for p in SOURCES])
def test_mirror__every_contract_file_has_its_model_twin(path: Path, instances: Any):
    text = path.read_text()
    kind, name = _kind_and_name(text)
    module = _module_for(name)
    rel = str(path.relative_to(CONTRACTS).with_suffix(""))
    ordered = any(rel.startswith(prefix) for prefix in ORDERED)
    declared = [n for n in _declared(text, kind, ordered) if n not in CHAIN_ONLY.get(name, set())]
    # A public constant is a module constant of the same name.
    declared = [n for n in declared if not (n.isupper() and hasattr(module, n))]
    if kind == "library":
        ours = {n: getattr(module, _twin(n), None) for n in declared}
        missing = [n for n, f in ours.items() if f is None]
        assert not missing, f"{name}: no model function for {missing} in {module.__name__}"
        model_public = [
            f
            for f, v in vars(module).items()
            if inspect.isfunction(v) and v.__module__ == module.__name__ and not f.startswith("_")
        ]
        order_model = [f for f, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module.__name__]
    else:
        cls = getattr(module, name, None)
        assert cls is not None, f"{name}: no class {name} in {module.__name__}"
        holder = getattr(
            instances,
            {"insuranceFund": "insurance_fund", "safetyModule": "safety_module", "orderRouter": "order_router"}.get(
                INSTANCE.get(name, ""), INSTANCE.get(name, "")
            ),
            None,
        )
        missing = [
            n for n in declared if _twin(n) not in vars(cls) and not (holder is not None and hasattr(holder, _twin(n)))
        ]
        assert not missing, f"{name}: no model method or attribute for {missing} in {module.__name__}.{name}"
        model_public = [f for f, v in vars(cls).items() if inspect.isfunction(v) and not f.startswith("_")]
        order_model = [f for f, v in vars(cls).items() if inspect.isfunction(v) or isinstance(v, staticmethod)]
    twins = {_twin(n) for n in declared} | MODEL_ONLY.get(name, set())
    extra = [f for f in model_public if f not in twins]
    assert not extra, f"{name}: model methods {extra} have no function in {path.name}"
    if ordered:
        chain_order = [_twin(n) for n in declared if _twin(n) in order_model]
        model_order = [f for f in order_model if f in set(chain_order)]
        assert model_order == chain_order, f"{name}: functions in another order than {path.name}"
