"""The library functions under differential test: model mirror, input strategy, edge cases.

Each entry pairs a MathHarness function (by its Solidity name) with its pymodel
mirror and a strategy for its arguments; an outcome is ("ok", value) or
("revert", error name, args), so a revert matches only with the same error and args.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from chainio import ChainRevert
from difftest import strategies as s
from pymodel import evm, fixed_point, signed_math, units
from pymodel.errors import Revert
from pymodel.evm import INT256_MIN, UINT256_MAX

# Solidity function name -> (model mirror, argument strategy)
FUNCTIONS: dict[str, tuple[Callable[..., int], st.SearchStrategy[tuple[Any, ...]]]] = {
    "mulDivDown": (fixed_point.mul_div_down, s.mul_div_args()),
    "mulDivUp": (fixed_point.mul_div_up, s.mul_div_args()),
    "mulWadDown": (fixed_point.mul_wad_down, st.tuples(s.uint256(), s.uint256())),
    "mulWadUp": (fixed_point.mul_wad_up, st.tuples(s.uint256(), s.uint256())),
    "divWadDown": (fixed_point.div_wad_down, st.tuples(s.uint256(), st.one_of(st.just(0), s.uint256()))),
    "divWadUp": (fixed_point.div_wad_up, st.tuples(s.uint256(), st.one_of(st.just(0), s.uint256()))),
    "abs": (signed_math.abs_, st.tuples(s.int256())),
    "negate": (signed_math.negate, st.tuples(s.uint256())),
    "mulDivTowardZero": (signed_math.mul_div_toward_zero, s.signed_mul_div_args()),
    "mulDivFloor": (signed_math.mul_div_floor, s.signed_mul_div_args()),
    "mulDivCeil": (signed_math.mul_div_ceil, s.signed_mul_div_args()),
    "divTowardZero": (
        signed_math.div_toward_zero,
        st.tuples(s.int256(), st.one_of(st.sampled_from([0, -1]), s.int256())),
    ),
    "divFloor": (signed_math.div_floor, st.tuples(s.int256(), st.one_of(st.sampled_from([0, -1]), s.int256()))),
    "toUint256": (evm.to_uint256, st.tuples(s.int256())),
    "toInt256": (evm.to_int256, st.tuples(s.uint256())),
    "toUint128": (evm.to_uint128, st.tuples(s.uint256())),
    "toInt128": (evm.to_int128, st.tuples(s.int256())),
    "notionalScale": (units.notional_scale, st.tuples(s.collateral_decimals())),
    "notionalDown": (units.notional_down, st.tuples(s.size_wad(), s.price_wad(), s.notional_scale())),
    "notionalUp": (units.notional_up, st.tuples(s.size_wad(), s.price_wad(), s.notional_scale())),
    "fundingCeil": (units.funding_ceil, st.tuples(s.size_wad(), s.int256(), s.notional_scale())),
    "pnlFloor": (units.pnl_floor, st.tuples(s.size_wad(), s.price_wad(), s.price_wad(), s.notional_scale())),
}


def outcome_of_model(fn: Callable[..., int], args: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args))
    except Revert as revert:
        return ("revert", *revert.signature())


def outcome_of_chain(harness: Any, name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        return ("ok", harness.call(name, *args))
    except ChainRevert as revert:
        return ("revert", *revert.signature())


# Hand-picked cases every run checks, whatever Hypothesis draws.
EDGE_CASES: dict[str, list[tuple[Any, ...]]] = {
    "mulDivDown": [(0, 0, 0), (UINT256_MAX, UINT256_MAX, UINT256_MAX), (UINT256_MAX, 2, 1), (7, 3, 2)],
    "mulDivUp": [(UINT256_MAX, UINT256_MAX, UINT256_MAX - 1), (UINT256_MAX, 1, 1), (7, 3, 2), (6, 1, 3)],
    "mulDivFloor": [(-7, 3, 2), (INT256_MIN, 1, 1), (INT256_MIN, 1, 2), (-1, 1, 2), (-(2**254), 2, 1)],
    "mulDivTowardZero": [(-7, 3, 2), (INT256_MIN, 1, 1), (-1, 1, 2)],
    "divTowardZero": [(INT256_MIN, -1), (-7, 2), (7, -2), (5, 0)],
    "divFloor": [(INT256_MIN, -1), (-7, 2), (7, -2), (-8, 2), (5, 0)],
    "negate": [(2**255,), (2**255 + 1,), (0,)],
    "notionalScale": [(6,), (18,), (19,)],
    "pnlFloor": [
        (10**18, 100 * 10**18, 99 * 10**18, 10**30),
        (-(10**18), 3, 2, 10**30),
        (INT256_MIN, 1, 0, 1),
        # Found by Hypothesis: both casts overflow; the price's must be the one reported.
        (0, 2**255, UINT256_MAX, 0),
    ],
}
