"""OrderRouter and the engine's order entry, differential (model and chain through `Ledger.act`):
submission and escrow, the fill round's timing (a round of the submission's second never fills),
cancellation of refused fills with the engine's error selector, expiry at the edge seconds,
parameter bounds on both sides, and the selector table the model uses."""

from __future__ import annotations

import dataclasses

import pytest
from eth_hash.auto import keccak
from pydantic import ValidationError

from chainio.contract import ChainRevert
from difftest.ledger import Ledger
from difftest.orders import cancel_reason, execute, next_round, submit, trade
from pymodel.config import default_config
from pymodel.core import Env
from pymodel.evm import UINT256_MAX
from pymodel.order_router import ERROR_SELECTORS, Order

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH, BTC = 1, 2
FEE = USD  # default_config: $1 per order
MAX_DELAY = 300  # the default maxExecutionDelay


def funded(ledger: Ledger) -> tuple[str, str, str, str]:
    owner, lp, trader, keeper = ledger.actors[:4]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    ledger.mint_and_approve(trader, 100_000 * USD)
    return owner, lp, trader, keeper


def balance(ledger: Ledger, who: str) -> int:
    return ledger.system.c.token.balance_of(who)


def order_of(ledger: Ledger, who: str, market: int = ETH) -> Order:
    return ledger.system.c.order_router.order_of(who, market)


# Submission


