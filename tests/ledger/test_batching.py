"""Actions batched per block (`ledger.batch`): the same parity as one block per action.

A batched run compares each action's outcome and events and the full state after each block;
a difference anywhere in a block is replayed one action per block, so the error names the
same first differing action, path and values as an unbatched run.
"""

from __future__ import annotations

import pytest

from difftest.ledger import ParityError
from difftest.orders import execute, next_round, submit
from pymodel.lp_pool import LPPool
from pymodel.mock_price_feed import MockPriceFeed

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1


def trading_rounds(ledger, rounds: int) -> int:
    owner, lp, trader = ledger.actors[:3]
    ledger.mint_and_approve(lp, 5_000_000 * USD)
    ledger.mint_and_approve(trader, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 5_000_000 * USD, lp)
    delay = max(1, ledger.system.c.order_router.min_execution_delay)
    actions = 0
    for i in range(rounds):
        ledger.advance(30)
        ledger.set_price(ETH, (2_700 + i % 7) * FEED)
        submit(ledger, trader, ETH, WAD, 1_000 * USD, 3_000 * WAD)
        submit(ledger, trader, ETH, WAD, 1_000 * USD, 3_000 * WAD)  # OrderPending
        ledger.advance(delay)
        next_round(ledger, ETH)
        execute(ledger, trader, ETH)
        ledger.act(trader, "engine", "addMargin", ETH, 10 * USD)
        submit(ledger, trader, ETH, -WAD, 0, 0)
        ledger.advance(delay)
        next_round(ledger, ETH)
        execute(ledger, trader, ETH)
        actions += 9
    return actions


def gas_limit(ledger) -> int:
    return int(ledger.rpc.request("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)


def test_batched__trading_with_reverts__same_outcomes_history_and_state_as_the_chain(ledger):
    before = gas_limit(ledger)
    ledger.batch = 16
    actions = trading_rounds(ledger, 6)
    ledger.flush()
    # The latest block carries the usual gas limit again (ape sizes its transactions from it).
    assert gas_limit(ledger) == before
    assert len(ledger.history) >= actions
    reverted = [outcome for _, outcome in ledger.history if outcome.reverted]
    assert {outcome.error[0] for outcome in reverted} == {"OrderPending"}
    assert ledger.model_state() == ledger.chain_state()
    # Every order filled (none cancelled) and the position is closed.
    executed = [outcome for action, outcome in ledger.history if action.function == "executeOrder"]
    assert len(executed) == 12 and all(outcome.events_named("OrderExecuted") for outcome in executed)
    assert ledger.system.c.engine.position_of(ledger.actors[2], ETH).size == 0
    # One block per time step: the chain is 18 blocks (plus setup) on, not one per action.
    assert ledger.last_chain is not None and not ledger.last_chain.reverted


def _deposit_moving_the_window(self, env, assets, receiver):
    shares = ORIGINAL_DEPOSIT(self, env, assets, receiver)
    if assets == 777:
        self.redeem_window += 1  # a model bug that only the full-state comparison sees
    return shares


ORIGINAL_DEPOSIT = LPPool.deposit


@pytest.mark.parametrize("batch", [1, 16])
def test_state_difference_inside_a_block__names_the_action_path_and_values_like_unbatched(
    make_ledger, monkeypatch, batch
):
    ledger = make_ledger()
    owner, lp = ledger.actors[:2]
    ledger.mint_and_approve(lp, 10_000 * USD)
    monkeypatch.setattr(LPPool, "deposit", _deposit_moving_the_window)
    window = ledger.system.config.redeem_window
    ledger.batch = batch
    ledger.act(lp, "pool", "deposit", 100, lp)
    with pytest.raises(ParityError) as raised:
        ledger.act(lp, "pool", "deposit", 777, lp)
        ledger.act(lp, "pool", "deposit", 5, lp)
        ledger.flush()
    message = str(raised.value)
    assert raised.value.action.function == "deposit" and raised.value.action.args == (777, lp)
    assert message.startswith("after pool.deposit(777, ")
    assert message.endswith(f"/pool.redeemWindow: model={window + 1} chain={window}")
    # Everything before the bad action was compared and kept; nothing after it.
    assert [a.args[0] for a, _ in ledger.history if a.function == "deposit"] == [100]


def _set_round_data_wrong_event(self, env, answer, updated_at):
    ORIGINAL_SET_ROUND_DATA(self, env, answer, updated_at + (1 if answer == 2_222 * FEED else 0))


ORIGINAL_SET_ROUND_DATA = MockPriceFeed.set_round_data


def test_event_difference_inside_a_block__is_named_like_unbatched(ledger, monkeypatch):
    ledger.batch = 16
    monkeypatch.setattr(MockPriceFeed, "set_round_data", _set_round_data_wrong_event)
    with pytest.raises(ParityError) as raised:
        ledger.set_price(ETH, 2_100 * FEED)
        ledger.set_price(ETH, 2_222 * FEED)
        ledger.set_price(ETH, 2_300 * FEED)
        ledger.flush()
    assert raised.value.action.args[0] == 2_222 * FEED
    assert "event 0 differs" in str(raised.value)
