"""Mirrors contracts/libraries/Funding.sol: the skew funding rule, written once (the engine accrues a
market's index with it, the LP pool marks pending funding with it)."""

from __future__ import annotations

from pymodel import evm
from pymodel.fixed_point import WAD
from pymodel.signed_math import mul_div_toward_zero


def rate(long_size: int, short_size: int, max_funding_rate_per_second: int, skew_scale: int) -> int:
    """Mirrors Funding.rate: skew / skewScale x maxRate, clamped to +/- maxRate (WAD per second);
    longs pay when the skew is long."""
    skew = evm.ssub(evm.to_int256(long_size), evm.to_int256(short_size))
    max_rate = evm.to_int256(max_funding_rate_per_second)
    r = mul_div_toward_zero(skew, max_funding_rate_per_second, skew_scale)
    if r > max_rate:
        r = max_rate
    if r < -max_rate:
        r = -max_rate
    return r


def index_after(index: int, rate_: int, elapsed: int, price: int) -> int:
    """Mirrors Funding.indexAfter: the index `elapsed` seconds at `rate_` after `index`, at `price`
    (truncated toward zero)."""
    return evm.sadd(index, mul_div_toward_zero(evm.smul(rate_, evm.to_int256(elapsed)), price, WAD))
