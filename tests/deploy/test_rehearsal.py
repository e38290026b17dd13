"""The testnet rehearsal: `ape run deploy` (killed at chosen points, resumed each time, then in
two instalments), `verify-deployment`, a
scenario through the operator scripts, and the chain read back with Foundry's `cast` equal to
what `pymodel` predicts from the same transactions, to the wei. Refusals send nothing.

The tests share one node and run in order (one xdist group)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from eth_utils import keccak, to_checksum_address

from chainio import deploy_record
from chainio.contract import ChainRevert, LeanContract
from chainio.deploy import OWNED, Call, contract_of, plan, resolve
from chainio.deploy_tx import create_address
from chainio.history import decoders_for, last_deployment_block, model_of_deployment, replay_history
from chainio.ops import load_config
from chainio.project import lean, project_registry
from chainio.verify import code_difference
from difftest.ledger import _model_view
from pymodel.evm import UINT256_MAX

pytestmark = pytest.mark.xdist_group("rehearsal")

ROOT = Path(__file__).resolve().parents[2]
SEPOLIA = 11155111
CONFIG = "configs/sepolia-mocks.json"
USD = 10**6  # the config's collateral has 6 decimals
ETH = 10**18


def record(node) -> deploy_record.DeploymentRecord:
    loaded = deploy_record.load(deploy_record.record_path(node.deployments, SEPOLIA))
    assert loaded is not None
    return loaded


def deploy(node, *extra: str, config: str = CONFIG, account: str = "deployer", env=None):
    args = ("deploy", "--config", config, "--account", account, "--deployments", str(node.deployments))
    return node.ape(*args, "--confirmations", "0", *extra, env=env)


def deploy_args(node, config: str = CONFIG) -> tuple[str, ...]:
    return ("deploy", "--config", config, "--account", "deployer", "--deployments", str(node.deployments))


def assert_refused(node, result, message: str, before: tuple[int, int]) -> None:
    assert result.returncode != 0, result.stdout
    assert message in result.stderr + result.stdout, result.stderr
    assert (node.head(), node.nonce(node.addresses["deployer"])) == before, "something was sent"


def submit_open(router: LeanContract, trader: str, market_id: int, size: int, margin: int) -> None:
    """The scenario's trades are two-step orders (SPEC §5a): submitted here, filled by a keeper at
    the first round observed at least `minExecutionDelay` later."""
    limit = UINT256_MAX if size > 0 else 0
    router.transact("submitOrder", market_id, size, margin, limit, sender=trader)


def push_prices(node, tmp_path: Path, csv: str) -> None:
    (tmp_path / "prices.csv").write_text(f"timestamp,price\n{csv}\n")
    push = node.ape(
        "push-prices", "--account", "deployer", "--deployments", str(node.deployments), "--market", "1",
        "--csv", str(tmp_path / "prices.csv"), "--delay", "0", "--confirmations", "0",
    )  # fmt: skip
    assert push.returncode == 0, push.stdout + push.stderr


def test_refusals_send_nothing(node):
    """Through the real CLI: a config for another chain, an account that cannot pay. (Invalid
    configs and a missing passphrase are refused before any of this: tests/deploy/test_ops.py.)"""
    node.new_account("deployer", "correct horse", 100 * ETH)
    node.new_account("poor", "battery staple", 10**12)
    before = (node.head(), node.nonce(node.addresses["deployer"]))

    result = deploy(node, config="configs/base-sepolia.json")
    assert_refused(node, result, "is for chain id 84532 but the connected network has chain id 11155111", before)

    result = deploy(node, account="poor")
    assert_refused(node, result, "fund it first, nothing sent", before)

    # ape's `Invalid uri: ${SEPOLIA_RPC_URL}` traceback, now one line before ape connects.
    unset = {k: v for k, v in node.env.items() if k != "SEPOLIA_RPC_URL"}
    result = deploy(node, env=unset)
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        "Error: set SEPOLIA_RPC_URL to an RPC URL of ethereum:sepolia:node (ape-config.yaml reads it): nothing sent"
    ]
    assert node.nonce(node.addresses["poor"]) == 0
    assert not node.deployments.exists() or not list(node.deployments.iterdir())


# Where the deploy is killed on its way (`chainio.deploy_tx.kill_point`): (phase, step index,
# signal). `sent` at step 0: the token mined, not recorded (a resume once deployed a second
# one); `sent` at 11: `pool.setEngine` mined, not recorded (every resume failed
# `EngineAlreadySet`); `signed`: recorded, never broadcast; `boundary`: between two steps.
KILLS = [("sent", 0, "KILL"), ("signed", 4, "TERM"), ("boundary", 9, "KILL"), ("sent", 11, "TERM")]


def test_deploy_killed_anywhere_resumes_then_is_a_no_op(node):
    """The kill-and-resume matrix on the rehearsal node, then an instalment (`--max-steps`) and
    the rest, without `--confirmations` (the automining node needs none: the default is 0)."""
    steps = len(plan(load_config(ROOT / CONFIG)))  # every step sends one transaction (all mocks)
    deployer = node.addresses["deployer"]
    for phase, index, signal in KILLS:
        env = node.env | {"PERP_DEPLOY_KILL": f"{phase}:{index}:{signal}"}
        killed = node.ape(*deploy_args(node), env=env)
        assert killed.returncode != 0, killed.stdout
        if signal == "TERM":
            assert "run the same command again to resume" in killed.stderr, killed.stderr
        rec = record(node)
        recorded = [s.index for s in rec.steps]
        assert recorded == list(range(index + 1 if phase == "boundary" else index)), (phase, index, recorded)
        assert (rec.pending is not None) == (phase != "boundary")
        if phase == "sent":
            assert node.nonce(deployer) == index + 1, "the killed step's transaction landed"
    first = node.ape(*deploy_args(node), "--max-steps", "4")  # the reconciled step 11, then 4 more
    assert first.returncode == 0, first.stderr
    assert "reconciled step 11" in first.stdout  # from its receipt, not sent again
    assert f"stopped after step 16 of {steps}" in first.stdout
    half = record(node)
    assert (len(half.steps), half.complete, half.pending) == (16, False, None)

    second = node.ape(*deploy_args(node))
    assert second.returncode == 0, second.stderr
    done = record(node)
    assert done.complete and [s.index for s in done.steps] == list(range(steps))
    assert done.steps[:16] == half.steps  # resumed, not redone
    # One transaction per step, each recorded: no duplicate, no orphaned contract.
    assert node.nonce(deployer) == steps
    hashes = [s.tx_hash for s in done.steps]
    assert len(set(hashes)) == steps and None not in hashes
    nonces = [int(node.rpc.request("eth_getTransactionByHash", [h])["nonce"], 16) for h in hashes]
    assert nonces == list(range(steps))
    for s, nonce in zip(done.steps, nonces, strict=True):
        if s.step.startswith("deploy "):
            assert s.address == create_address(deployer, nonce)
    assert done.deployer == deployer and len(done.git_commit) == 40
    assert done.compiler["version"].startswith("0.8.28") and done.config_hash.startswith("0x")

    before = (node.head(), node.nonce(deployer))
    again = deploy(node)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert (node.head(), node.nonce(deployer)) == before

    other = deploy(node, config="configs/sepolia.json")
    assert_refused(node, other, "records a deployment of another config", before)
    assert "changed fields:" in other.stderr and '  feeds.1: null -> "0x694AA1769357215DE4FAC081bf1f309aDC325306"' in (
        other.stderr
    )
    assert "--target oracle --function setOracle --args '[1, [[0, \"0x694AA" in other.stderr


def test_verify_deployment(node):
    result = node.ape("verify-deployment", "--deployments", str(node.deployments))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"verified: {len(plan(load_config(ROOT / CONFIG)))} steps" in result.stdout
    out = node.deployments / str(SEPOLIA)
    standard = json.loads((out / "standard-json" / "PerpEngine.json").read_text())
    assert standard["language"] == "Solidity" and "contracts/engine/PerpEngine.sol" in standard["sources"]
    assert standard["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    arguments = json.loads((out / "constructor-args.json").read_text())
    assert arguments["engine"]["address"] == record(node).addresses["engine"]
    # ABIs and addresses for cast, ethers, viem: plain ABI arrays, one per contract of the record.
    listing = json.loads((out / "addresses.json").read_text())
    assert listing["contracts"]["engine"]["address"] == record(node).addresses["engine"]
    assert listing["timelock"] == record(node).addresses["timelock"]
    engine_abi = json.loads((out / "abi" / "engine.json").read_text())
    assert {"liquidate", "positionOf"} <= {item.get("name") for item in engine_abi}

    # What an explorer compiles from the input is the deployed code (the metadata hash included).
    solc = ROOT / ".toolchain/solc/solc-v0.8.28"
    source = (out / "standard-json" / "InsuranceFund.json").read_text()
    compiled = subprocess.run([str(solc), "--standard-json"], input=source, capture_output=True, text=True, check=True)
    output = json.loads(compiled.stdout)["contracts"]["contracts/InsuranceFund.sol"]["InsuranceFund"]
    address = record(node).addresses["insuranceFund"]
    deployed = node.rpc.request("eth_getCode", [address, "latest"])
    artifact = "0x" + output["evm"]["deployedBytecode"]["object"]
    assert code_difference(bytes.fromhex(artifact[2:]), bytes.fromhex(deployed[2:])) is None
    assert artifact[-106:] == deployed[-106:]  # the metadata hash and solc version, byte for byte


def test_scenario_matches_the_model_to_the_wei(node, project, tmp_path):
    rec = record(node)
    a = rec.addresses
    registry = project_registry(project)
    token = lean(node.rpc, registry, project.MockStablecoin, a["token"])
    pool = lean(node.rpc, registry, project.LPPool, a["pool"])
    sm = lean(node.rpc, registry, project.SafetyModule, a["safetyModule"])
    engine = lean(node.rpc, registry, project.PerpEngine, a["engine"])
    lp, staker, long_trader, short_trader = node.rpc.request("eth_accounts")[1:5]
    lp, staker, long_trader, short_trader = map(to_checksum_address, (lp, staker, long_trader, short_trader))

    execution_fee = lean(node.rpc, registry, project.OrderRouter, a["orderRouter"]).call("executionFee")
    # Users act through the node's own unlocked accounts; the operator scripts sign with the keyfile.
    for user, amount, spender in (
        (lp, 1_000_000 * USD, a["pool"]),
        (staker, 10_000 * USD, a["safetyModule"]),
        (long_trader, 10_000 * USD + execution_fee, a["orderRouter"]),
        (short_trader, 5_000 * USD + execution_fee, a["orderRouter"]),
    ):
        token.transact("mint", user, amount, sender=user)
        token.transact("approve", spender, UINT256_MAX, sender=user)
    pool.transact("deposit", 1_000_000 * USD, lp, sender=lp)
    sm.transact("stake", 10_000 * USD, sender=staker)
    router = lean(node.rpc, registry, project.OrderRouter, a["orderRouter"])
    submit_open(router, long_trader, 1, 30 * ETH, 10_000 * USD)  # $90,000 at $3,000
    submit_open(router, short_trader, 1, -10 * ETH, 5_000 * USD)
    time.sleep(router.call("minExecutionDelay") + 1)  # a testnet's clock: the node mines at wall time
    push_prices(node, tmp_path, "0,3000")  # the round that fills the orders (same price)
    for trader in (long_trader, short_trader):
        router.transact("executeOrder", trader, 1, [], [], sender=lp)  # any keeper
        assert engine.call("positionOf", trader, 1)[0] != 0, "the order filled"
    push_prices(node, tmp_path, "0,2500")  # the crash
    keeper = node.ape(
        "keeper", "--account", "deployer", "--deployments", str(node.deployments), "--once", "--confirmations", "0"
    )
    assert keeper.returncode == 0, keeper.stdout + keeper.stderr
    assert "1 liquidated" in keeper.stdout and "bad debt" in keeper.stdout, keeper.stdout
    assert "orders    pass 1 at " in keeper.stdout, keeper.stdout  # the order keeper's heartbeat

    # The model's prediction: the recorded deployment, then every transaction the chain ran.
    system = model_of_deployment(node.rpc, rec)
    replayed = replay_history(node.rpc, system, decoders_for(project, rec), last_deployment_block(rec) + 1)
    assert [r.function for r in replayed][-2:] == ["setAnswer", "liquidate"]
    assert all(r.chain_succeeded == (not r.outcome.reverted) for r in replayed)

    # The chain, read by an independent client.
    actors = [lp, staker, long_trader, short_trader, node.addresses["deployer"]]
    holders = [*actors, a["engine"], a["pool"], a["insuranceFund"], a["safetyModule"]]
    position = "(int256,uint256,uint256,int256,int256,uint256)"
    state = (
        "(bool,uint256,uint256,uint256,uint256,int256,uint256,int256,int256,bool,bool,uint256,uint256,int256,int256)"
    )
    queries = [("token", "totalSupply", (), "totalSupply()(uint256)")]
    queries += [("token", "balanceOf", (h,), "balanceOf(address)(uint256)") for h in holders]
    queries += [("pool", f, (), f"{f}()(uint256)") for f in ("totalSupply", "cash")]
    queries += [("pool", "balanceOf", (lp,), "balanceOf(address)(uint256)")]
    queries += [("insuranceFund", "bucketOf", (1,), "bucketOf(uint256)(uint256)")]
    queries += [("safetyModule", f, (), f"{f}()(uint256)") for f in ("totalAssets", "totalShares")]
    queries += [("engine", "socialisedLoss", (), "socialisedLoss()(uint256)")]
    queries += [("engine", "marketState", (1,), f"marketState(uint256){state}")]
    queries += [("engine", "positionOf", (t, 1), f"positionOf(address,uint256){position}") for t in actors[2:4]]
    for contract, function, args, signature in queries:
        chain_value = node.cast("call", a[contract], signature, *map(str, args))
        chain_value = chain_value[0] if len(chain_value) == 1 else chain_value
        model_value = _model_view(system.c, contract, function, args)
        model_value = list(model_value) if isinstance(model_value, tuple) else model_value
        assert chain_value == model_value, f"{contract}.{function}{args}: chain {chain_value} model {model_value}"

    # The waterfall's split, from the liquidation's receipt as cast reads it.
    debt = replayed[-1].outcome.event("BadDebtSettled")
    receipt = node.cast("receipt", replayed[-1].tx_hash)
    topic = "0x" + keccak(text="BadDebtSettled(address,uint256,uint256,uint256,uint256,uint256)").hex()
    engine_logs = [log for log in receipt["logs"] if log["address"].lower() == a["engine"].lower()]
    logs = [log for log in engine_logs if log["topics"][0] == topic]
    assert len(logs) == 1
    data = logs[0]["data"][2:]
    words = tuple(int(data[64 * i : 64 * (i + 1)], 16) for i in range(len(data) // 64))
    split = (debt.shortfall, debt.from_insurance, debt.from_safety_module, debt.from_pool)
    assert words == split, f"chain split {words} != model split {split}"
    assert debt.from_insurance > 0 and debt.from_safety_module > 0 and debt.from_pool > 0  # all three layers

    # `ape run status`: the same state through the operator's read-only CLI.
    status = node.ape("status", "--deployments", str(node.deployments), "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    shown = json.loads(status.stdout.splitlines()[-1])
    assert shown["safety_module"]["assets"] == sm.call("totalAssets") and shown["pool"]["cash"] == pool.call("cash")
    assert [(row["account"], row["adl_queue"]) for row in shown["positions"]] == [(short_trader, 5)]  # it won


def _json(value):
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    return "0x" + value.hex() if isinstance(value, bytes) else value


def timelock_cli(node, action: str, target: str, function: str, args: list, *extra: str):
    return node.ape(
        "timelock", action, "--account", "deployer", "--deployments", str(node.deployments),
        "--target", target, "--function", function, "--args", json.dumps(_json(args)), *extra,
    )  # fmt: skip


def test_owner_attacks_are_delayed_by_the_timelock(node, project):
    """Issue 19 item 5's `setOracle` to an owner-controlled feed: the deployer owns nothing any
    more; through the timelock the change is scheduled, and neither the CLI nor the chain runs it
    before the delay. The guardian pauses opens at once and can do nothing else."""
    rec = record(node)
    a = rec.addresses
    registry = project_registry(project)
    deployer = node.addresses["deployer"]
    config = load_config(ROOT / CONFIG)
    for name, contract in contract_of(plan(config)).items():
        if name in OWNED:
            assert lean(node.rpc, registry, getattr(project, contract), a[name]).call("owner") == a["timelock"]
    oracle = lean(node.rpc, registry, project.OracleAdapter, a["oracle"])
    timelock = lean(node.rpc, registry, project.Timelock, a["timelock"])
    assert timelock.call("getMinDelay") == config.timelock.min_delay == 3600

    step = next(s for s in plan(config) if isinstance(s, Call) and s.function == "setOracle")
    market, specs, params = resolve(step.args, {"deployer": deployer, **a})
    rogue = tuple((kind, a["feed2"], price_id, max_age) for kind, _, price_id, max_age in specs)  # BTC's feed
    with pytest.raises(ChainRevert) as direct:
        oracle.call("setOracle", market, rogue, params, sender=deployer)
    assert direct.value.name == "OwnableUnauthorizedAccount"

    scheduled = timelock_cli(node, "schedule", "oracle", "setOracle", [market, rogue, params])
    assert scheduled.returncode == 0, scheduled.stdout + scheduled.stderr
    assert "\nwaiting: oracle" in scheduled.stdout and "ready at" in scheduled.stdout
    before = (node.head(), node.nonce(deployer))
    early = timelock_cli(node, "execute", "oracle", "setOracle", [market, rogue, params])
    assert_refused(node, early, "is waiting until", before)
    data = bytes.fromhex(oracle.codec.encode_call("setOracle", (market, rogue, params))[2:])
    for sender in (deployer, a["engine"]):  # nobody, not even a proposer, runs it early
        with pytest.raises(ChainRevert) as on_chain:
            timelock.call("execute", a["oracle"], 0, data, bytes(32), bytes(32), sender=sender)
        assert on_chain.value.name == "TimelockUnexpectedOperationState"
    assert oracle.call("sourcesOf", 1)[0][1] == a["feed1"]

    engine = lean(node.rpc, registry, project.PerpEngine, a["engine"])
    engine.call("setOpensPaused", True, sender=config.guardian)  # the guardian: at once
    with pytest.raises(ChainRevert) as guardian:
        engine.call("setAdlParams", 6000, 4500, sender=config.guardian)
    assert guardian.value.name == "OwnableUnauthorizedAccount"


def test_mocks_on_a_testnet__pushers_only_and_a_capped_faucet(node, project):
    """Issue 21 item 6: a stranger cannot move a mock feed, the faucet is capped (the model's
    side of both rules: test_ops.py)."""
    a = record(node).addresses
    registry = project_registry(project)
    stranger = to_checksum_address(node.rpc.request("eth_accounts")[7])
    feed = lean(node.rpc, registry, project.MockPriceFeed, a["feed1"])
    with pytest.raises(ChainRevert) as moved:
        feed.call("setAnswer", 1, sender=stranger)
    assert moved.value.signature() == ("NotPusher", (stranger,))
    feed.call("setAnswer", 1, sender=node.addresses["deployer"])  # the deployer may
    assert feed.call("deployer") == node.addresses["deployer"] and not feed.call("isPusher", stranger)
    token = lean(node.rpc, registry, project.MockStablecoin, a["token"])
    with pytest.raises(ChainRevert) as minted:
        token.call("mint", stranger, 1_000_000 * USD + 1, sender=stranger)
    assert minted.value.signature() == ("FaucetCapExceeded", (stranger, 1_000_000 * USD + 1, 1_000_000 * USD))


def test_verify_names_each_difference(node):
    """A change made through the timelock (schedule, the delay, execute) is one the config does
    not know: verify-deployment names it."""
    scheduled = timelock_cli(node, "schedule", "engine", "setAdlParams", [6000, 4500])
    assert scheduled.returncode == 0, scheduled.stderr
    node.rpc.request("evm_increaseTime", [3600])
    node.rpc.request("evm_mine")
    executed = timelock_cli(node, "execute", "engine", "setAdlParams", [6000, 4500], "--json")
    assert executed.returncode == 0, executed.stderr
    assert json.loads(executed.stdout.splitlines()[-1])["state"] == "done"
    result = node.ape("verify-deployment", "--deployments", str(node.deployments), "--no-standard-json")
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "engine.adlTriggerBps() = 6000, expected 5000 (setAdlParams)" in output
    assert "engine.adlTargetBps() = 4500, expected 4000 (setAdlParams)" in output
    assert "2 difference(s)" in output
