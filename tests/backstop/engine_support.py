"""Shared set-up of the engine backstop attack tests (issue 10, items 5-8): the ledger fixtures of
tests/ledger and a few scenario steps. Every `ledger.act` checks model == chain (outcome, ordered
events, full state), conservation and the waterfall order."""

from __future__ import annotations

from typing import Any

from difftest.orders import cancel_reason, trade

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
SCALE = 10**30  # 6-decimal collateral: |size| x price / SCALE = collateral units
BPS = 10_000


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def succeeded(out: Any) -> Any:
    assert not out.reverted, out.error
    return out


def setup_pool(ledger: Any, lp: str, amount: int) -> None:
    ledger.mint_and_approve(lp, amount)
    succeeded(ledger.act(lp, "pool", "deposit", amount, lp))


def open_position(ledger: Any, trader: str, size: int, margin: int) -> Any:
    """An open order filled at the next round (same price): the execution's outcome. The trader
    is minted the margin and the keeper's execution fee of this order and of a later close."""
    ledger.mint_and_approve(trader, margin + 2 * ledger.system.c.order_router.execution_fee)
    guard = 2**256 - 1 if size > 0 else 0
    out = succeeded(trade(ledger, trader, ETH, size, margin, guard))
    assert cancel_reason(out) is None and out.events_named("OrderExecuted")
    return out
