"""Endogenous cascades, shared by both tiers (issue 20 item 2): the market depth that turns the
liquidation and ADL flow into a move of the real market price, and the keepers' per-block limits
(capacity, a gas price that rises with volatility, outages).

Both tiers use these functions on the same inputs, so a path's price is the same function of
its book in either: the price of step t is the exogenous path times `exp(shift[t])`, with
`shift` built from the net volume closed at the steps before t. The causal solution is found
as a fixed point (`MAX_ROUNDS`): run the path, take its liquidation volume, move the price,
run again, until the liquidations no longer change. Each round settles at least the earliest
step where they changed, so the fixed point is the step-by-step (causal) one.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.config import SimConfig

BPS = 10_000.0
MAX_ROUNDS = 40  # fixed-point rounds of the depth model (a cascade settles a step per round at worst)
MAX_STEP_MOVE = 0.5  # a step's flow moves the log price by at most this much


def depth_shift(config: SimConfig, net_sold_usd: np.ndarray) -> np.ndarray:
    """Log-price shift per path and step, from the net USD volume sold at each step (rows x
    steps+1; positive: longs closed, sold into the book; negative: shorts closed, bought).

    Square-root impact: a step's flow `Q` moves the log price by
    `-sign(Q) x impact_bps / 10000 x sqrt(|Q| / depth_usd)` from the next step on, decaying
    by half every `half_life_s` (the transient impact of a propagator model)."""
    depth = config.depth
    q = np.asarray(net_sold_usd, dtype=float)
    impulse = -np.sign(q) * (depth.impact_bps / BPS) * np.sqrt(np.abs(q) / depth.depth_usd)
    impulse = np.clip(impulse, -MAX_STEP_MOVE, MAX_STEP_MOVE)
    decay = math.exp(-math.log(2) * config.step_s / depth.half_life_s)
    shift = np.zeros_like(q)
    active = np.nonzero(impulse.any(axis=0))[0]
    if active.size == 0:
        return shift
    for t in range(int(active[0]) + 1, q.shape[1]):
        shift[:, t] = decay * shift[:, t - 1] + impulse[:, t - 1]
    return shift


def moved_prices(base: np.ndarray, shift: np.ndarray | None) -> np.ndarray:
    """The market path with the book's own flow in it."""
    return base if shift is None else base * np.exp(shift)


def gas_cost_usd(config: SimConfig, prices: np.ndarray) -> np.ndarray:
    """The gas cost of one liquidation per path and step (USD): `keepers.gas_cost_usd`, times
    `1 + gas_volatility x |move %|` of the step on the real market price."""
    base = config.keepers.gas_cost_usd
    vol = config.keeper_limits.gas_volatility
    if vol == 0:
        return np.full(prices.shape, base)
    moves = np.abs(np.diff(prices, axis=1, prepend=prices[:, :1]) / prices) * 100
    return base * (1 + vol * moves)


def keeper_down(config: SimConfig) -> np.ndarray:
    """Per step: keepers are out (an outage window `[at_s, at_s + duration_s)`)."""
    times = np.arange(config.steps + 1) * config.step_s
    down = np.zeros(config.steps + 1, dtype=bool)
    for outage in config.keeper_limits.outages:
        down |= (times >= outage.at_s) & (times < outage.at_s + outage.duration_s)
    return down
