
USD = 10**6
WAD = 10**18


def test_open_and_close__model_equals_chain(ledger):
    owner, lp, trader = ledger.actors[:3]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.mint_and_approve(trader, 100_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    ledger.advance(10)
    out = ledger.act(trader, "engine", "openPosition", 1, 2 * WAD, 1_000 * USD, 4_000 * WAD)
    assert not out.reverted, out.error
    ledger.advance(3600)
    ledger.set_price(1, 3_100 * 10**8)
    out = ledger.act(trader, "engine", "closePosition", 1, 0)
    assert not out.reverted, out.error


def test_history_records_events(ledger):
    owner, lp = ledger.actors[:2]
    ledger.mint_and_approve(lp, 1_000 * USD)
    out = ledger.act(lp, "pool", "deposit", 1_000 * USD, lp)
    print(out)
    assert [e.name for e in out.events] == ["Transfer", "Transfer", "Deposit"]
