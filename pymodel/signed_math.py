"""Mirrors contracts/libraries/SignedMath.sol.

`..._toward_zero` truncates like the EVM's `sdiv`; `..._floor` rounds toward negative
infinity (trader PnL: profits round down, losses round up in magnitude).
"""

from __future__ import annotations

from pymodel import evm
from pymodel.evm import INT256_MAX, INT256_MIN
from pymodel.fixed_point import mul_div_down, mul_div_up


def abs_(x: int) -> int:
    """SignedMath.abs."""
    return -x if x < 0 else x


def negate(magnitude: int) -> int:
    """SignedMath.negate: -magnitude, SafeCast error unless it fits int256."""
    if magnitude == INT256_MAX + 1:
        return INT256_MIN
    return -evm.to_int256(magnitude)


def mul_div_toward_zero(x: int, y: int, d: int) -> int:
    """SignedMath.mulDivTowardZero."""
    magnitude = mul_div_down(abs_(x), y, d)
    return evm.to_int256(magnitude) if x >= 0 else negate(magnitude)


def mul_div_floor(x: int, y: int, d: int) -> int:
    """SignedMath.mulDivFloor."""
    if x >= 0:
        return evm.to_int256(mul_div_down(x, y, d))
    return negate(mul_div_up(abs_(x), y, d))


def mul_div_ceil(x: int, y: int, d: int) -> int:
    """SignedMath.mulDivCeil."""
    if x >= 0:
        return evm.to_int256(mul_div_up(x, y, d))
    return negate(mul_div_down(abs_(x), y, d))


def div_toward_zero(x: int, y: int) -> int:
    """SignedMath.divTowardZero (plain `sdiv`)."""
    return evm.sdiv(x, y)


def div_floor(x: int, y: int) -> int:
    """SignedMath.divFloor."""
    q = evm.sdiv(x, y)
    if evm.smod(x, y) != 0 and ((x < 0) != (y < 0)):
        q = evm.ssub(q, 1)
    return q
