"""Issue 10, item 9: ERC-4626/7540 conformance of the LP pool, and the bounds of its owner setter.

Every `max*` view says what would really succeed now, `totalAssets` and the convert views do not
revert on a stale feed, `withdraw` is not a read-only call in the ABI, fee-on-transfer collateral is
refused at deposit, an absurd price reverts with a named error, and an unlisted market's params are
the all-zero struct on both sides. Model and chain are compared throughout."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pool_support import fee, filled, ok

from chainio.contract import ChainRevert
from chainio.project import abi_of, lean
from difftest.orders import trade
from pymodel.config import default_config
from pymodel.core import Env, EventLog
from pymodel.erc20 import MockStablecoin
from pymodel.errors import Revert
from pymodel.evm import UINT256_MAX
from pymodel.lp_pool import MAX_PRICE, LPPool

USD = 10**6
WAD = 10**18
FEED = 10**8
ETH = 1
UNLISTED = 99
DAY = 24 * 3600


def same_view(ledger, function: str, *args: Any) -> Any:
    """A pool view on both sides at `ledger.now` (a block is mined there first)."""
    ledger.rpc.request("evm_mine", [ledger.now])
    pool, env = ledger.system.c.pool, Env(ledger.actors[0], ledger.now)
    model = {
        "maxDeposit": lambda: pool.max_deposit(env, *args),
        "maxMint": lambda: pool.max_mint(env, *args),
        "maxRedeem": lambda: pool.max_redeem(env, *args),
        "totalAssets": lambda: pool.total_assets(env),
        "convertToShares": lambda: pool.convert_to_shares(env, *args),
        "convertToAssets": lambda: pool.convert_to_assets(env, *args),
        "previewRedeem": lambda: pool.preview_redeem(env, *args),
    }[function]
    try:
        mine: Any = model()
    except Revert as revert:
        mine = revert.signature()
    try:
        chain: Any = ledger.deployment.contracts["pool"].call(function, *args)
    except ChainRevert as revert:
        chain = revert.signature()
    assert mine == chain, f"{function}{args}: model {mine} != chain {chain}"
    return mine


def test_max_redeem__single_lp_with_an_open_position__redeem_of_it_succeeds(make_ledger):
    ledger = make_ledger(default_config(redeem_cooldown=60))
    owner, lp, trader = ledger.actors[:3]
    ledger.mint_and_approve(lp, 10_000_000 * USD)
    shares = ok(ledger.act(lp, "pool", "deposit", 10_000_000 * USD, lp)).return_value
    ledger.mint_and_approve(trader, 20_000 * USD + fee(ledger))
    filled(trade(ledger, trader, ETH, 33 * WAD, 20_000 * USD, 3_100 * WAD))  # ~$100k
    ok(ledger.act(lp, "pool", "requestRedeem", shares))
    ledger.advance(60)
    ledger.set_price(ETH, 3_000 * FEED)
    most = same_view(ledger, "maxRedeem", lp)
    assert 0 < most < shares  # free cash (cash less what the position reserves) limits it
    ok(ledger.act(lp, "pool", "redeem", most, lp, lp))  # the issue: this reverted InsufficientFreeCash
    assert ledger.system.c.pool.redeem_request_of(lp)[0] == shares - most


def test_stale_feed__max_views_zero__flows_revert__total_assets_and_converts_still_answer(make_ledger):
    ledger = make_ledger(default_config(redeem_cooldown=60))
    owner, lp, trader = ledger.actors[:3]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    shares = ok(ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)).return_value
    ledger.mint_and_approve(trader, 10_000 * USD)
    filled(trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD))
    ok(ledger.act(lp, "pool", "requestRedeem", shares // 2))
    ledger.advance(60)
    assert same_view(ledger, "maxDeposit", lp) == same_view(ledger, "maxMint", lp) == UINT256_MAX
    assert same_view(ledger, "maxRedeem", lp) == shares // 2
    ledger.advance(4_201)  # the ETH feed is now stale
    assert same_view(ledger, "maxDeposit", lp) == same_view(ledger, "maxMint", lp) == 0
    assert same_view(ledger, "maxRedeem", lp) == 0
    stale = ("StalePrice", (ETH, ledger.now - 4_261, ledger.now, 4_200))
    assert ledger.act(lp, "pool", "deposit", USD, lp).error == stale
    assert ledger.act(lp, "pool", "mint", 10**12, lp).error == stale
    assert ledger.act(lp, "pool", "redeem", shares // 2, lp, lp).error == stale
    # The stale market counts no open PnL: the cash and the settled funding the pool owes, nothing more.
    total = same_view(ledger, "totalAssets")
    assert total == ledger.system.c.pool.cash
    assert same_view(ledger, "convertToShares", USD) > 0 and same_view(ledger, "convertToAssets", 10**12) > 0


def test_absurd_price__named_error_in_flows__views_treat_the_market_as_stale(make_ledger):
    ledger = make_ledger()
    owner, lp, trader = ledger.actors[:3]
    ledger.mint_and_approve(lp, 1_000_000 * USD)
    ok(ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp))
    ledger.mint_and_approve(trader, 10_000 * USD)
    filled(trade(ledger, trader, ETH, 10 * WAD, 3_100 * USD, 3_100 * WAD))
    answer = 2**200  # the issue: the valuation overflowed with a panic
    ledger.set_price(ETH, answer)
    price = answer * 10**10  # 8-decimal feed scaled to WAD
    assert price > MAX_PRICE
    # The oracle refuses it first: beyond MAX_PRICE_LIMIT once scaled, the source is left out as
    # absurd (issue 17), and the one-source market is below quorum with the source's error.
    bound = ledger.system.config.markets[0].max_price
    assert 0 < bound < MAX_PRICE
    out = ledger.act(lp, "pool", "deposit", USD, lp)
    assert out.error == ("InvalidAnswer", (ETH, answer))
    assert same_view(ledger, "totalAssets") == ledger.system.c.pool.cash
    assert same_view(ledger, "maxDeposit", lp) == 0


def test_withdraw__abi_says_state_changing_and_it_reverts_async_only(ledger, project):
    abi = {item["name"]: item for item in abi_of(project.LPPool) if item.get("type") == "function"}
    assert abi["withdraw"]["stateMutability"] == "nonpayable"
    lp = ledger.actors[1]
    assert ledger.act(lp, "pool", "withdraw", 1, lp, lp).error == ("AsyncRedeemOnly", ())
    assert same_view(ledger, "maxDeposit", lp) == UINT256_MAX  # no market has open interest: nothing stale


def test_market_params__unlisted_market__all_zero_struct_on_both_sides(ledger):
    chain = ledger.deployment.contracts["engine"].call("marketParams", UNLISTED)
    model = ledger.system.c.engine.market_params(UNLISTED)
    assert model.as_tuple() == chain
    assert model.initial_margin_bps == 0 and model.tier_notional_caps == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("cooldown", "window", "ok_"),
    [(59, 60, False), (60, 60, True), (30 * DAY, 30 * DAY, True), (30 * DAY + 1, 60, False), (60, 30 * DAY + 1, False)],
)
def test_set_redeem_timing__bounds__same_in_contract_and_config(ledger, cooldown, window, ok_):
    out = ledger.act(ledger.actors[0], "pool", "setRedeemTiming", cooldown, window)
    assert out.reverted != ok_ and (ok_ or out.error == ("InvalidRedeemTiming", (cooldown, window)))
    try:
        default_config(redeem_cooldown=cooldown, redeem_window=window)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == ok_


class FeeOnTransferModel(MockStablecoin):
    """Mirrors contracts/mocks/FeeOnTransferToken.sol: burns `fee_bps` of every transfer."""

    def __init__(self, address: str, log: EventLog, fee_bps: int) -> None:
        super().__init__(address, log, "Fee USD", "fUSD", 6)
        self.fee_bps = fee_bps

    def _update(self, from_: str, to: str, value: int) -> None:
        if from_ == "0x" + "00" * 20 or to == "0x" + "00" * 20:
            return super()._update(from_, to, value)
        fee = value * self.fee_bps // 10_000
        super()._update(from_, "0x" + "00" * 20, fee)
        super()._update(from_, to, value - fee)


def test_deposit__fee_on_transfer_collateral__refused_with_a_named_error(project, accounts, rpc, registry):
    snapshot = rpc.request("evm_snapshot")
    try:
        owner, lp = accounts[0], accounts[1]
        token = project.FeeOnTransferToken.deploy(100, sender=owner)
        oracle = project.OracleAdapter.deploy(owner.address, sender=owner)
        pool = project.LPPool.deploy(token.address, owner.address, 60, 3_600, sender=owner)
        fund = project.InsuranceFund.deploy(token.address, owner.address, sender=owner)
        sm = project.SafetyModule.deploy(token.address, owner.address, 600, 3_600, 3_000, 3_600, 3_600, sender=owner)
        engine = project.PerpEngine.deploy(
            token.address, oracle.address, pool.address, fund.address, sm.address, owner.address, sender=owner
        )
        pool.setEngine(engine.address, sender=owner)
        token.mint(lp.address, 1_000 * USD, sender=owner)
        token.approve(pool.address, UINT256_MAX, sender=lp)
        with pytest.raises(ChainRevert) as chain:
            lean(rpc, registry, project.LPPool, pool.address).transact(
                "deposit", 1_000 * USD, lp.address, sender=lp.address
            )

        log = EventLog()
        model_token = FeeOnTransferModel(token.address, log, 100)
        model_pool = LPPool(pool.address, log, model_token, owner.address, 60, 3_600)
        model_pool.perp = SimpleNamespace(
            oracle=None, notional_scale=10**30, market_ids=[], reserved_cash=lambda: 0, uncovered_deficit=0
        )
        model_token.mint(Env(owner.address, 0), lp.address, 1_000 * USD)
        model_token.approve(Env(lp.address, 0), pool.address, UINT256_MAX)
        with pytest.raises(Revert) as model:
            model_pool.deposit(Env(lp.address, 0), 1_000 * USD, lp.address)
        assert (
            chain.value.signature()
            == model.value.signature()
            == (
                "FeeOnTransferUnsupported",
                (1_000 * USD, 990 * USD),
            )
        )
    finally:
        rpc.request("evm_revert", [snapshot])
