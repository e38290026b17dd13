"""Price paths for `ape run push-prices`: a `timestamp,price` CSV (seconds, USD) and built-in
drill paths. Prices become feed answers exactly."""

from __future__ import annotations

import csv
from pathlib import Path

from chainio.ops import OperatorError


def answer_of(price: str, decimals: int) -> int:
    """A decimal USD price string as the feed's integer answer, exactly (no floats); more
    fractional digits than the feed has are refused rather than rounded."""
    whole, _, fraction = price.strip().partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise OperatorError(f"price {price!r} is not a plain decimal number")
    if len(fraction.rstrip("0")) > decimals:
        raise OperatorError(f"price {price!r} has more than the feed's {decimals} decimals")
    fraction = fraction.rstrip("0").ljust(decimals, "0")
    answer = int(whole) * 10**decimals + (int(fraction) if fraction else 0)
    if answer <= 0:
        raise OperatorError(f"price {price!r} must be positive")
    return answer


def csv_rows(path: Path) -> list[tuple[int, str]]:
    """(timestamp, price) rows of a simulator CSV, timestamps strictly increasing."""
    rows: list[tuple[int, str]] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if not row or (line == 1 and not row[0].strip().lstrip("-").isdigit()):
                continue
            if len(row) != 2 or not row[0].strip().isdigit():
                raise OperatorError(f"{path} line {line}: expected 'timestamp,price', got {row}")
            timestamp = int(row[0])
            if rows and timestamp <= rows[-1][0]:
                raise OperatorError(f"{path} line {line}: timestamps must increase strictly")
            rows.append((timestamp, row[1].strip()))
    if not rows:
        raise OperatorError(f"{path}: no rows")
    return rows


def builtin_answers(current: int, path: str, steps: int, step_bps: int) -> list[int]:
    sign = -1 if path == "crash" else 1
    # Rounds down: a drill path needs no particular rounding, only integers.
    return [current * (10_000 + sign * step_bps * k) // 10_000 for k in range(1, steps + 1)]
