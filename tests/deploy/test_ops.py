"""The deployment plan, its config, the refusals operators get before anything is sent, the
code comparison of verify-deployment, and the keeper's passes driven through the differential
ledger (model == chain after every transaction the keeper sends)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chainio import deploy
from chainio.deploy import Adopt, Call, Deploy, DeploymentConfig, plan
from chainio.deploy_record import DeploymentRecord, resume_check
from chainio.keeper import (
    PositionIndex,
    Sent,
    Summary,
    adl_pass,
    bound_pass,
    decimal,
    liquidation_pass,
    open_positions,
    usd,
)
from chainio.ops import OperatorError, check_chain, check_funds, load_account, load_config
from chainio.verify import code_difference, immutable_mask
from difftest.orders import cancel_reason, close, trade
from pymodel.config import default_config
from pymodel.core import Env

ROOT = Path(__file__).resolve().parents[2]
SEPOLIA_ETH_USD = "0x694AA1769357215DE4FAC081bf1f309aDC325306"  # docs.chain.link, Sepolia ETH / USD
USD = 10**6
WAD = 10**18
FEED = 10**8
FEE = USD  # default_config's execution fee per order ($1)


def test_every_shipped_config_validates_and_sepolia_reads_chainlink():
    configs = {path.stem: load_config(path) for path in (ROOT / "configs").glob("*.json")}
    assert set(configs) == {"sepolia", "sepolia-mocks", "arbitrum-sepolia", "base-sepolia"}
    assert configs["sepolia"].feeds[1] == SEPOLIA_ETH_USD and configs["sepolia"].chain_id == 11155111
    assert (configs["arbitrum-sepolia"].chain_id, configs["base-sepolia"].chain_id) == (421614, 84532)
    assert configs["sepolia-mocks"].uses_mocks_only and not configs["sepolia"].uses_mocks_only


def test_plan__adopts_given_contracts_and_wires_everything_once():
    config = load_config(ROOT / "configs/sepolia.json")
    steps = plan(config)
    adopted = {s.name: s.address for s in steps if isinstance(s, Adopt)}
    assert adopted == {"feed1": SEPOLIA_ETH_USD, "feed2": "0x1b44F3514812d835EB1BDB0acB33d3fA3351Ee43"}
    deployed = [s.name for s in steps if isinstance(s, Deploy)]
    owned = ["oracle", "pool", "insuranceFund", "safetyModule", "engine", "orderRouter"]
    assert deployed == ["token", *owned, "timelock"]
    calls = [(s.target, s.function) for s in steps if isinstance(s, Call)]
    assert calls.count(("engine", "listMarket")) == 2 and ("engine", "setGuardian") not in calls
    assert calls.count(("oracle", "setOracle")) == 2  # each market's sources and aggregation rules
    assert calls[-9:-6] == [
        ("engine", "setOrderRouter"),
        ("oracle", "setOrderRouter"),
        ("orderRouter", "setExecutionParams"),
    ]
    # Last: every owned contract handed to the timelock, which has no admin but itself.
    assert calls[-6:] == [(name, "transferOwnership") for name in owned]
    timelock = next(s for s in steps if isinstance(s, Deploy) and s.name == "timelock")
    assert timelock.args == (86400, (deploy.Ref("deployer"),), (deploy.ZERO_ADDRESS,), deploy.ZERO_ADDRESS)


def test_config__a_deployed_network_needs_a_timelock_and_pushers_are_granted():
    raw = json.loads((ROOT / "configs/sepolia-mocks.json").read_text())
    del raw["timelock"]
    with pytest.raises(ValueError, match="timelock: required on chain 11155111"):
        DeploymentConfig.model_validate(raw)
    pusher = "0x" + "ab" * 20
    raw |= {"timelock": {"min_delay": 0}, "price_pushers": [pusher]}
    steps = plan(DeploymentConfig.model_validate(raw))
    grants = [s for s in steps if isinstance(s, Call) and s.function == "setPusher"]
    assert [(s.target, s.args[1]) for s in grants] == [("feed1", True), ("feed2", True)]
    assert DeploymentConfig.local(default_config()).timelock is None  # the harness calls setters directly
    assert len({s.describe() for s in steps}) == len(steps)


def test_plan__a_new_stage_is_one_more_function(monkeypatch):
    config = DeploymentConfig.local(default_config())
    extra = [Deploy("lens", "PerpEngineLens", (deploy.Ref("engine"),)), Call("engine", "setLens", ())]
    monkeypatch.setattr(deploy, "STAGES", [*deploy.STAGES, lambda _: extra])
    assert plan(config)[-2:] == extra


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["system"].update(insurance_share_bps=9500), "must be at most 10000"),
        (lambda c: c.update(chain_id=1), "chain_id=1 but network ethereum:sepolia:node has chain id 11155111"),
        (lambda c: c.update(feeds={"7": SEPOLIA_ETH_USD}), "feeds: market ids [7] are not in system.markets"),
        (lambda c: c.update(guardian="0x1234"), "guardian: Value error, '0x1234' is not a 20-byte hex address"),
        (lambda c: c.update(collateral="0x" + "00" * 20), "the zero address is not allowed"),
        (lambda c: c["system"]["markets"][0].update(spread_bps=10_000), "spreadBps=10000 must be below 10000"),
        (lambda c: c.update(surprise=1), "surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_config__refused_naming_the_field(tmp_path, change, message):
    config = json.loads((ROOT / "configs/sepolia-mocks.json").read_text())
    change(config)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(OperatorError, match="nothing sent") as refusal:
        load_config(path)
    assert message in str(refusal.value)


def test_config_hash_is_canonical_and_sensitive():
    a = load_config(ROOT / "configs/sepolia-mocks.json")
    b = DeploymentConfig.model_validate_json(json.dumps(json.loads(a.model_dump_json()), indent=4))
    assert a.digest() == b.digest()
    c = a.model_copy(update={"guardian": None})
    assert c.digest() != a.digest()


def test_refusals__chain_funds_passphrase(monkeypatch):
    with pytest.raises(OperatorError, match="chain id 84532 but the connected network has chain id 11155111"):
        check_chain(84532, 11155111, "config")
    check_chain(5, 5, "config")
    assert check_funds(10**18, 1_000_000, 10**9, "me") == 2 * 10**15
    with pytest.raises(OperatorError) as poor:
        check_funds(10**15, 1_000_000, 10**9, "me")
    assert str(poor.value) == (
        "me holds 0.001 ETH but may need up to 1,000,000 gas at 2,000,000,000 wei (0.002 ETH): "
        "fund it first, nothing sent (send it at least 0.001 ETH)"
    )

    class Keyfile:
        def set_autosign(self, enabled, passphrase=None):
            raise AssertionError("never asked to unlock without a passphrase")

    class Accounts:
        def load(self, alias):
            return Keyfile()

    monkeypatch.delenv("APE_ACCOUNTS_ops_PASSPHRASE", raising=False)
    with pytest.raises(OperatorError, match="set APE_ACCOUNTS_ops_PASSPHRASE .* nothing sent"):
        load_account(Accounts(), "ops")


def test_resume_check__names_the_step_that_changed():
    config = DeploymentConfig.local(default_config())
    steps = plan(config)
    record = DeploymentRecord(
        chain_id=31337,
        network="ethereum:local",
        config_hash=config.digest(),
        config=config.model_dump(mode="json"),
        deployer="0x" + "11" * 20,
        git_commit="x",
        git_dirty=False,
        compiler={},
        started_at="",
        updated_at="",
        total_steps=len(steps),
        steps=[],
    )
    record.add(0, steps[0], deploy.StepResult("0x" + "22" * 20, "0xaa", 1))
    assert resume_check(record, steps) is None
    assert record.done() == {0: deploy.StepResult("0x" + "22" * 20, "0xaa", 1)}
    other = plan(DeploymentConfig.local(default_config(collateral_decimals=18)))
    assert "step 0 was `deploy token = MockStablecoin('Mock USD', 'mUSD', 6)`" in resume_check(record, other)


def test_code_comparison__masks_only_immutable_slots():
    # PUSH32 <zeros> (an immutable), PUSH1 0x01, PUSH32 <non-zero literal>
    artifact = bytes([0x7F]) + bytes(32) + bytes([0x60, 0x01, 0x7F]) + bytes([0xAB] * 32)
    assert sum(immutable_mask(artifact)) == 32
    deployed = bytes([0x7F]) + bytes([0x11] * 32) + artifact[33:]
    assert code_difference(artifact, deployed) is None
    tampered = deployed[:34] + bytes([0x02]) + deployed[35:]
    expected = "runtime code differs from the artifact at byte 34 (outside the immutables)"
    assert code_difference(artifact, tampered) == expected
    assert "bytes, the artifact" in code_difference(artifact, deployed + b"\x00")


def test_verify__contracts_the_engine_creates__code_and_shared_immutables_checked(project):
    """The engine's modules (run by DELEGATECALL in the engine's storage) and its validator sit
    at addresses the engine's immutables hold, which the code comparison masks: verification
    checks their own code, and that each module's immutables are the engine's."""
    from chainio.verify import CREATED, _created_differences

    def runtime(contract: str) -> bytes:
        return bytes(getattr(project, contract).contract_type.runtime_bytecode.to_bytes())

    class Views:
        def __init__(self, values: dict) -> None:
            self.values = values

        def call(self, getter: str, *args: Any) -> Any:
            return self.values[getter]

    shared = {"collateral": "0xC", "oracle": "0xO", "pool": "0xP", "insuranceFund": "0xI", "safetyModule": "0xS"}
    shared |= {"notionalScale": 10**30, "marketParamsValidator": "0xV"}
    engine = Views({**shared, "liquidationModule": "0xL", "adlModule": "0xA"})
    modules = {"0xL": Views(dict(shared)), "0xA": Views(dict(shared))}
    code = {"0xL": runtime("LiquidationModule"), "0xA": runtime("AdlModule"), "0xV": runtime("MarketParamsValidator")}

    def check() -> list[str]:
        return _created_differences(
            "engine", CREATED["PerpEngine"], engine, lambda a: code.get(a, b""), lambda c, a: modules.get(a), runtime
        )

    assert check() == []
    modules["0xA"].values["pool"] = "0xEvil"
    assert check() == ["engine.adlModule (AdlModule).pool = '0xEvil', engine's is '0xP'"]
    modules["0xA"].values["pool"] = "0xP"
    at = immutable_mask(code["0xL"]).index(False, 100)  # a byte outside the immutables
    code["0xL"] = code["0xL"][:at] + bytes([code["0xL"][at] ^ 1]) + code["0xL"][at + 1 :]
    del code["0xV"]
    assert check() == [
        f"engine.liquidationModule (LiquidationModule) at 0xL: runtime code differs from the artifact at byte {at} "
        "(outside the immutables)",
        "engine.marketParamsValidator (MarketParamsValidator): no code at 0xV",
    ]


def _user(ledger, who: str, amount: int) -> None:
    ledger.mint_and_approve(who, amount)


def _recording_sender(ledger, keeper: str) -> tuple[list[tuple], Any]:
    """A keeper's `send` that runs each transaction through the ledger (model == chain checked),
    requires it to succeed, and records (function, args)."""
    sent: list[tuple] = []

    def send(function, args):
        sent.append((function, args))
        assert not ledger.act(keeper, "engine", function, *args).reverted
        return "0x"

    return sent, send


def test_money__exact_dollars_and_decimals():
    assert usd(5_521_130_473, 6) == "$5,521.130473" and usd(-1_500_000, 6) == "-$1.50" and usd(0, 6) == "$0.00"
    assert decimal(10 * WAD, 18, 0) == "10" and decimal(3_610, 2) == "36.10" and decimal(12_345, 0) == "12,345"
    before = Summary(iterations=1, liquidated=1)
    after = Summary(iterations=2, liquidated=3, failed=1)
    assert after.heartbeat(77, 4, before, 0.31) == (
        "pass 2 at block 77: 4 open position(s), 2 liquidated, 0 ADL step(s), 0 bound(s), 1 failed (0.3 s)"
    )


def test_keeper__liquidates_only_what_pays_and_finds_positions_from_events(make_ledger, rpc):
    ledger = make_ledger(default_config())
    _, lp, trader, healthy, keeper = ledger.actors[:5]
    _user(ledger, lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    for who, margin in ((trader, 3_100 * USD), (healthy, 20_000 * USD)):
        _user(ledger, who, margin + FEE)
        opened = trade(ledger, who, 1, 10 * WAD, margin, 3_100 * WAD)  # submit, a round, a keeper fills
        assert not opened.reverted and cancel_reason(opened) is None
    ledger.advance(60)
    ledger.set_price(1, 2_750 * FEED)
    engine = ledger.deployment.contracts["engine"]
    positions = open_positions(rpc, engine, 0)
    assert sorted(positions) == sorted([(trader, 1), (healthy, 1)])

    sent: list[tuple] = []
    outcomes = []

    def send(function, args):
        sent.append((function, args))
        outcome = ledger.act(keeper, "engine", function, *args)  # model == chain checked
        assert not outcome.reverted, outcome.error
        outcomes.append(outcome)
        return Sent("0xfeed", tuple((event.name, tuple(event.values)) for event in outcome.events))

    reward = engine.call("previewLiquidation", trader, 1)[5]
    summary, lines = Summary(), []
    liquidation_pass(engine, positions, reward + 1, send, summary, lines.append)
    assert (sent, summary.unprofitable, summary.checked) == ([], 1, 2)
    assert lines[-1] == f"skip      {trader} market 1: reward {usd(reward, 6)} < gas cost {usd(reward + 1, 6)}"
    liquidation_pass(engine, positions, reward, send, summary, lines.append)
    assert sent == [("liquidate", (trader, 1))] and summary.liquidated == 1
    event = outcomes[-1].event("Liquidated")  # what the chain's event says, in dollars
    assert lines[-1].startswith(f"liquidated {trader} market 1: size 10 at {usd(event.execution_price, 18)}")
    assert f"reward {usd(event.keeper_reward, 6)}, penalty {usd(event.penalty, 6)}" in lines[-1]
    assert lines[-1].endswith("(events) tx 0xfeed") and summary.rewards == event.keeper_reward
    assert open_positions(rpc, engine, 0) == [(healthy, 1)]
    index = PositionIndex(rpc, engine, 0, chunk=3)  # many small eth_getLogs ranges, same answer
    assert index.refresh() == [(healthy, 1)] and index.next_block == int(rpc.request("eth_blockNumber"), 16) + 1


def test_keeper__adl_steps_follow_adl_plan_to_the_target(make_ledger, rpc):
    ledger = make_ledger(default_config(adl_trigger_bps=5_000, adl_target_bps=4_000))
    _, lp, t1, t2, t3, keeper = ledger.actors[:6]
    _user(ledger, lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    ledger.act(ledger.actors[0], "engine", "setAdlKeeper", keeper, True)  # ADL is a keeper role
    for trader, margin in ((t1, 40_000), (t2, 70_000), (t3, 120_000)):
        _user(ledger, trader, margin * USD + FEE)
        opened = trade(ledger, trader, 1, 100 * WAD, margin * USD, 3_100 * WAD)
        assert not opened.reverted and cancel_reason(opened) is None
    ledger.advance(60)
    ledger.set_price(1, 5_000 * FEED)
    engine = ledger.deployment.contracts["engine"]
    from pymodel.adl import adl_plan

    expected = adl_plan(ledger.system.c.engine, Env(keeper, ledger.now), 1, True)
    assert expected

    sent: list[tuple] = []

    def send(function, args):
        sent.append(args)
        assert not ledger.act(keeper, "engine", function, *args).reverted
        return "0x"

    summary, lines = Summary(), []
    adl_pass(rpc, engine, [1, 2], None, keeper, send, summary, lines.append)
    assert sent == [] and lines == ["ADL       market 1 long triggered: real feeds, no model plan"]
    adl_pass(rpc, engine, [1, 2], lambda: ledger.system, keeper, send, summary, lines.append)
    assert sent == [(account, 1, reduction) for account, reduction in expected]
    assert summary.adl_steps == len(expected)
    assert engine.call("sideProfitRatio", 1, True) <= 4_000
    adl_pass(rpc, engine, [1, 2], lambda: ledger.system, keeper, send, summary, lines.append)
    assert summary.adl_steps == len(expected)  # back under target: nothing more to do


def test_keeper__bound_left_by_a_closed_position__refreshed_to_the_exact_one(make_ledger, rpc):
    """A 10x long opened and closed leaves the long side's bankruptcy bound where it set it (the
    griefing path of docs/DESIGN.md, "Mark"); the keeper's pass lists the side's accounts and the
    bound comes back to what the open positions need, then the pass has nothing to do."""
    ledger = make_ledger(default_config())
    _, lp, risky, steady, short, keeper = ledger.actors[:6]
    _user(ledger, lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    for who, size, margin in (
        (steady, 10 * WAD, 20_000 * USD),
        (short, -5 * WAD, 20_000 * USD),
        (risky, 10 * WAD, 3_100 * USD),
    ):
        _user(ledger, who, margin + 2 * FEE)
        assert cancel_reason(trade(ledger, who, 1, size, margin, 3_100 * WAD if size > 0 else 2_900 * WAD)) is None
    engine = ledger.deployment.contracts["engine"]
    raised = engine.call("marketState", 1)[13]
    assert cancel_reason(close(ledger, risky, 1, 2_900 * WAD)) is None
    state = engine.call("marketState", 1)
    assert state[11] == 1 and state[13] == raised  # one long left, the bound still the 10x long's
    from pymodel.engine import Position, bankruptcy_key

    exact = bankruptcy_key(Position(*engine.call("positionOf", steady, 1)), engine.call("notionalScale"))
    assert exact < raised
    sent, send = _recording_sender(ledger, keeper)

    summary, lines = Summary(), []
    positions = open_positions(rpc, engine, 0)
    bound_pass(engine, [1, 2], positions, send, summary, lines.append)
    assert sent == [("refreshBankruptcyBound", (1, True, [steady]))] and summary.bounds_refreshed == 1
    assert engine.call("marketState", 1)[13] == exact
    assert lines[-1].startswith(f"bound     market 1 long refreshed from {raised} to {exact} (1 positions)")
    bound_pass(engine, [1, 2], positions, send, summary, lines.append)
    assert len(sent) == 1  # exact now, and the short side was exact all along


def test_keeper__flag_left_set_after_the_ratio_fell__cleared_by_sync_adl(make_ledger, rpc):
    """An ADL step that stops above the target leaves the side's flag set; the price then falls
    back and the ratio sits under the target with nobody observing it. The stale flag would let
    ADL reopen anywhere above the target (below the trigger): the keeper's pass clears it."""
    ledger = make_ledger(default_config(adl_trigger_bps=5_000, adl_target_bps=4_000))
    _, lp, t1, t2, keeper = ledger.actors[:5]
    _user(ledger, lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    ledger.act(ledger.actors[0], "engine", "setAdlKeeper", keeper, True)
    for trader in (t1, t2):
        _user(ledger, trader, 70_000 * USD + FEE)
        assert cancel_reason(trade(ledger, trader, 1, 100 * WAD, 70_000 * USD, 3_100 * WAD)) is None
    ledger.advance(60)
    ledger.set_price(1, 5_000 * FEED)
    engine = ledger.deployment.contracts["engine"]
    assert engine.call("sideProfitRatio", 1, True) > 5_000
    assert not ledger.act(keeper, "engine", "autoDeleverage", t1, 1, WAD).reverted  # a small step
    assert engine.call("marketState", 1)[9] and engine.call("sideProfitRatio", 1, True) > 4_000
    ledger.advance(60)
    ledger.set_price(1, 3_500 * FEED)
    assert engine.call("sideProfitRatio", 1, True) <= 4_000 and engine.call("marketState", 1)[9]

    sent, send = _recording_sender(ledger, keeper)

    summary, lines = Summary(), []
    adl_pass(rpc, engine, [1, 2], lambda: ledger.system, keeper, send, summary, lines.append)
    assert sent == [("syncAdl", (1, True))] and summary.adl_flags_cleared == 1 and summary.adl_steps == 0
    assert not engine.call("marketState", 1)[9] and not ledger.system.c.engine.market_state(1).adl_long_active
    ledger.advance(60)
    ledger.set_price(1, 4_600 * FEED)  # back between target and trigger: ADL stays closed now
    ratio = engine.call("sideProfitRatio", 1, True)
    assert 4_000 < ratio <= 5_000
    refused = ledger.act(keeper, "engine", "autoDeleverage", t2, 1, WAD)
    assert refused.error == ("AdlNotTriggered", (1, True, ratio, 5_000))
    adl_pass(rpc, engine, [1, 2], lambda: ledger.system, keeper, send, summary, lines.append)
    assert len(sent) == 1  # nothing stale, nothing triggered


def test_lock_lists_every_platform_package_so_npm_ci_never_rewrites_it():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    packages = lock["packages"]
    for tool in ("anvil", "cast"):
        optional = packages[f"node_modules/@foundry-rs/{tool}"]["optionalDependencies"]
        assert f"@foundry-rs/{tool}-linux-amd64" in optional
        missing = [name for name in optional if f"node_modules/{name}" not in packages]
        assert missing == [], f"npm would add {missing} to the lock"
    assert "npm ci " in (ROOT / "toolchain/install.sh").read_text()


def test_prices__exact_answers_from_decimal_strings(tmp_path):
    from chainio.prices import answer_of, builtin_answers, csv_rows

    assert answer_of("2500", 8) == 2500 * FEED
    assert answer_of("2412.12345678", 8) == 241_212_345_678
    assert answer_of("0.1", 18) == 10**17  # no float on the way: 0.1 is exact
    for bad, message in (("1.123456789", "more than the feed's 8 decimals"), ("-5", "not a plain"), ("0", "positive")):
        with pytest.raises(OperatorError, match=message):
            answer_of(bad, 8)
    (tmp_path / "p.csv").write_text("timestamp,price\n0,3000\n60,2950.5\n")
    assert csv_rows(tmp_path / "p.csv") == [(0, "3000"), (60, "2950.5")]
    (tmp_path / "q.csv").write_text("0,3000\n0,2950\n")
    with pytest.raises(OperatorError, match="line 2: timestamps must increase strictly"):
        csv_rows(tmp_path / "q.csv")
    assert builtin_answers(3000 * FEED, "crash", 2, 500) == [2850 * FEED, 2700 * FEED]


def test_mocks_off_the_local_chain__pushers_only_and_a_capped_faucet():
    """The model's side of the testnet mocks (the chain's: test_rehearsal.py, chain 11155111):
    a stranger's round is `NotPusher`, a granted pusher's lands; the faucet refuses more than
    1,000,000 tokens a call and 10,000,000 to one recipient, naming what the cap allows."""
    from pymodel.core import EventLog
    from pymodel.erc20 import FaucetCapExceeded, MockStablecoin
    from pymodel.mock_price_feed import MockPriceFeed, NotPusher

    deployer, pusher, stranger = ("0x" + c * 40 for c in "abc")
    feed = MockPriceFeed("0x" + "f" * 40, EventLog(), Env(deployer, 100), 8, 3_000 * FEED, chain_id=11155111)
    with pytest.raises(NotPusher) as refused:
        feed.set_answer(Env(stranger, 101), 1)
    assert refused.value.caller == stranger
    with pytest.raises(NotPusher):
        feed.set_pusher(Env(pusher, 101), pusher, True)  # only the deployer grants
    feed.set_pusher(Env(deployer, 101), pusher, True)
    feed.set_answer(Env(pusher, 102), 2_900 * FEED)
    feed.set_round_data(Env(deployer, 103), 2_800 * FEED, 90)
    assert feed.latest_round_data()[:2] == (3, 2_800 * FEED) and feed.is_pusher(pusher)
    open_feed = MockPriceFeed("0x" + "e" * 40, EventLog(), Env(deployer, 100), 8, 1)
    open_feed.set_answer(Env(stranger, 101), 2)  # the local chain: anyone (the harness)

    token = MockStablecoin("0x" + "d" * 40, EventLog(), "Mock USD", "mUSD", 6, chain_id=11155111)
    with pytest.raises(FaucetCapExceeded) as per_call:
        token.mint(Env(stranger, 1), stranger, 1_000_000 * USD + 1)
    assert (per_call.value.amount, per_call.value.limit) == (1_000_000 * USD + 1, 1_000_000 * USD)
    for _ in range(10):
        token.mint(Env(stranger, 1), stranger, 1_000_000 * USD)
    with pytest.raises(FaucetCapExceeded) as per_account:
        token.mint(Env(pusher, 1), stranger, 1)
    assert per_account.value.limit == 0 and token.minted_to(stranger) == 10_000_000 * USD
    token.mint(Env(stranger, 1), pusher, 5 * USD)  # another recipient has its own cap
    local = MockStablecoin("0x" + "c" * 40, EventLog(), "Mock USD", "mUSD", 6)
    local.mint(Env(stranger, 1), stranger, 10**30)  # uncapped on the local chain


def test_status__views_in_plain_data_and_the_adl_queue_quantile(make_ledger, rpc):
    """`ape run status`'s snapshot on a ledger deployment: the views as the chain answers them,
    the model's ADL ranking as 1..5 lights (the leader 5), a losing position 0."""
    from chainio.status import adl_lights, render, snapshot
    from pymodel.adl import adl_ranking

    assert [adl_lights(rank, 5) for rank in range(5)] == [5, 4, 3, 2, 1] and adl_lights(0, 1) == 5
    ledger = make_ledger(default_config())
    _, lp, t1, t2, short = ledger.actors[:5]
    _user(ledger, lp, 1_000_000 * USD)
    ledger.act(lp, "pool", "deposit", 1_000_000 * USD, lp)
    opens = ((t1, 10 * WAD, 4_000 * USD), (t2, 10 * WAD, 20_000 * USD), (short, -5 * WAD, 9_000 * USD))
    for who, size, margin in opens:
        _user(ledger, who, margin + FEE)
        assert cancel_reason(trade(ledger, who, 1, size, margin, 3_100 * WAD if size > 0 else 2_900 * WAD)) is None
    ledger.advance(60)
    ledger.set_price(1, 3_300 * FEED)
    contracts = ledger.deployment.contracts
    engine = contracts["engine"]

    def ranking(market_id, is_long):
        return [c.account for c in adl_ranking(ledger.system.c.engine, Env(t1, ledger.now), market_id, is_long)]

    positions = open_positions(rpc, engine, 0)
    data = snapshot(contracts, [1, 2], positions, 6, ranking)
    by_account = {row["account"]: row for row in data["positions"]}
    assert by_account[t1]["adl_queue"] == 5 and by_account[t2]["adl_queue"] == 3  # higher leverage leads
    assert by_account[short]["adl_queue"] == 0  # losing: not in the queue
    assert by_account[t1]["liquidation_price"] == engine.call("liquidationPrice", t1, 1)
    market = data["markets"][0]
    assert (market["mark"], market["mark_status"], market["long_positions"]) == (3_300 * WAD, "live", 2)
    assert data["pool"]["cash"] == contracts["pool"].call("cash") and data["uncovered_deficit"] == 0
    lines = render(data)
    assert lines[0].startswith("market 1: mark $3,300.00 (live, 1 fresh, 1 agreeing), long 20 (2 pos)")
    assert any(line.startswith(f"  {t1} market 1: size 10, margin $") and "ADL queue 5/5" in line for line in lines)
