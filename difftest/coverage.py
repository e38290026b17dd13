"""The coverage counters of a fuzz campaign, read from the fuzz world's outcome counter.

`LedgerMachine.act` (difftest/machine.py) counts every action's outcome in `FuzzWorld.outcomes`:
`"<function> ok"`, `"<function> <Error>"`, `"event <Name>"` once per action that emitted it, and
`"<function> cancelled <Reason>"` for an order the engine refused. A counter here is a rule over
those keys, so rules added to the machine feed them without touching this file, and a new
counter is one more entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# counter -> which outcome keys it sums
COUNTERS: dict[str, Callable[[str], bool]] = {
    "liquidations": lambda key: key == "event Liquidated",
    "bad_debt_settlements": lambda key: key == "event BadDebtSettled",
    "slashes": lambda key: key == "event Slashed",
    "adl_steps": lambda key: key == "event AutoDeleveraged",
    "haircuts": lambda key: key == "event ProfitHaircut",
    # An order whose fill the engine refused (the router cancels it with the engine's error).
    "refused_fills": lambda key: key.startswith("executeOrder cancelled "),
    "bound_refreshes": lambda key: key == "refreshBankruptcyBound ok",
}


def coverage(outcomes: Mapping[str, int]) -> dict[str, int]:
    """Each counter's count over `outcomes` (a FuzzWorld's, or several added up)."""
    return {name: sum(n for key, n in outcomes.items() if rule(key)) for name, rule in COUNTERS.items()}
