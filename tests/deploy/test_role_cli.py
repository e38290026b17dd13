"""The role CLIs (`ape run trade`, `ape run lp`, `ape run stake`) on the rehearsal node: one
scenario that deposits, stakes, submits and shows through the real commands and a keyfile
account; then the refusals, each one line naming its error, exit code 2, nothing sent.

An `ape run` costs seconds of startup, so the shows and most refusals call the scripts' command
functions in this process (the same code after ape connects: views over the lean JSON-RPC
path); one refusal goes through `ape run` to pin the exit code and the one line on stderr."""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from chainio import deploy_record
from chainio.cli import Refused, units
from chainio.project import lean, project_registry

pytestmark = pytest.mark.xdist_group("role-cli")

ROOT = Path(__file__).resolve().parents[2]
SEPOLIA = 11155111
USD = 10**6  # the config's collateral has 6 decimals
ETH = 10**18


@pytest.fixture(scope="module")
def deployed(node):
    """A complete deployment of the mocks config, and a trader holding $10,000 of collateral."""
    node.new_account("deployer", "correct horse", 100 * ETH)
    trader = node.new_account("trader", "battery staple", 10 * ETH)
    args = ("--account", "deployer", "--deployments", str(node.deployments), "--confirmations", "0")
    result = node.ape("deploy", "--config", "configs/sepolia-mocks.json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    from ape import project

    record = deploy_record.load(deploy_record.record_path(node.deployments, SEPOLIA))
    token = lean(node.rpc, project_registry(project), project.MockStablecoin, record.addresses["token"])
    node.rpc.request("anvil_impersonateAccount", [trader])
    token.transact("mint", trader, 10_000 * USD, sender=trader)
    node.rpc.request("anvil_stopImpersonatingAccount", [trader])
    return node


def role(node, *args: str):
    return node.ape(*args, "--account", "trader", "--deployments", str(node.deployments))


def ok_json(result) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def script(name: str):
    """scripts/<name>.py as a module (its `preflight()` sees no `--network` here: a no-op)."""
    spec = importlib.util.spec_from_file_location(f"role_cli_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def in_process(node, name: str, action: str, **options):
    """The command `ape run <name> <action>` runs once connected, on the node, as the trader."""
    module = script(name)
    module.chain = SimpleNamespace(provider=SimpleNamespace(chain_id=SEPOLIA, uri=node.url))
    module.accounts = SimpleNamespace(test_accounts=[SimpleNamespace(address=node.addresses["trader"])])
    callback = module.cli.callback
    given = {p.name: p.default for p in module.cli.params if p.name in inspect.signature(callback).parameters}
    given |= {"action": action, "alias": "TEST::0", "directory": node.deployments, "as_json": True} | options
    return callback(**given)


def test_roles__deposit_stake_submit__shown_by_each_cli(deployed, capsys):
    node = deployed
    trader = node.addresses["trader"]
    deposit = ok_json(role(node, "lp", "deposit", "--amount", "1,000", "--json"))
    assert deposit["assets"] == 1_000 * USD and deposit["approve_tx"] is not None
    stake = ok_json(role(node, "stake", "stake", "--amount", "100.5", "--json"))
    assert stake["assets"] == 100_500_000 and stake["shares"] > 0
    submit = ok_json(
        role(node, "trade", "submit", "--market", "1", "--size", "0.5", "--margin", "500",
             "--acceptable-price", "4000", "--json")
    )  # fmt: skip
    assert (submit["size_delta"], submit["margin"], submit["acceptable_price"]) == (ETH // 2, 500 * USD, 4000 * ETH)
    positions = ok_json(role(node, "trade", "positions", "--json"))
    (row,) = positions["positions"]
    assert row["size"] == 0 and row["order"]["size_delta"] == ETH // 2 and row["order"]["margin"] == 500 * USD

    capsys.readouterr()
    in_process(node, "lp", "show")
    lp = json.loads(capsys.readouterr().out)
    assert lp["shares"] == deposit["shares"] and 0 < lp["value"] <= 1_000 * USD and lp["request"] is None
    in_process(node, "stake", "show")
    staked = json.loads(capsys.readouterr().out)
    assert staked["shares"] == stake["shares"] and staked["value"] == 100_500_000 and staked["cooldown"] is None
    in_process(node, "trade", "positions", as_json=False)
    assert "pending order 0.5, margin $500.00, acceptable $4,000.00" in capsys.readouterr().out
    token = deploy_record.load(deploy_record.record_path(node.deployments, SEPOLIA)).addresses["token"]
    balance = node.cast("call", token, "balanceOf(address)(uint256)", trader)
    assert balance == [10_000 * USD - 1_000 * USD - 100_500_000 - 500 * USD - submit["execution_fee"]]


def test_roles__unknown_market_through_ape_run__one_line_exit_2_nothing_sent(deployed):
    node = deployed
    before = (node.head(), node.nonce(node.addresses["trader"]))
    result = role(node, "trade", "submit", "--market", "9", "--size", "1", "--acceptable-price", "4000")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        len(lines) == 1
        and lines[0].startswith("Error: MarketNotListed: market 9 is not listed")
        and lines[0].endswith("nothing sent")
    ), lines
    assert (node.head(), node.nonce(node.addresses["trader"])) == before, "something was sent"


REFUSALS = [
    ("trade", "submit", {"market_id": 1, "size_text": "1", "price_text": "4000"}, "OrderPending"),
    ("trade", "submit", {"market_id": 1, "size_text": "0", "price_text": "4000"}, "ZeroAmount"),
    ("trade", "submit", {"market_id": 1, "size_text": "1"}, "MissingPrice"),
    ("trade", "close", {"market_id": 1, "price_text": "1"}, "NoPosition"),
    ("trade", "cancel", {"market_id": 1}, "OrderNotExpired"),
    ("trade", "cancel", {"market_id": 7}, "MarketNotListed"),
    ("trade", "add-margin", {"market_id": 1, "amount_text": "10"}, "NoPosition"),
    ("trade", "remove-margin", {"market_id": 1, "amount_text": "-10"}, "NegativeAmount"),
    ("lp", "deposit", {"amount_text": "1,000,000"}, "InsufficientBalance"),
    ("lp", "deposit", {"amount_text": "1.0000001"}, "BadAmount"),
    ("lp", "request", {"shares_text": "10000000000"}, "InsufficientShares"),
    ("lp", "claim", {}, "NoRedeemRequest"),
    ("lp", "cancel", {}, "NoRedeemRequest"),
    ("stake", "stake", {"amount_text": "ten"}, "BadAmount"),
    ("stake", "redeem", {}, "NotInUnstakeWindow"),
    ("stake", "claim", {}, "NothingToClaim"),
]


@pytest.mark.parametrize(
    ("name", "action", "options", "error"), REFUSALS, ids=[f"{n} {a}: {e}" for n, a, _, e in REFUSALS]
)
def test_roles__bad_input__refused_by_name_exit_2_nothing_sent(deployed, name, action, options, error):
    node = deployed
    before = (node.head(), node.nonce(node.addresses["trader"]))
    with pytest.raises(Refused) as refused:
        in_process(node, name, action, **options)
    assert refused.value.name == error and refused.value.exit_code == 2
    assert "\n" not in refused.value.message and refused.value.message.endswith("nothing sent")
    assert (node.head(), node.nonce(node.addresses["trader"])) == before, "something was sent"


@pytest.mark.parametrize(
    ("text", "decimals", "signed", "value"),
    [
        ("1,250.5", 6, False, 1_250_500_000),
        ("0.000001", 6, False, 1),
        ("-0.25", 18, True, -(10**18) // 4),
        (".5", 2, False, 50),
    ],
)
def test_units__decimal_text__exact_integer(text, decimals, signed, value):
    assert units(text, decimals, "--amount", signed=signed) == value


@pytest.mark.parametrize(
    ("text", "error"),
    [("0", "ZeroAmount"), ("0.000", "ZeroAmount"), ("-1", "NegativeAmount"), ("1.0000001", "BadAmount"),
     ("1e6", "BadAmount"), ("", "BadAmount"), ("$5", "BadAmount")],
)  # fmt: skip
def test_units__bad_text__refused_by_name(text, error):
    with pytest.raises(Refused) as refused:
        units(text, 6, "--amount")
    assert refused.value.name == error and refused.value.exit_code == 2
