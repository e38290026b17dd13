"""Hypothesis strategies biased to the edges where integer code breaks.

They build valid inputs directly (no filtering): boundary constants, values
one off a boundary, exact multiples and off-by-one remainders around a divisor.
"""

from __future__ import annotations

from hypothesis import strategies as st

from pymodel.evm import INT128_MAX, INT128_MIN, INT256_MAX, INT256_MIN, UINT128_MAX, UINT256_MAX
from pymodel.fixed_point import WAD

_UINT_EDGES = [
    0,
    1,
    2,
    3,
    10**6,
    10**18 - 1,
    WAD,
    WAD + 1,
    10**36,
    UINT128_MAX,
    UINT128_MAX + 1,
    INT256_MAX,
    INT256_MAX + 1,
    UINT256_MAX - 1,
    UINT256_MAX,
]
_INT_EDGES = [
    0,
    1,
    -1,
    2,
    -2,
    WAD,
    -WAD,
    INT128_MAX,
    INT128_MAX + 1,
    INT128_MIN,
    INT128_MIN - 1,
    INT256_MAX,
    INT256_MAX - 1,
    INT256_MIN,
    INT256_MIN + 1,
]


def uint256() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from(_UINT_EDGES),
        st.integers(0, 2**64),
        st.integers(0, 2**128),
        st.integers(0, UINT256_MAX),
        st.integers(0, 255).map(lambda k: 2**k),
        st.integers(1, 256).map(lambda k: 2**k - 1),
        st.integers(0, 77).map(lambda k: 10**k),
    )


def int256() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from(_INT_EDGES),
        st.integers(-(2**64), 2**64),
        st.integers(-(2**128), 2**128),
        st.integers(INT256_MIN, INT256_MAX),
        st.integers(0, 254).map(lambda k: -(2**k)),
    )


def nonzero_divisor() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from([1, 2, 3, 10**6, WAD, 10**18 + 1, UINT256_MAX]),
        st.integers(1, 2**128),
        st.integers(1, UINT256_MAX),
    )


@st.composite
def mul_div_args(draw: st.DrawFn) -> tuple[int, int, int]:
    """(x, y, d) with x*y landing exactly on, one above or one below a multiple of d,
    or anything at all (d == 0 and overflowing quotients included)."""
    if draw(st.booleans()):
        return draw(uint256()), draw(uint256()), draw(st.one_of(st.just(0), uint256()))
    d = draw(nonzero_divisor())
    quotient = draw(st.one_of(st.sampled_from([0, 1, UINT256_MAX - 1, UINT256_MAX]), st.integers(0, 2**128)))
    remainder = draw(st.sampled_from([0, 1, d - 1])) if d > 1 else 0
    product = quotient * d + remainder
    y = draw(st.sampled_from([1, d])) if product % d == 0 and d <= UINT256_MAX else 1
    x = product // y if product % y == 0 else product
    if x > UINT256_MAX:  # keep both factors in range; the product may still exceed 2**256
        x, y = (product // d, d) if product % d == 0 and product // d <= UINT256_MAX else (UINT256_MAX, 2)
    return x, y, d


@st.composite
def signed_mul_div_args(draw: st.DrawFn) -> tuple[int, int, int]:
    x, y, d = draw(mul_div_args())
    sign = draw(st.sampled_from([1, -1]))
    signed_x = min(max(sign * x, INT256_MIN), INT256_MAX)
    return draw(st.one_of(st.just(signed_x), int256())), y, d


def collateral_decimals() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([6, 18, 0, 17, 19, 255]), st.integers(0, 255))


def price_wad() -> st.SearchStrategy[int]:
    """Oracle-style WAD prices plus the extremes."""
    return st.one_of(
        st.integers(1, 10**6).map(lambda usd: usd * WAD),
        st.integers(1, 10**30),
        st.sampled_from([0, 1, WAD - 1, WAD, INT256_MAX, INT256_MAX + 1, UINT256_MAX]),
    )


def size_wad() -> st.SearchStrategy[int]:
    """Signed base-asset sizes (18 decimals), realistic and extreme."""
    return st.one_of(
        st.integers(-(10**9) * WAD, 10**9 * WAD),
        st.sampled_from([0, 1, -1, WAD, -WAD, INT256_MAX, INT256_MIN, INT256_MIN + 1]),
        int256(),
    )


def notional_scale() -> st.SearchStrategy[int]:
    """10**(36 - D) for the supported decimals, mostly 6 and 18; sometimes any divisor."""
    return st.one_of(
        st.sampled_from([10**30, 10**18]),
        st.integers(0, 18).map(lambda d: 10 ** (36 - d)),
        nonzero_divisor(),
        st.just(0),
    )