def test_submit_order__escrows_margin_and_fee__one_pending_per_slot(ledger):
    _, _, trader, _ = funded(ledger)
    out = submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    router = ledger.deployment.addresses.order_router
    assert out.event("OrderSubmitted").values() == (trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD, FEE)
    assert out.event("Transfer").values() == (trader, router, 3_100 * USD + FEE)
    assert order_of(ledger, trader) == Order(10 * WAD, 3_100 * USD, 3_100 * WAD, FEE, ledger.now)
    again = submit(ledger, trader, ETH, WAD, USD, UINT256_MAX)
    assert again.error == ("OrderPending", (trader, ETH))
    assert not submit(ledger, trader, BTC, WAD // 10, 1_000 * USD, UINT256_MAX).reverted  # another market


def test_submit_order__zero_size__reverts_zero_size(ledger):
    _, _, trader, _ = funded(ledger)
    assert submit(ledger, trader, ETH, 0, USD, UINT256_MAX).error == ("ZeroSize", ())


# The fill round


def test_execute_order__round_of_the_submission_second__never_fills(ledger):
    _, _, trader, keeper = funded(ledger)
    submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    submitted = ledger.now
    ledger.advance(5)
    ledger.set_price(ETH, 3_000 * FEED, updated_at=submitted)  # observed in the submission's second
    closes_at = submitted + 2 + (MAX_DELAY - 2) // 2  # readyAt + the fill window
    assert execute(ledger, trader, ETH, keeper).error == ("FillNotReady", (ETH, 0, closes_at))
    ledger.set_price(ETH, 3_000 * FEED, updated_at=submitted + 1)  # after it, but before the minimum delay
    assert execute(ledger, trader, ETH, keeper).error == ("FillNotReady", (ETH, 0, closes_at))
    ledger.set_price(ETH, 3_000 * FEED, updated_at=submitted + 2)
    out = execute(ledger, trader, ETH, keeper)
    assert out.event("OrderExecuted").values() == (trader, ETH, keeper, 3_000 * WAD, submitted + 2)
    assert out.events_named("Transfer")[-1].values() == (ledger.deployment.addresses.order_router, keeper, FEE)
    assert order_of(ledger, trader) == Order()


def test_execute_order__zero_min_delay__a_round_one_second_later_fills(ledger):
    owner, _, trader, keeper = funded(ledger)
    ledger.act(owner, "orderRouter", "setExecutionParams", FEE, 0, MAX_DELAY)
    submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    submitted = ledger.now
    ledger.set_price(ETH, 3_000 * FEED)  # same second: updatedAt == submittedAt
    assert execute(ledger, trader, ETH, keeper).error == ("FillNotReady", (ETH, 0, submitted + 1 + MAX_DELAY // 2))
    ledger.advance(1)
    next_round(ledger, ETH)
    assert execute(ledger, trader, ETH, keeper).events_named("OrderExecuted")


def test_execute_order__fill_refused__escrow_back_keeper_paid_reason_named(ledger):
    _, _, trader, keeper = funded(ledger)
    before = balance(ledger, trader)
    out = trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_001 * WAD, keeper=keeper)  # fills at 3,001.545
    assert not out.reverted and cancel_reason(out) == "SlippageExceeded"
    assert out.event("OrderCancelled").reason == bytes.fromhex("71c4efed")
    assert balance(ledger, trader) == before - FEE and balance(ledger, keeper) == FEE
    assert order_of(ledger, trader) == Order()
    assert ledger.system.c.engine.position_of(trader, ETH).size == 0


def test_execute_order__no_order__reverts_no_order(ledger):
    _, _, trader, keeper = funded(ledger)
    assert execute(ledger, trader, ETH, keeper).error == ("NoOrder", (trader, ETH))
    assert ledger.act(keeper, "orderRouter", "cancelOrder", trader, ETH).error == ("NoOrder", (trader, ETH))


# Expiry


@pytest.mark.parametrize("edge", [-1, 0], ids=["one_second_before_expiry", "at_expiry"])
def test_expiry__edge_seconds__executable_before_cancellable_from(ledger, edge):
    _, _, trader, keeper = funded(ledger)
    stranger = ledger.actors[5]
    before = balance(ledger, trader)
    submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    expires_at = ledger.now + MAX_DELAY
    ledger.advance(2)
    next_round(ledger, ETH)  # the order's round: the first at or after readyAt
    ledger.advance(MAX_DELAY + edge - 2)
    next_round(ledger, ETH)  # a later round, not the order's
    if edge < 0:
        refused = ledger.act(stranger, "orderRouter", "cancelOrder", trader, ETH)
        assert refused.error == ("OrderNotExpired", (trader, ETH, expires_at))
        assert execute(ledger, trader, ETH, keeper).events_named("OrderExecuted")
        return
    assert execute(ledger, trader, ETH, keeper).error == ("OrderExpired", (trader, ETH, expires_at))
    out = ledger.act(stranger, "orderRouter", "cancelOrder", trader, ETH)
    assert cancel_reason(out) == "OrderExpired"
    assert balance(ledger, trader) == before - FEE and balance(ledger, stranger) == FEE  # the canceller's fee
    assert order_of(ledger, trader) == Order()


# Parameters and access


@pytest.mark.parametrize(
    "args, error",
    [
        ((100 * USD + 1, 2, MAX_DELAY), ("executionFee", 100 * USD + 1)),
        ((FEE, 3_601, 86_400), ("minExecutionDelay", 3_601)),
        ((FEE, 30, 30), ("maxExecutionDelay", 30)),
        ((FEE, 2, 86_401), ("maxExecutionDelay", 86_401)),
    ],
    ids=["fee", "min_delay", "max_not_above_min", "max_delay"],
)
def test_set_execution_params__out_of_bounds__reverts_and_config_rejects(ledger, args, error):
    assert ledger.act(ledger.actors[0], "orderRouter", "setExecutionParams", *args).error == ("InvalidParameter", error)
    fee, min_delay, max_delay = args
    with pytest.raises(ValidationError):
        default_config(execution_fee=fee, min_execution_delay=min_delay, max_execution_delay=max_delay)


def test_set_execution_params__valid__applies_and_stranger_refused(ledger):
    owner, stranger = ledger.actors[0], ledger.actors[5]
    out = ledger.act(owner, "orderRouter", "setExecutionParams", 100 * USD, 3_600, 86_400)
    assert out.event("ExecutionParamsSet").values() == (100 * USD, 3_600, 86_400)
    denied = ledger.act(stranger, "orderRouter", "setExecutionParams", 0, 0, 1)
    assert denied.error == ("OwnableUnauthorizedAccount", (stranger,))


def test_engine_entry__not_the_router__reverts_and_router_set_once(ledger):
    owner, stranger = ledger.actors[0], ledger.actors[5]
    direct = ledger.act(stranger, "engine", "executeTrade", stranger, ETH, WAD, USD, UINT256_MAX)
    assert direct.error == ("NotOrderRouter", (stranger,))
    assert ledger.act(owner, "engine", "setOrderRouter", stranger).error == ("OrderRouterAlreadySet", ())


def test_price_with_time__model_equals_chain(ledger):
    ledger.set_price(ETH, 3_210 * FEED, updated_at=ledger.now - 7)
    ledger.advance(3)
    ledger.rpc.request("evm_setNextBlockTimestamp", [ledger.now])
    ledger.rpc.request("evm_mine", [])
    chain = ledger.deployment.contracts["oracle"].call("priceWithTime", ETH)
    model = ledger.system.c.oracle.price_with_time(Env(ledger.actors[0], ledger.now), ETH)
    assert tuple(chain) == model == (3_210 * WAD, ledger.now - 10)


GAS_FOR_THE_PIN_NOT_THE_TRADE = 160_000


def test_execute_order__starved_of_gas__whole_call_reverts_and_order_stays(ledger):
    _, _, trader, keeper = funded(ledger)
    submit(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD)
    ledger.advance(2)
    next_round(ledger, ETH)
    ledger.rpc.request("evm_setNextBlockTimestamp", [ledger.now])
    router = ledger.deployment.contracts["orderRouter"]
    with pytest.raises(ChainRevert) as raised:
        router.transact("executeOrder", trader, ETH, [], [], sender=keeper, gas=GAS_FOR_THE_PIN_NOT_THE_TRADE)
    assert raised.value.signature() == ("ExecutionOutOfGas", ())
    assert tuple(router.call("orderOf", trader, ETH))[4] != 0  # still pending: a keeper cannot starve it


def test_error_selectors__match_the_compiled_abis(project):
    """The model's table is keccak of each error's Solidity signature, for every error of every
    contract (so a refused fill names the same selector on both sides)."""

    def canonical(param: dict) -> str:
        kind = param["type"]
        if kind.startswith("tuple"):
            return "(" + ",".join(canonical(c) for c in param["components"]) + ")" + kind[5:]
        return kind

    found = {}
    for name in ("PerpEngine", "OrderRouter", "OracleAdapter", "LPPool", "SafetyModule", "InsuranceFund"):
        for item in getattr(project, name).contract_type.model_dump()["abi"]:
            if item["type"] == "error":
                signature = f"{item['name']}({','.join(canonical(p) for p in item['inputs'])})"
                found[item["name"]] = keccak(signature.encode())[:4]
    assert found and all(ERROR_SELECTORS[name] == selector for name, selector in found.items())


def test_config__order_defaults_validate(ledger):
    config = ledger.system.config
    assert (config.execution_fee, config.min_execution_delay, config.max_execution_delay) == (FEE, 2, MAX_DELAY)
    assert dataclasses.asdict(order_of(ledger, ledger.actors[2])) == dataclasses.asdict(Order())
