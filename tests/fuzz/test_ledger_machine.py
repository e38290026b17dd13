"""Stateful differential fuzzing of the whole ledger (difftest/machine.py).

Examples and steps per example come from the Hypothesis profile (difftest/profiles.py):
`ci` runs 300 sequences of 30 steps, `deep` (`make fuzz-deep`) 5,000.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from difftest.ledger import genesis_time
from difftest.machine import FuzzWorld, LedgerMachine
from difftest.profiles import STATEFUL

REGRESSIONS = Path(__file__).resolve().parent.parent / "vectors" / "regressions"


def test_ledger_state_machine__model_equals_chain(project, accounts, rpc, registry):
    snapshot = rpc.request("evm_snapshot")
    world = FuzzWorld(project, accounts, rpc, registry, genesis_time(rpc), str(REGRESSIONS))
    LedgerMachine.world = world
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(max_examples=STATEFUL.examples, stateful_step_count=STATEFUL.steps),
        )
    finally:
        rpc.request("evm_revert", [snapshot])
    print(f"\nstateful fuzzing: {world.summary()}")
    print(sorted(world.outcomes.items(), key=lambda kv: -kv[1]))
    assert world.examples >= STATEFUL.examples
    # Every kind of outcome the waterfall can produce was reached, not only reverts.
    assert world.outcomes["event Liquidated"] and world.outcomes["event BadDebtSettled"]
