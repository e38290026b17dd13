"""The engine is one address running three code halves (`PerpEngine`, and `LiquidationModule` and
`AdlModule` by DELEGATECALL): they must agree on every storage slot. The compiler's own storage
layouts (solc `storageLayout`) are compared, and every state variable must be declared in
`EngineStorage` (or OpenZeppelin's `Ownable` below it): each half's layout is `EngineStorage`'s."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SOLC = ROOT / ".toolchain" / "solc" / "solc-v0.8.28"
ENGINE = ("PerpEngine", "LiquidationModule", "AdlModule")
FILES = ("EngineStorage", *ENGINE)


def _layouts() -> dict[str, dict[str, Any]]:
    """solc's storageLayout of each engine half (no code generation: analysis only)."""
    remappings = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]["import_remapping"]
    request = {
        "language": "Solidity",
        "sources": {f"contracts/engine/{name}.sol": {"urls": [f"contracts/engine/{name}.sol"]} for name in FILES},
        "settings": {
            "remappings": remappings,
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["storageLayout"]}},
        },
    }
    done = subprocess.run(
        [str(SOLC), "--standard-json", "--base-path", ".", "--include-path", "node_modules", "--allow-paths", "."],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    return {name: output["contracts"][f"contracts/engine/{name}.sol"][name]["storageLayout"] for name in FILES}


def _slots(layout: dict[str, Any]) -> list[tuple[str, int, int, str, str]]:
    """(label, slot, offset, type, bytes) of every variable, the type spelled out."""
    types = layout["types"] or {}
    return [
        (
            item["label"],
            int(item["slot"]),
            item["offset"],
            types[item["type"]]["label"],
            types[item["type"]]["numberOfBytes"],
        )
        for item in layout["storage"]
    ]


def test_engine_halves__one_storage_layout():
    layouts = _layouts()
    storage = _slots(layouts["EngineStorage"])
    assert [label for label, *_ in storage][:3] == ["_owner", "guardian", "orderRouter"]
    # Declared in one place: no half adds, drops or moves a state variable.
    for name in ENGINE:
        assert _slots(layouts[name]) == storage, f"{name}'s storage layout differs from EngineStorage's"
