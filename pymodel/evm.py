"""EVM integer semantics for the model: Solidity 0.8 checked arithmetic, panics and casts.

Each helper raises exactly what the compiled contract would: `Panic(0x11)` on
overflow/underflow, `Panic(0x12)` on division by zero, and OpenZeppelin SafeCast's
custom errors on a failed cast. Signed division truncates toward zero, as `sdiv` does.
"""

from __future__ import annotations

from pymodel.errors import (
    Panic,
    SafeCastOverflowedIntDowncast,
    SafeCastOverflowedIntToUint,
    SafeCastOverflowedUintDowncast,
    SafeCastOverflowedUintToInt,
)

UINT256_MAX = 2**256 - 1
INT256_MAX = 2**255 - 1
INT256_MIN = -(2**255)
UINT128_MAX = 2**128 - 1
INT128_MAX = 2**127 - 1
INT128_MIN = -(2**127)


# Bounds of every Solidity width, computed once: the checks below run on every model operation.
_UINT_MAX = {bits: 2**bits - 1 for bits in range(8, 257, 8)}
_INT_MIN = {bits: -(2 ** (bits - 1)) for bits in range(8, 257, 8)}
_INT_MAX = {bits: 2 ** (bits - 1) - 1 for bits in range(8, 257, 8)}


def uint_max(bits: int) -> int:
    bound = _UINT_MAX.get(bits)
    return 2**bits - 1 if bound is None else bound


def int_min(bits: int) -> int:
    bound = _INT_MIN.get(bits)
    return -(2 ** (bits - 1)) if bound is None else bound


def int_max(bits: int) -> int:
    bound = _INT_MAX.get(bits)
    return 2 ** (bits - 1) - 1 if bound is None else bound


def _check_uint(value: int, bits: int = 256) -> int:
    if value < 0 or value > (UINT256_MAX if bits == 256 else uint_max(bits)):
        raise Panic(Panic.ARITHMETIC)
    return value


def _check_int(value: int, bits: int = 256) -> int:
    if bits == 256:
        if value < INT256_MIN or value > INT256_MAX:
            raise Panic(Panic.ARITHMETIC)
    elif value < int_min(bits) or value > int_max(bits):
        raise Panic(Panic.ARITHMETIC)
    return value


# Checked unsigned arithmetic (Solidity `+ - *` on uintN).


def add(a: int, b: int, bits: int = 256) -> int:
    value = a + b
    if bits == 256 and 0 <= value <= UINT256_MAX:
        return value
    return _check_uint(value, bits)


def sub(a: int, b: int, bits: int = 256) -> int:
    value = a - b
    if bits == 256 and 0 <= value <= UINT256_MAX:
        return value
    return _check_uint(value, bits)


def mul(a: int, b: int, bits: int = 256) -> int:
    value = a * b
    if bits == 256 and 0 <= value <= UINT256_MAX:
        return value
    return _check_uint(value, bits)


def div(a: int, b: int) -> int:
    """Unsigned `a / b`: floor, Panic(0x12) on zero."""
    if b == 0:
        raise Panic(Panic.DIVISION_BY_ZERO)
    return a // b


def mod(a: int, b: int) -> int:
    if b == 0:
        raise Panic(Panic.DIVISION_BY_ZERO)
    return a % b


def pow_(base: int, exponent: int, bits: int = 256) -> int:
    return _check_uint(base**exponent, bits)


# Checked signed arithmetic (Solidity `+ - * / %` and unary `-` on intN).


def sadd(a: int, b: int, bits: int = 256) -> int:
    value = a + b
    if bits == 256 and INT256_MIN <= value <= INT256_MAX:
        return value
    return _check_int(value, bits)


def ssub(a: int, b: int, bits: int = 256) -> int:
    value = a - b
    if bits == 256 and INT256_MIN <= value <= INT256_MAX:
        return value
    return _check_int(value, bits)


def smul(a: int, b: int, bits: int = 256) -> int:
    value = a * b
    if bits == 256 and INT256_MIN <= value <= INT256_MAX:
        return value
    return _check_int(value, bits)


def sneg(a: int, bits: int = 256) -> int:
    return _check_int(-a, bits)


def sdiv(a: int, b: int, bits: int = 256) -> int:
    """Signed `a / b` truncated toward zero; Panic(0x12) on zero, Panic(0x11) on MIN / -1."""
    if b == 0:
        raise Panic(Panic.DIVISION_BY_ZERO)
    q = abs(a) // abs(b)
    return _check_int(q if (a < 0) == (b < 0) else -q, bits)


def smod(a: int, b: int) -> int:
    """Signed `a % b`: the result takes the sign of `a`, like the EVM's `smod`."""
    if b == 0:
        raise Panic(Panic.DIVISION_BY_ZERO)
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


# OpenZeppelin SafeCast.


def to_uint256(value: int) -> int:
    """SafeCast.toUint256(int256)."""
    if value < 0:
        raise SafeCastOverflowedIntToUint(value)
    return value


def to_int256(value: int) -> int:
    """SafeCast.toInt256(uint256)."""
    if value > INT256_MAX:
        raise SafeCastOverflowedUintToInt(value)
    return value


def to_uint(value: int, bits: int) -> int:
    """SafeCast.toUint<bits>(uint256)."""
    if value > uint_max(bits):
        raise SafeCastOverflowedUintDowncast(bits, value)
    return value


def to_int(value: int, bits: int) -> int:
    """SafeCast.toInt<bits>(int256)."""
    if value < int_min(bits) or value > int_max(bits):
        raise SafeCastOverflowedIntDowncast(bits, value)
    return value


def to_uint128(value: int) -> int:
    return to_uint(value, 128)


def to_int128(value: int) -> int:
    return to_int(value, 128)
