"""A brute-force check of the safety module's slash cap on every interval (SPEC §9, revised).

The module's history is rebuilt from its events (`Staked`, `RewardDeposited` in; `Claimed` out;
`Slashed` out), so the check reads what happened, not the ring that enforces the cap. For every
state the module was in, the interval that starts at the last moment of that state and runs
`window` seconds is the hardest one starting in it (it sees every later slash it can); on it:

- every share keeps at least `1 - bps` of its value: the product of the slashes' kept fractions
  `(assets - slashed) / assets` is at least `(BPS - bps) / BPS`;
- the slashes take at most `bps` of the assets held at its start plus what joined during it.

Exact integer cross-multiplication (this is test code: Python's big ints, no rounding).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

BPS = 10_000
_FLOWS = {"Staked": ("in", 1), "RewardDeposited": ("in", 0), "Claimed": ("out", 3), "Slashed": ("slash", 1)}


@dataclass(frozen=True)
class Step:
    """One change of the module's assets: `kind` in/out/slash, `assets` held just before it."""

    time: int
    kind: str
    amount: int
    assets: int


def timeline(executed: Iterable[tuple[Any, Any]], module: str) -> list[Step]:
    """The module's asset changes from `Ledger.executed()` (reverted actions emit nothing)."""
    steps: list[Step] = []
    assets = 0
    for action, outcome in executed:
        for event in outcome.events:
            if event.emitter != module or event.name not in _FLOWS:
                continue
            kind, field = _FLOWS[event.name]
            amount = event.values[field]
            steps.append(Step(action.timestamp, kind, amount, assets))
            assets += amount if kind == "in" else -amount
    return steps


def violations(steps: list[Step], window: int, bps: int, now: int, earliest: int = 0) -> list[str]:
    """Every interval breaking the cap, described; intervals starting before `earliest` are skipped
    (a slash window that grew forgets what its shorter predecessor had already dropped)."""
    found: list[str] = []
    for k in range(len(steps) + 1):
        # State k: the assets after steps[:k]; it lasts until steps[k] (or now).
        start = steps[k].time if k < len(steps) else now
        if start < earliest:
            continue
        assets = steps[k].assets if k < len(steps) else _final(steps)
        inflow, taken, kept_num, kept_den = 0, 0, 1, 1
        for step in steps[k:]:
            if step.time >= start + window:
                break
            if step.kind == "in":
                inflow += step.amount
            elif step.kind == "slash" and step.amount > 0:
                taken += step.amount
                kept_num *= step.assets - step.amount
                kept_den *= step.assets
                if kept_num * BPS < (BPS - bps) * kept_den:
                    found.append(f"[{start}, {step.time}]: shares kept {kept_num}/{kept_den} < {BPS - bps}/{BPS}")
                if taken * BPS > bps * (assets + inflow):
                    found.append(f"[{start}, {step.time}]: {taken} taken of {assets} (+{inflow} joined), bps {bps}")
    return found


def _final(steps: list[Step]) -> int:
    last = steps[-1] if steps else None
    if last is None:
        return 0
    return last.assets + (last.amount if last.kind == "in" else -last.amount)


def most_taken_bps(steps: list[Step], window: int) -> tuple[int, int]:
    """The largest share of the assets at an interval's start (plus what joined) that the slashes of
    one `window`-long interval took: (numerator, denominator)."""
    best = (0, 1)
    for k in range(len(steps)):
        assets, inflow, taken = steps[k].assets, 0, 0
        for step in steps[k:]:
            if step.time >= steps[k].time + window:
                break
            inflow += step.amount if step.kind == "in" else 0
            taken += step.amount if step.kind == "slash" else 0
            base = assets + inflow
            if base and taken * best[1] > best[0] * base:
                best = (taken, base)
    return best
