"""Model ⇄ chain parity for every library function in contracts/libraries.

Each function gets its own Hypothesis test: the same inputs run through the
pymodel mirror and through MathHarness on Anvil; the results must be identical,
or both sides must revert with the same error (panic code or custom error and args).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from difftest.math_cases import EDGE_CASES, FUNCTIONS, outcome_of_chain, outcome_of_model


def test_every_library_function_has_a_parity_test(math_harness):
    exposed = {name for name in math_harness.codec._functions if "(" not in name}
    assert exposed == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@given(data=st.data())
@example(data=None)  # the edge cases below, always run
def test_library_function__model_equals_chain(math_harness, name, data):
    model_fn, strategy = FUNCTIONS[name]
    args = data.draw(strategy, label="args") if data is not None else None
    cases = [args] if args is not None else EDGE_CASES.get(name, [])
    for case in cases:
        assert outcome_of_model(model_fn, case) == outcome_of_chain(math_harness, name, case), case
