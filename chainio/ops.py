"""What every operator script (deploy, verify, keeper, push-prices) checks before it sends
anything: the config validates, the chain is the one the config names, the account unlocks
without a prompt and holds enough gas. Each refusal is an `OperatorError` with one clear line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chainio.deploy import Adopt, Call, Deploy, DeploymentConfig, Step

# Gas a step may use at most, for the balance check before anything is sent: a creation pays
# 32,000 + 16 per initcode byte + 200 per deployed byte + its constructor; the costliest wiring
# call, listMarket, writes a market's parameters (697,271 gas measured for the default market).
# The whole default deployment used 12.2M gas against a 22.1M bound.
CONSTRUCTOR_GAS = 600_000
CALL_GAS = 1_000_000


class OperatorError(Exception):
    """A refusal: nothing was sent."""


def load_config(path: Path) -> DeploymentConfig:
    try:
        return DeploymentConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OperatorError(f"config {path} does not exist") from None
    except ValidationError as error:
        lines = [f"  {'.'.join(str(p) for p in e['loc']) or '(config)'}: {e['msg']}" for e in error.errors()]
        raise OperatorError(f"config {path} is invalid, nothing sent:\n" + "\n".join(lines)) from None


def check_chain(config_chain_id: int, provider_chain_id: int, what: str) -> None:
    if config_chain_id != provider_chain_id:
        raise OperatorError(
            f"{what} is for chain id {config_chain_id} but the connected network has chain id "
            f"{provider_chain_id}: refusing, nothing sent"
        )


def passphrase_variable(alias: str) -> str:
    """ape's own variable (`KeyfileAccount.unlock` reads it too)."""
    return f"APE_ACCOUNTS_{alias}_PASSPHRASE"


def load_account(accounts: Any, alias: str) -> Any:
    """A keyfile account unlocked from its passphrase variable, signing without prompts.
    `TEST::<n>` is ape's n-th test account (local chains only)."""
    if alias.startswith("TEST::"):
        return accounts.test_accounts[int(alias.removeprefix("TEST::"))]
    from ape.exceptions import AccountsError

    try:
        account = accounts.load(alias)
    except (IndexError, KeyError, AccountsError):
        raise OperatorError(f"no account {alias!r}: import it with `ape accounts import {alias}`") from None
    variable = passphrase_variable(alias)
    passphrase = os.environ.get(variable)
    if not passphrase:
        raise OperatorError(f"set {variable} to the passphrase of account {alias!r} (no prompts): nothing sent")
    try:
        account.set_autosign(True, passphrase=passphrase)
    except AccountsError:
        raise OperatorError(f"{variable} does not unlock account {alias!r}: nothing sent") from None
    return account


def gas_budget(project: Any, steps: list[Step]) -> int:
    """An upper bound on the gas of `steps` (see CONSTRUCTOR_GAS, CALL_GAS)."""
    total = 0
    for step in steps:
        if isinstance(step, Deploy):
            contract_type = getattr(project, step.contract).contract_type
            initcode = len(bytes(contract_type.deployment_bytecode.to_bytes())) + 32 * 8
            runtime = len(bytes(contract_type.runtime_bytecode.to_bytes()))
            total += 32_000 + 16 * initcode + 200 * runtime + CONSTRUCTOR_GAS
        elif isinstance(step, Call):
            total += CALL_GAS
        else:
            assert isinstance(step, Adopt)
    return total


def check_funds(balance: int, gas: int, gas_price: int, who: str) -> int:
    """Refuses when `balance` cannot pay `gas` at twice the current price; returns the cost."""
    cost = gas * gas_price * 2
    if balance < cost:
        raise OperatorError(
            f"{who} holds {_eth(balance)} ETH but may need up to {gas:,} gas at {2 * gas_price:,} wei "
            f"({_eth(cost)} ETH): fund it first, nothing sent (send it at least {_eth(cost - balance)} ETH)"
        )
    return cost


def _eth(wei: int) -> str:
    """Wei as ETH, exactly, without trailing zeros."""
    whole, fraction = divmod(wei, 10**18)
    digits = f"{fraction:018d}".rstrip("0")
    return f"{whole:,}" + (f".{digits}" if digits else "")
