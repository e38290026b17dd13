"""What the role CLIs (`ape run trade`, `ape run lp`, `ape run stake`) share: the deployment
recorded for the connected chain, the account, human units (dollars, prices and sizes as exact
decimals, never floats), one-line named refusals with exit code 2, and sends that are simulated
first (a revert is refused by its error's name, nothing sent).

Reads go through the lean JSON-RPC handles (`chainio.project.lean`); sends through ape's
contract instances signed by the ape account."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from chainio import RpcClient, deploy_record
from chainio.contract import ChainRevert, LeanContract
from chainio.deploy import contract_of, plan
from chainio.keeper import decimal, usd
from chainio.ops import OperatorError, check_chain, load_account
from chainio.project import lean, project_registry

PRICE_DECIMALS = 18  # the oracle's and the engine's prices
SIZE_DECIMALS = 18  # position sizes, in base units
UINT256_MAX = 2**256 - 1
ROLE_CONTRACTS = ("engine", "orderRouter", "pool", "safetyModule", "token")


class Refused(click.ClickException):
    """A refusal before anything is sent: `Error: <Name>: <detail>: nothing sent`, exit code 2."""

    exit_code = 2

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        super().__init__(f"{name}: {detail}: nothing sent")


def units(text: str, decimals: int, what: str, signed: bool = False) -> int:
    """`text` ("1,250.5", "-0.25") as an integer of `decimals` decimals, exactly; refuses zero,
    a negative unless `signed`, and more fractional digits than `decimals`."""
    found = re.fullmatch(r"(-?)(\d[\d,]*)?(?:\.(\d*))?", text.strip())
    if found is None or not (found.group(2) or found.group(3)):
        raise Refused("BadAmount", f"{what} {text!r} is not a decimal number")
    sign, whole, fraction = found.group(1), (found.group(2) or "0").replace(",", ""), found.group(3) or ""
    if len(fraction) > decimals:
        raise Refused("BadAmount", f"{what} {text!r} has more than {decimals} decimals")
    value = int(whole) * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    value = -value if sign else value
    if value == 0:
        raise Refused("ZeroAmount", f"{what} must not be zero")
    if value < 0 and not signed:
        raise Refused("NegativeAmount", f"{what} {text!r} must be positive")
    return value


def price(value: int) -> str:
    return usd(value, PRICE_DECIMALS) if value else "none"


def size(value: int) -> str:
    return decimal(value, SIZE_DECIMALS, 0)


@dataclass
class Role:
    """The deployment seen by one account: lean read handles, ape send handles, the collateral's
    decimals and the latest block's timestamp."""

    views: dict[str, LeanContract]
    containers: dict[str, Any]  # ape contract containers, for sends
    account: Any  # the ape account (None for read-only actions given an address only)
    address: str
    decimals: int
    now: int
    rpc: RpcClient

    def money(self, value: int) -> str:
        return usd(value, self.decimals)

    def amount(self, text: str | None, what: str) -> int:
        if text is None:
            raise Refused("MissingAmount", f"give {what}")
        return units(text, self.decimals, what)

    def check_balance(self, needed: int, what: str) -> None:
        held = self.views["token"].call("balanceOf", self.address)
        if held < needed:
            raise Refused(
                "InsufficientBalance", f"{what} needs {self.money(needed)}, {self.address} holds {self.money(held)}"
            )

    def approve(self, spender: str, needed: int, confirmations: int) -> str | None:
        """Approves `spender` (a record name) for `needed` when the allowance falls short."""
        token, target = self.views["token"], self.views[spender].address
        if token.call("allowance", self.address, target) >= needed:
            return None
        return self.send("token", "approve", target, needed, confirmations=confirmations)

    def simulate(self, name: str, function: str, *args: Any) -> Any:
        """eth_call from the account; a revert is refused by its error's name."""
        try:
            return self.views[name].call(function, *args, sender=self.address)
        except ChainRevert as revert:
            raise Refused(revert.name, f"{name}.{function} would revert {revert.name}{revert.args_}") from None

    def send(self, name: str, function: str, *args: Any, confirmations: int = 0) -> str:
        """Simulates, then sends and waits for the receipt; returns the transaction hash."""
        if self.account is None:
            raise OperatorError("give --account to send")
        self.simulate(name, function, *args)
        method = getattr(self.containers[name].at(self.views[name].address), function)
        receipt = method(*args, sender=self.account, required_confirmations=confirmations)
        tx = receipt.txn_hash
        return tx if isinstance(tx, str) else "0x" + bytes(tx).hex()


def open_role(
    chain: Any, project: Any, accounts: Any, directory: Path, alias: str | None, read_only: bool = False
) -> Role:
    """The recorded deployment of the connected chain, for `alias` (unlocked unless `read_only`)."""
    chain_id = chain.provider.chain_id
    path = deploy_record.record_path(directory, chain_id)
    record = deploy_record.load(path)
    if record is None or not record.complete:
        raise OperatorError(f"no complete deployment recorded for chain {chain_id} in {directory}: nothing sent")
    check_chain(record.chain_id, chain_id, f"record {path}")
    if alias is None:
        raise OperatorError("give --account (an ape account alias, or TEST::<n> on a local chain)")
    if read_only and not alias.startswith("TEST::"):
        account, address = None, _address_of(accounts, alias)
    else:
        account = load_account(accounts, alias)
        address = account.address
    types = contract_of(plan(record.deployment_config()))
    rpc = RpcClient(chain.provider.uri)
    registry = project_registry(project)
    containers = {name: getattr(project, types[name]) for name in ROLE_CONTRACTS}
    views = {name: lean(rpc, registry, c, record.addresses[name]) for name, c in containers.items()}
    now = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    return Role(views, containers, account, address, views["token"].call("decimals"), now, rpc)


def _address_of(accounts: Any, alias: str) -> str:
    if alias.startswith("0x") and len(alias) == 42:
        return alias
    from ape.exceptions import AccountsError

    try:
        return accounts.load(alias).address
    except (IndexError, KeyError, AccountsError):
        raise OperatorError(f"no account {alias!r}: import it with `ape accounts import {alias}`") from None


def run_action(body: Callable[[], tuple[dict[str, Any], list[str]]], as_json: bool) -> None:
    """Runs an action and prints its result: one JSON object (integers in chain units) or lines.
    An `OperatorError` (setup: record, account, passphrase) is refused in one line, exit 2."""
    try:
        data, lines = body()
    except OperatorError as refusal:
        raise Refused("Setup", str(refusal).removesuffix(": nothing sent")) from None
    if as_json:
        click.echo(json.dumps(data, default=str))
    else:
        for line in lines:
            click.echo(line)


def role_command(actions: list[str], deployments: Path) -> Callable[[Callable[..., None]], Any]:
    """`ape run <role> ACTION` with the options every role takes."""
    from ape.cli import ConnectedProviderCommand

    def wrap(function: Callable[..., None]) -> Any:
        for option in reversed(
            [
                click.argument("action", type=click.Choice(actions)),
                click.option("--account", "alias", default=None, help="ape account (APE_ACCOUNTS_<alias>_PASSPHRASE)"),
                click.option("--deployments", "directory", default=deployments, type=click.Path(path_type=Path)),
                click.option("--confirmations", type=int, default=0, show_default=True, help="blocks to wait per tx"),
                click.option("--json", "as_json", is_flag=True, help="one JSON object (integers in chain units)"),
            ]
        ):
            function = option(function)
        return click.command(cls=ConnectedProviderCommand)(function)

    return wrap
