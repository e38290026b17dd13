"""`ape run watch` on the rehearsal node: a deployment by `ape run deploy` (ape, the keyfile
account), a scenario sent by two other clients (the project's lean JSON-RPC code from the
node's unlocked accounts, and Foundry's `cast`, with the deployer's key for the feed), held to
the model block by block; then what it must catch: state changed with no transaction
(`anvil_setStorageAt`) and a feed the model has no model of swapped in with cast (`setFeed`).
And `simulate --from-deployment` on the book the scenario left.

The tests share one node and run in order (one xdist group)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from chainio import deploy_record
from chainio.project import lean, project_registry
from chainio.watch import Checkpoint, Divergence, watcher_for
from pymodel.evm import UINT256_MAX
from simulator.config import SimConfig
from simulator.from_chain import book_from_chain, book_from_checkpoint, simulate_deployment

pytestmark = pytest.mark.xdist_group("watch")

SEPOLIA = 11155111
CONFIG = "configs/sepolia-mocks.json"
USD = 10**6
ETH = 10**18
FEED = 10**8  # the config's ETH-USD feed has 8 decimals
ROOT = Path(__file__).resolve().parents[2]
CAST = ROOT / "node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
APE = ROOT / ".venv/bin/ape"


def record(node) -> deploy_record.DeploymentRecord:
    loaded = deploy_record.load(deploy_record.record_path(node.deployments, SEPOLIA))
    assert loaded is not None
    return loaded


def cast_send(node, to: str, *args: str, key: str | None = None, sender: str | None = None) -> dict:
    """`cast send` (a receipt as JSON), signed with `key` or from the node's unlocked `sender`;
    `to` = "--create" deploys the code in `args`."""
    who = ["--private-key", key] if key else ["--unlocked", "--from", sender]
    command = [str(CAST), "send", *who, "--rpc-url", node.url, "--json", to, *args]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def mine(node, seconds: int) -> None:
    node.rpc.request("evm_increaseTime", [seconds])
    node.rpc.request("evm_mine")


def default_checkpoint(node) -> Path:
    return node.deployments / str(SEPOLIA) / "watch.checkpoint.json"


def watch(node, *args: str) -> subprocess.CompletedProcess:
    return node.ape("watch", "--deployments", str(node.deployments), *args)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("watch")


@pytest.fixture(scope="module")
def deployed(node, project):
    node.new_account("deployer", "correct horse", 100 * ETH)
    args = ("deploy", "--config", CONFIG, "--account", "deployer", "--deployments", str(node.deployments))
    result = node.ape(*args, "--confirmations", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    rec = record(node)
    registry = project_registry(project)
    a = rec.addresses
    handles = {
        name: lean(node.rpc, registry, getattr(project, contract), a[name])
        for name, contract in (
            ("token", "MockStablecoin"),
            ("pool", "LPPool"),
            ("engine", "PerpEngine"),
            ("orderRouter", "OrderRouter"),
        )
    }
    return rec, handles


def test_scenario_from_lean_code_and_cast__watch_matches_to_the_wei(node, deployed, workdir, project):
    rec, h = deployed
    a = rec.addresses
    token, pool, engine, router = h["token"], h["pool"], h["engine"], h["orderRouter"]
    deployer_key = node.keys["deployer"]
    lp, staker, long_trader, short_trader, holder = map(to_checksum_address, node.rpc.request("eth_accounts")[1:6])
    fee = router.call("executionFee")

    # The project's code (raw JSON-RPC): the LP and the traders' orders.
    token.transact("mint", lp, 100_000 * USD, sender=lp)
    token.transact("approve", a["pool"], UINT256_MAX, sender=lp)
    pool.transact("deposit", 100_000 * USD, lp, sender=lp)
    for trader, margin in ((long_trader, 1_000 * USD), (short_trader, 2_000 * USD), (holder, 1_000 * USD)):
        token.transact("mint", trader, margin + fee, sender=trader)
        token.transact("approve", a["orderRouter"], UINT256_MAX, sender=trader)
    router.transact("submitOrder", 1, 3 * ETH, 1_000 * USD, UINT256_MAX, sender=long_trader)  # $9,000 at $3,000
    router.transact("submitOrder", 1, -1 * ETH, 2_000 * USD, 0, sender=short_trader)
    router.transact("submitOrder", 1, 2 * ETH, 1_000 * USD, UINT256_MAX, sender=holder)  # survives the crash

    # cast: the staker, the fill round (deployer key), the keeper's fills, a reverted liquidation.
    cast_send(node, a["token"], "mint(address,uint256)", staker, str(2_000 * USD), sender=staker)
    cast_send(node, a["token"], "approve(address,uint256)", a["safetyModule"], str(UINT256_MAX), sender=staker)
    cast_send(node, a["safetyModule"], "stake(uint256)", str(2_000 * USD), sender=staker)
    mine(node, 3)
    cast_send(node, a["feed1"], "setAnswer(int256)", str(3_000 * FEED), key=deployer_key)
    for trader in (long_trader, short_trader, holder):
        cast_send(
            node, a["orderRouter"], "executeOrder(address,uint256,uint80[],bytes[])", trader, "1", "[]", "[]", sender=lp
        )
    assert engine.call("positionOf", long_trader, 1)[0] == 3 * ETH
    healthy = cast_send(
        node, a["engine"], "liquidate(address,uint256)", long_trader, "1", "--gas-limit", "1000000", sender=lp
    )
    assert int(healthy["status"], 16) == 0  # PositionHealthy, on chain

    cast_send(node, a["feed1"], "setAnswer(int256)", str(2_640 * FEED), key=deployer_key)  # the crash
    engine.transact("liquidate", long_trader, 1, sender=lp)  # the project's code again: bad debt
    assert engine.call("positionOf", holder, 1)[0] == 2 * ETH and not engine.call("isLiquidatable", holder, 1)

    # The watcher, through the CLI, from the deployment block to the head.
    checkpoint = default_checkpoint(node)
    result = watch(node)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "match: blocks" in out and "every event and the state after every block equal to the model" in out
    assert "reverted PositionHealthy" in out
    liquidation = next(line for line in out.splitlines() if "LIQUIDATED" in line)
    assert "bad debt $" in liquidation and "= insurance $" in liquidation and "+ pool $" in liquidation, liquidation
    assert "open " in out and "stake $2,000.00" in out and "LP deposit $100,000.00" in out
    assert "risk at block" in out and "uncovered deficit" in out
    saved = Checkpoint.load(checkpoint)
    assert saved.next_block == node.head() + 1
    functions = [tx.contract + "." + bytes.fromhex(tx.input[2:10]).hex() for tx in saved.transactions]
    assert len(functions) == 22, functions  # every transaction above, cast's reverted one included

    # Resumable: half-way, then from that checkpoint to the head, equals the whole run.
    middle = saved.transactions[8].block
    first = watcher_for(project, node.rpc, rec)
    assert first.run(to_block=middle) == middle
    second = watcher_for(project, node.rpc, rec, first.checkpoint())
    assert second.resumed and second.next_block == middle + 1
    second.run()
    assert second.checkpoint().transactions == saved.transactions
    assert second.tracing is True  # return values and revert errors compared too


def _balance_slot(node, token: str, holder: str) -> int:
    """The storage slot of `balanceOf(holder)` (a Solidity mapping at some slot n < 10)."""
    balance = int(node.rpc.request("eth_call", [{"to": token, "data": "0x70a08231" + holder[2:].rjust(64, "0")}]), 16)
    for n in range(10):
        slot = int.from_bytes(keccak(encode(["address", "uint256"], [holder, n])), "big")
        if int(node.rpc.request("eth_getStorageAt", [token, hex(slot), "latest"]), 16) == balance:
            return slot
    raise AssertionError("no balance slot found")


def test_state_changed_without_a_transaction__caught_at_its_block(node, deployed, workdir, project):
    rec, _ = deployed
    a = rec.addresses
    checkpoint = Checkpoint.load(default_checkpoint(node))
    snapshot = node.rpc.request("evm_snapshot")
    try:
        slot = _balance_slot(node, a["token"], a["pool"])
        for _ in range(3):
            mine(node, 1)
        # Anvil writes into the head block's state: the change is the head's, as a reader sees it.
        node.rpc.request("anvil_setStorageAt", [a["token"], hex(slot), "0x" + "00" * 31 + "01"])
        changed = node.head()
        for _ in range(3):
            mine(node, 1)
        with pytest.raises(Divergence) as caught:
            watcher_for(project, node.rpc, rec, checkpoint).run()
        assert caught.value.block == changed and caught.value.tx_hash is None
        assert f"token.balanceOf/{a['pool']}: model=" in caught.value.what and "chain=1" in caught.value.what
    finally:
        node.rpc.request("evm_revert", [snapshot])


def test_simulate_from_deployment__a_gap_on_the_book_on_chain(node, deployed, workdir, project):
    """What a 20% gap with 120 s of oracle latency does to this deployment now: from the chain
    (held to the model up to the head), from the watcher's checkpoint offline, and by the CLI."""
    rec, h = deployed
    scenario = {
        "path": {"kind": "gbm", "sigma": 0.3, "drop": -0.2, "drop_start_s": 300, "drop_duration_s": 60},
        "oracle": {"sources": [{"heartbeat_s": 3600, "deviation_bps": 50, "latency": {"seconds": 120}}]},
        "keepers": {"gas_cost_usd": 0},
        "horizon_s": 1800,
        "paths": 3,
    }
    book = book_from_chain(project, node.rpc, rec)
    assert book.block == node.head() and len(book.traders(1)) == 2  # the short and the survivor
    report = simulate_deployment(SimConfig.model_validate(scenario), rec, book)
    summary = report.summary()
    assert summary["book"]["positions"] == 2 and summary["book"]["start_price"] == 2640.0
    assert summary["liquidations_per_path"] >= 1 and summary["distribution_usd"]["shortfall"]["max"] > 0
    # The gap starts at 300 s; its first round lands 120 s after it is published.
    assert all(r.liquidations[0].step * 60 >= 300 + 120 for r in report.results), [
        r.liquidations for r in report.results
    ]
    assert book.system.c.engine.position_of(book.traders(1)[1], 1).size == 2 * ETH  # paths ran on copies

    offline = book_from_checkpoint(project, rec, default_checkpoint(node))
    assert offline.block == book.block
    again = simulate_deployment(SimConfig.model_validate(scenario), rec, offline).summary()
    assert again["distribution_usd"] == summary["distribution_usd"]

    (workdir / "gap.json").write_text(json.dumps(scenario))
    command = [str(APE), "run", "simulate", "--config", str(workdir / "gap.json")]
    command += ["--from-deployment", str(default_checkpoint(node))]
    result = subprocess.run(command, env=node.env, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"from block {book.block}" in result.stdout and "bad debt (shortfall)" in result.stdout
    assert "exact tier" in result.stdout


def test_feed_swapped_behind_the_models_back__exit_1_with_block_tx_and_field(
    node, deployed, workdir, tmp_path, project
):
    rec, _ = deployed
    a = rec.addresses
    key = node.keys["deployer"]
    checkpoint = tmp_path / "watch.json"
    checkpoint.write_text((default_checkpoint(node)).read_text())
    initcode = project.MockPriceFeed.contract_type.deployment_bytecode.bytecode
    created = cast_send(node, "--create", initcode + encode(["uint8", "int256"], [8, 3_000 * FEED]).hex(), key=key)
    feed = to_checksum_address(created["contractAddress"])
    # The oracle's owner is the timelock: the swap is sent from it (impersonated), as an executed
    # proposal would call it; the model has no model of the new feed.
    timelock = a["timelock"]
    node.rpc.request("anvil_impersonateAccount", [timelock])
    node.rpc.request("anvil_setBalance", [timelock, hex(10**18)])
    swap = cast_send(node, a["oracle"], "setFeed(uint256,address,uint256)", "1", feed, "3600", sender=timelock)
    assert int(swap["status"], 16) == 1  # the chain took it

    result = watch(node, "--checkpoint", str(checkpoint))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    block = int(swap["blockNumber"], 16)
    assert f"DIVERGED at block {block}, tx {swap['transactionHash']}:" in out, out
    assert f"oracle.setFeed(1, '{feed}', 3600)" in out and f"no source model registered at {feed}" in out
    assert Checkpoint.load(checkpoint).next_block == block  # kept at the last block that matched
