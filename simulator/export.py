"""Outputs of a run: the summary as JSON, per-path values and a tier-1 ledger as CSV, and any
tier-1 path as a golden vector (`perp-backstop/vector/1`) that `ape run replay` replays on
Anvil with model ⇄ chain parity at every action."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from difftest.ledger import Action
from difftest.vectors import FORMAT, Symbols, Vector, VectorAction
from pymodel.system import System
from simulator.config import SimConfig
from simulator.exact import GENESIS, ExactResult, LiquidationRow, placeholder_addresses
from simulator.vectorised import ChunkResult


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def write_paths_csv(path: Path, result: ChunkResult) -> Path:
    """One row per path: every per-path value of tier 2 (USD, probabilities as 0/1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(result.values)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", *names])
        for i in range(len(result.values[names[0]])):
            writer.writerow([i, *(f"{result.values[n][i]:.6f}" for n in names)])
    return path


def write_ledger_csv(path: Path, result: ExactResult) -> Path:
    """Tier 1's event ledger of one path: every liquidation, integers in on-chain units."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(LiquidationRow)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in result.liquidations:
            writer.writerow([asdict(row)[n] for n in names])
    return path


def path_vector(config: SimConfig, result: ExactResult, description: str) -> Vector:
    """The path's every action, with its recorded outcome, as a golden vector. Actor i replays
    as the chain's test account i: owner, lp, backer, staker, keeper, then the traders."""
    addresses = placeholder_addresses(config)
    symbols = Symbols(GENESIS, dict(result.actors), addresses.by_name())
    system = System(config.protocol(), addresses, result.actors["owner"], GENESIS)
    actions = []
    for recorded in result.actions:
        action = Action(result.actors[recorded.sender], recorded.contract, recorded.function, recorded.args, 0)
        actions.append(
            VectorAction(
                at=recorded.at,
                sender=recorded.sender,
                contract=recorded.contract,
                function=recorded.function,
                args=symbols.encode_args(system, action),
                expect=symbols.encode_outcome(recorded.outcome, recorded.function),
            )
        )
    return Vector(
        format=FORMAT, description=description, config=config.protocol(), actors=list(result.actors), actions=actions
    )


def bad_debt_events(result: ExactResult) -> list[list[str]]:
    """The path's BadDebtSettled events as a vector writes them (for comparing with a replay)."""
    symbols = Symbols(GENESIS, dict(result.actors), {})
    found = []
    for recorded in result.actions:
        for event in recorded.outcome.events:
            if event.name == "BadDebtSettled":
                found.append(symbols.encode(list(event.values)))
    return found
