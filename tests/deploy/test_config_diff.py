"""The changed-config refusal's body: which fields changed, and the setter (through the
timelock) that applies each to the running deployment."""

from __future__ import annotations

import json
from pathlib import Path

from chainio.config_diff import changed_fields, refusal_lines
from chainio.deploy import DeploymentConfig

ROOT = Path(__file__).resolve().parents[2]
ADDRESSES = {name: "0x" + f"{i:040x}" for i, name in enumerate(
    ["deployer", "token", "feed1", "feed2", "oracle", "pool", "insuranceFund", "safetyModule", "engine", "orderRouter",
     "timelock"], start=1)}  # fmt: skip


def configs(change) -> tuple[DeploymentConfig, DeploymentConfig]:
    raw = json.loads((ROOT / "configs/sepolia-mocks.json").read_text())
    old = DeploymentConfig.model_validate(raw)
    change(raw)
    return old, DeploymentConfig.model_validate(raw)


def test_changed_fields__each_leaf_with_old_and_new():
    assert changed_fields({"a": 1, "b": {"c": [1, 2]}}, {"a": 1, "b": {"c": [1, 3]}}) == ["b.c[1]: 2 -> 3"]


def test_fee_and_market_changes__named_with_the_timelock_command():
    def change(raw):
        raw["system"]["insurance_share_bps"] = 2500
        raw["system"]["markets"][0]["trading_fee_bps"] = 8
        raw["system"]["redeem_cooldown"] = 86400

    old, new = configs(change)
    lines = refusal_lines(old, new, ADDRESSES, "ethereum:sepolia:node", timelocked=True)
    assert "  system.insurance_share_bps: 2000 -> 2500" in lines
    assert "  system.markets[0].trading_fee_bps: 6 -> 8" in lines
    assert "  system.redeem_cooldown: 259200 -> 86400" in lines
    commands = [line for line in lines if "ape run timelock schedule" in line]
    assert any("--target engine --function setFeeShares --args '[2500, 1000]'" in c for c in commands)
    assert any("--target engine --function setMarketParams --args '[1, [" in c for c in commands)
    assert any("--target pool --function setRedeemTiming --args '[86400, 172800]'" in c for c in commands)
    assert len(commands) == 3 and not any("no setter" in line for line in lines)


def test_a_change_no_setter_applies__says_deploy_anew():
    old, new = configs(lambda raw: raw["system"].update(collateral_symbol="xUSD"))
    lines = refusal_lines(old, new, ADDRESSES, "ethereum:sepolia:node", timelocked=True)
    assert lines[1] == '  system.collateral_symbol: "mUSD" -> "xUSD"'
    assert any(line.startswith("  no setter for `deploy token = MockStablecoin(") for line in lines)
