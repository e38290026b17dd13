"""The model's tables read from the compiled ABIs, never typed by hand: the committed error
selector table is exactly what toolchain/abi_tables.py generates from the current artifacts, and
every error and event the engine's ABI declares has its model class with the same fields, in
order (so a new error or event, or a changed one, fails here rather than silently)."""

from __future__ import annotations

import importlib.util
import inspect
from dataclasses import fields
from pathlib import Path

from pymodel import errors, ownable
from pymodel.engine import types
from pymodel.system import snake_case

ROOT = Path(__file__).resolve().parents[2]
# Errors in the engine's ABI that the model never raises, each with its reason.
NOT_MODELLED = {
    # The model's tokens return true or revert: SafeERC20's return-value check cannot fail.
    "SafeERC20FailedOperation",
}


def _generator():
    spec = importlib.util.spec_from_file_location("abi_tables", ROOT / "toolchain" / "abi_tables.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_error_selectors__the_committed_table_is_the_generated_one(project):
    # `project`: the session compiled the contracts, so .build holds the current ABIs.
    generator = _generator()
    assert generator.TARGET.read_text() == generator.generated(), "run .venv/bin/python toolchain/abi_tables.py"


def test_engine_types__every_abi_error_and_event_has_its_model_class(project):
    abi = project.PerpEngine.contract_type.model_dump(by_alias=True)["abi"]
    for item in abi:
        if item["type"] not in ("error", "event") or item["name"] in NOT_MODELLED:
            continue
        # The engine's own, the shared ones (pymodel.errors), OpenZeppelin Ownable's.
        found = [getattr(module, item["name"], None) for module in (types, errors, ownable)]
        cls = next((c for c in found if inspect.isclass(c)), None)
        assert cls is not None, f"no model class for {item['type']} {item['name']}"
        assert [f.name for f in fields(cls)] == [snake_case(p["name"]) for p in item["inputs"]], item["name"]
