"""The order keeper's pass (`chainio.order_keeper`, issue 17 item 7) on the three-source ETH
market, every transaction it sends run through the differential ledger (model == chain): pending
orders found from the router's events are filled at the pinned price with the keeper's own round
ids and pull update, and an expired one is cancelled with its fee to the keeper."""

from __future__ import annotations

from test_pinned_fills import ETH, FEED, READY, USD, WAD

from chainio.order_keeper import OrderIndex, OrderSummary, order_pass
from chainio.project import lean
from difftest.orders import submit, three_source_config

FEE = USD  # default_config's execution fee per order ($1)


def _sender(ledger, keeper: str):
    """The pass's `send` through the ledger: the chain's router events, by ABI name."""
    sent: list[tuple] = []

    def send(function, args, value):
        assert value == 0  # MockPythSource's update fee
        sent.append((function, args))
        outcome = ledger.act(keeper, "orderRouter", function, *args)
        assert not outcome.reverted, outcome.error
        events = ledger.last_chain
        found = [
            ("OrderExecuted", {"price": e.price, "observedAt": e.observed_at})
            for e in events.events_named("OrderExecuted")
        ]
        return found + [("OrderCancelled", {"reason": e.reason}) for e in events.events_named("OrderCancelled")]

    return sent, send


def test_order_keeper__fills_at_the_pinned_price__cancels_the_expired_one_for_its_fee(
    make_ledger, rpc, registry, project
):
    ledger = make_ledger(three_source_config())
    _, lp, long_trader, short_trader, late_trader, keeper = ledger.actors[:6]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    for trader in (long_trader, short_trader, late_trader):
        ledger.mint_and_approve(trader, 100_000 * USD)
    assert not submit(ledger, long_trader, ETH, 10 * WAD, 3_100 * USD, 10**30).reverted
    assert not submit(ledger, short_trader, ETH, -10 * WAD, 3_100 * USD, 0).reverted
    ledger.advance(READY)
    ledger.set_source_price(ETH, 0, 3_000 * FEED)
    ledger.set_source_price(ETH, 1, 3_004 * FEED)
    ledger.set_source_price(ETH, 2, 3_002 * FEED)  # the orders' pull print, stored by the pusher
    for step in range(1, 4):  # later push rounds: the market rallies; the pinned ones stay first
        ledger.advance(60)
        ledger.set_source_price(ETH, 0, (3_000 + 20 * step) * FEED)
        ledger.set_source_price(ETH, 1, (3_004 + 20 * step) * FEED)
    assert not submit(ledger, late_trader, ETH, 10 * WAD, 3_100 * USD, 10**30).reverted  # no round after it

    c = ledger.deployment.contracts
    contract_at = lambda name, address: lean(rpc, registry, getattr(project, name), address)  # noqa: E731
    index = OrderIndex(rpc, c["orderRouter"], 0, chunk=7)
    sent, send = _sender(ledger, keeper)
    summary, lines = OrderSummary(), []
    ledger.advance(READY)
    order_pass(
        rpc, c["orderRouter"], c["oracle"], contract_at, index, True, 6, keeper, send, summary, lines.append, ledger.now
    )
    assert [function for function, _ in sent] == ["executeOrder", "executeOrder"]
    assert all(args[2][0] != 0 and args[2][1] != 0 and len(args[3]) == 1 for _, args in sent)  # pinned rounds, pull
    assert (summary.executed, summary.waiting, summary.expired) == (2, 1, 0)
    executed = [line for line in lines if line.startswith("executed")]
    assert len(executed) == 2 and all("filled at 3,002.00" in line for line in executed), lines  # the median
    assert ledger.system.c.engine.position_of(short_trader, ETH).size == -10 * WAD
    assert lines[-1].startswith("orders    pass 1") and "2 executed" in lines[-1]

    ledger.advance(3_600)
    before = ledger.system.c.token.balance_of(keeper)
    order_pass(
        rpc, c["orderRouter"], c["oracle"], contract_at, index, True, 6, keeper, send, summary, lines.append, ledger.now
    )
    assert sent[-1] == ("cancelOrder", (late_trader, ETH)) and summary.expired == 1
    assert ledger.system.c.token.balance_of(keeper) == before + FEE
    assert (
        lines[-2]
        == f"cancelled {late_trader} market {ETH}: OrderExpired, margin $3,100.00 back, fee $1.00 to the keeper"
    )
    assert ledger.system.c.order_router.order_of(late_trader, ETH).submitted_at == 0
