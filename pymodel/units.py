"""Mirrors contracts/libraries/Units.sol: SPEC §2 conversions.

Size is a signed 18-decimal base amount, prices are WAD, collateral has D decimals
(0 <= D <= 18) and `scale = 10**(36 - D)` turns size x price into token units.
"""

from __future__ import annotations

from pymodel import evm
from pymodel.errors import UnsupportedDecimals
from pymodel.fixed_point import mul_div_down, mul_div_up
from pymodel.signed_math import abs_, mul_div_ceil, mul_div_floor

MAX_COLLATERAL_DECIMALS = 18


def notional_scale(decimals: int) -> int:
    """Units.notionalScale."""
    if decimals > MAX_COLLATERAL_DECIMALS:
        raise UnsupportedDecimals(decimals)
    return 10 ** (36 - decimals)


def notional_down(size: int, price: int, scale: int) -> int:
    """Units.notionalDown: for amounts paid out."""
    return mul_div_down(abs_(size), price, scale)


def notional_up(size: int, price: int, scale: int) -> int:
    """Units.notionalUp: for fees and margin requirements."""
    return mul_div_up(abs_(size), price, scale)


def pnl_floor(size: int, entry_price: int, price: int, scale: int) -> int:
    """Units.pnlFloor: size * (price - entryPrice) / scale, floored (favours the protocol)."""
    move = evm.ssub(evm.to_int256(price), evm.to_int256(entry_price))
    if move >= 0:
        return mul_div_floor(size, move, scale)
    return mul_div_floor(evm.sneg(size), abs_(move), scale)


def funding_ceil(size: int, index_delta: int, scale: int) -> int:
    """Units.fundingCeil: funding owed, rounded up (favours the protocol)."""
    if index_delta >= 0:
        return mul_div_ceil(size, index_delta, scale)
    return mul_div_ceil(evm.sneg(size), abs_(index_delta), scale)
