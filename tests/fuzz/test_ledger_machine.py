"""Stateful differential fuzzing of the whole ledger (difftest/machine.py).

Examples and steps per example come from the Hypothesis profile (difftest/profiles.py), split
over shards (one test each, so pytest-xdist runs them on both cores): `ci` runs 1,000 sequences
of 30 steps in 4 shards, `deep` (`make fuzz-deep`) 5,000 in 2, or as many as `FUZZ_MINUTES` allows.
With a progress report (`deep`, or FUZZ_PROGRESS=1) each shard prints a line every 10 s and a
summary at the end, and writes it to FUZZ_REPORT_DIR for `python -m difftest.fuzz_report`.
Campaigns beyond this process (many shards, a Dask cluster, a record): `ape run fuzz`
(difftest/campaign.py, tests/fuzz/test_campaign.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from difftest.ledger import Ledger, genesis_time
from difftest.machine import FuzzWorld, LedgerMachine
from difftest.profiles import FUZZ_MINUTES, PROFILE, STATEFUL
from difftest.snapshots import ChainSnapshot

REGRESSIONS = Path(__file__).resolve().parent.parent / "vectors" / "regressions"
PROGRESS = PROFILE == "deep" or bool(os.environ.get("FUZZ_PROGRESS"))
REACHED = ("Liquidated", "BadDebtSettled", "Slashed", "AutoDeleveraged", "ProfitHaircut")
# With a time budget, sequences run in chunks of this many, the budget checked between chunks.
CHUNK = 25


class ProgressWorld(FuzzWorld):
    """The fuzz world, reporting how far it got while it runs."""

    def __init__(self, shard: int, *args: Any) -> None:
        super().__init__(*args)
        self.shard = shard
        self.started = time.monotonic()
        self.last_report = self.started

    def fresh_ledger(self) -> Ledger:
        if PROGRESS and time.monotonic() - self.last_report >= 10:
            self.last_report = time.monotonic()
            print(f"[shard {self.shard}] {self.progress()}", flush=True)
        return super().fresh_ledger()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def reached(self) -> dict[str, int]:
        return {event: self.outcomes[f"event {event}"] for event in REACHED}

    def progress(self) -> str:
        elapsed = self.elapsed()
        reached = ", ".join(f"{event} {count}" for event, count in self.reached().items())
        return (
            f"{self.examples} sequences, {self.steps} transactions, {self.steps / max(elapsed, 1e-9):,.0f} tx/s, "
            f"{elapsed / 60:.1f} min; reached: {reached}"
        )


def shard_examples(shard: int) -> int:
    share, extra = divmod(STATEFUL.examples, STATEFUL.shards)
    return share + (1 if shard < extra else 0)


@pytest.mark.parametrize("shard", range(STATEFUL.shards), ids=lambda shard: f"shard_{shard}")
def test_ledger_state_machine__model_equals_chain(project, accounts, rpc, registry, shard):
    if PROGRESS:
        from ape.logging import LogLevel, logger

        logger.set_level(LogLevel.WARNING)  # no deployment logs between the progress lines
    examples = shard_examples(shard)
    deadline = None if FUZZ_MINUTES is None else time.monotonic() + FUZZ_MINUTES * 60
    snapshot = ChainSnapshot(rpc)
    world = ProgressWorld(shard, project, accounts, rpc, registry, genesis_time(rpc), str(REGRESSIONS))
    LedgerMachine.world = world
    done = 0
    try:
        while done < examples and (deadline is None or time.monotonic() < deadline):
            chunk = examples - done if deadline is None else min(CHUNK, examples - done)
            run_state_machine_as_test(
                LedgerMachine, settings=settings(max_examples=chunk, stateful_step_count=STATEFUL.steps)
            )
            done += chunk
    finally:
        snapshot.restore(retake=False)
    print(f"\n[shard {shard}] stateful fuzzing: {world.summary()}")
    print(f"[shard {shard}] {world.progress()}")
    print(sorted(world.outcomes.items(), key=lambda kv: -kv[1]))
    if report_dir := os.environ.get("FUZZ_REPORT_DIR"):
        report = {
            "shard": shard,
            "sequences": world.examples,
            "transactions": world.steps,
            "seconds": world.elapsed(),
            "reached": world.reached(),
            "summary": world.summary(),
        }
        (Path(report_dir) / f"shard-{shard}.json").write_text(json.dumps(report))
    assert world.examples >= done
    # Every kind of outcome the waterfall can produce was reached, not only reverts (a budget
    # spent before a hundred sequences may not have got there).
    if deadline is None or done >= 100:
        assert world.outcomes["event Liquidated"] and world.outcomes["event BadDebtSettled"]
