"""Named incident presets, one YAML file each in this folder (docs/SIMULATOR.md lists each one's
sources and fitted assumptions). A file holds its `name`, `title`, `source`, `assumptions`, the
simulated `market` (`symbol`, `price` and any `pymodel.config.default_market` field) and the
SimConfig fields it sets (`overrides`). A new preset is a new file: nothing else to register.

This module reads data only; it imports no other simulator module (`simulator.config` imports
it to validate `preset:` names).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pymodel.config import default_config, default_market

FOLDER = Path(__file__).resolve().parent
KEYS = {"name", "title", "source", "assumptions", "market", "overrides"}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str  # where the figures come from (RESEARCH.md row and the public record)
    assumptions: str  # what was fitted, labelled as such
    overrides: dict[str, Any] = field(default_factory=dict)


class PresetFileError(ValueError):
    """A preset file that cannot be read: names the file and the rule."""


def market_system(symbol: str, price: float, **market: Any) -> dict[str, Any]:
    """The `system` of a one-market preset: the default protocol with market 1 `symbol` at `price`."""
    return default_config(markets=[default_market(1, symbol, max(1, int(price)), 6, **market)]).model_dump()


def read_preset(path: Path) -> Preset:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) != KEYS:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise PresetFileError(f"preset file {path}: needs exactly the keys {sorted(KEYS)}, got {got}")
    if data["name"] != path.stem:
        raise PresetFileError(f"preset file {path}: name {data['name']!r} differs from the file name")
    market = dict(data["market"])
    overrides = dict(system=market_system(market.pop("symbol"), market.pop("price"), **market)) | data["overrides"]
    return Preset(data["name"], data["title"], data["source"], data["assumptions"], overrides)


def load_presets(folder: Path = FOLDER) -> dict[str, Preset]:
    """Every `*.yaml` preset of `folder`, by name (sorted)."""
    return {preset.name: preset for preset in (read_preset(p) for p in sorted(folder.glob("*.yaml")))}


PRESETS: dict[str, Preset] = load_presets()


def check_preset(name: Any) -> None:
    if name not in PRESETS:
        raise ValueError(f"preset {name!r} does not exist; known presets: {sorted(PRESETS)}")


def preset_overrides(name: str) -> dict[str, Any]:
    """What a preset sets on top of SimConfig's defaults (a deep copy)."""
    check_preset(name)
    return copy.deepcopy(PRESETS[name].overrides)


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`; nested dicts merge, anything else (lists included) replaces."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
