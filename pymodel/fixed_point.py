"""Mirrors contracts/libraries/FixedPointMath.sol (over OpenZeppelin `Math.mulDiv`)."""

from __future__ import annotations

from pymodel.errors import Panic
from pymodel.evm import UINT256_MAX

WAD = 10**18


def _mul_div(x: int, y: int, d: int, round_up: bool) -> int:
    """Math.mulDiv: 512-bit product, Panic(0x12) if d == 0, Panic(0x11) if the result overflows."""
    if d == 0:
        raise Panic(Panic.DIVISION_BY_ZERO)
    quotient, remainder = divmod(x * y, d)
    if quotient > UINT256_MAX:
        raise Panic(Panic.ARITHMETIC)
    if round_up and remainder > 0:
        # Checked `+ 1` in Math.mulDiv(…, Rounding.Ceil).
        if quotient == UINT256_MAX:
            raise Panic(Panic.ARITHMETIC)
        quotient += 1
    return quotient


def mul_div_down(x: int, y: int, d: int) -> int:
    """FixedPointMath.mulDivDown: floor(x * y / d)."""
    return _mul_div(x, y, d, round_up=False)


def mul_div_up(x: int, y: int, d: int) -> int:
    """FixedPointMath.mulDivUp: ceil(x * y / d)."""
    return _mul_div(x, y, d, round_up=True)


def mul_wad_down(x: int, y: int) -> int:
    """FixedPointMath.mulWadDown."""
    return _mul_div(x, y, WAD, round_up=False)


def mul_wad_up(x: int, y: int) -> int:
    """FixedPointMath.mulWadUp."""
    return _mul_div(x, y, WAD, round_up=True)


def div_wad_down(x: int, y: int) -> int:
    """FixedPointMath.divWadDown."""
    return _mul_div(x, WAD, y, round_up=False)


def div_wad_up(x: int, y: int) -> int:
    """FixedPointMath.divWadUp."""
    return _mul_div(x, WAD, y, round_up=True)
