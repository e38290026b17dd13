"""Helpers shared by the pool and safety-module attack replays (tests/backstop/test_pool_*,
test_sm_*): outcomes that must succeed, and orders that must fill."""

from __future__ import annotations

from difftest.orders import cancel_reason


def ok(out):
    assert not out.reverted, out.error
    return out


def fee(ledger) -> int:
    """The keeper's execution fee, escrowed with each order besides its margin."""
    return ledger.system.c.order_router.execution_fee


def filled(out):
    """An order's execution that filled (not refused: a refused fill cancels with a reason)."""
    ok(out)
    assert out.events_named("OrderExecuted"), cancel_reason(out)
    return out
