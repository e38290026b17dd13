"""`ape run timelock ACTION --network <...> --account <alias> --target <name> --function <fn>
--args '<JSON list>'`: a change to a timelocked deployment (every owned contract's owner is
the deployment's `Timelock`, OpenZeppelin's `TimelockController`).

- `schedule`: proposes the call; it becomes executable `getMinDelay()` seconds later;
- `execute`: runs a ready call (refused, nothing sent, while it is waiting);
- `status`: the call's operation id, state and the time it becomes ready.

`--target` is a step name of the deployment record (engine, oracle, pool, insuranceFund,
safetyModule, orderRouter, timelock); `--args` the function's arguments as JSON (addresses and
bytes as 0x-hex strings, structs as lists). The same (target, function, args, --salt) names the
same operation in all three actions.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402

from chainio.preflight import preflight  # noqa: E402

preflight()  # an unset or wrong RPC URL: one line, before ape connects

from chainio import deploy_record  # noqa: E402
from chainio.deploy import contract_of, plan  # noqa: E402
from chainio.ops import OperatorError, check_chain, load_account  # noqa: E402
from chainio.verify import PROPOSER_ROLE  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"
STATES = ("unset", "waiting", "ready", "done")  # TimelockController.OperationState
ZERO = bytes(32)


def _when(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")


@click.command(cls=ConnectedProviderCommand)
@click.argument("action", type=click.Choice(["schedule", "execute", "status"]))
@click.option("--account", "alias", default=None, help="ape account (passphrase: APE_ACCOUNTS_<alias>_PASSPHRASE)")
@click.option("--target", required=True, help="a contract of the record: engine, oracle, pool, ...")
@click.option("--function", "function", required=True, help="the owner-only function, e.g. setAdlParams")
@click.option("--args", "args_json", default="[]", show_default=True, help="its arguments as a JSON list")
@click.option("--salt", default="0x" + "00" * 32, show_default=True, help="bytes32: tells equal calls apart")
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option("--confirmations", type=int, default=0, show_default=True, help="blocks to wait for the transaction")
@click.option("--json", "as_json", is_flag=True, help="one JSON object instead of text")
def cli(action, alias, target, function, args_json, salt, directory, confirmations, as_json) -> None:
    logger.set_level("ERROR")
    try:
        run(action, alias, target, function, args_json, salt, directory, confirmations, as_json)
    except OperatorError as refusal:
        raise click.ClickException(str(refusal)) from None
    except KeyboardInterrupt:
        raise click.ClickException("interrupted: check with `ape run timelock status ...`, then run again") from None


def run(action, alias, target, function, args_json, salt, directory, confirmations, as_json) -> None:
    chain_id = chain.provider.chain_id
    path = deploy_record.record_path(directory, chain_id)
    record = deploy_record.load(path)
    if record is None or not record.complete:
        raise OperatorError(f"no complete deployment recorded for chain {chain_id} in {directory}: nothing sent")
    check_chain(record.chain_id, chain_id, f"record {path}")
    addresses = record.addresses
    if "timelock" not in addresses:
        raise OperatorError(f"{path} has no timelock (a local deployment): call {target}.{function} directly")
    types = contract_of(plan(record.deployment_config()))
    if target not in types or target not in addresses:
        raise OperatorError(f"--target {target!r} is not a contract of the deployment ({', '.join(sorted(types))})")
    instance = getattr(project, types[target]).at(addresses[target])
    if function not in {abi.name for abi in instance.contract_type.mutable_methods}:
        raise OperatorError(f"--function {function!r}: {types[target]} has no state-changing function of that name")
    try:
        args = json.loads(args_json)
        assert isinstance(args, list)
    except (ValueError, AssertionError):
        raise OperatorError(f"--args {args_json!r} is not a JSON list: nothing sent") from None
    try:
        data = bytes(getattr(instance, function).encode_input(*args))
        salt_bytes = bytes.fromhex(salt.removeprefix("0x"))
        assert len(salt_bytes) == 32
    except Exception as error:  # ape's conversion errors have many types: the line names the input
        raise OperatorError(f"--args {args_json} do not encode for {function}: {error}".splitlines()[0]) from None
    timelock = project.Timelock.at(addresses["timelock"])
    operation = timelock.hashOperation(instance.address, 0, data, ZERO, salt_bytes)
    state = STATES[timelock.getOperationState(operation)]
    ready_at = timelock.getTimestamp(operation)
    delay = timelock.getMinDelay()
    now = chain.blocks.head.timestamp
    summary = {
        "operation": "0x" + bytes(operation).hex(),
        "target": f"{target} {instance.address}",
        "call": f"{function}({', '.join(json.dumps(a) for a in args)})",
        "state": state,
        "ready_at": ready_at if ready_at > 1 else None,
        "min_delay": delay,
    }
    if action == "status":
        return _report(summary, as_json)
    account = load_account(accounts, alias) if alias else None
    if account is None:
        raise OperatorError(f"{action} needs --account: nothing sent")
    if action == "schedule":
        if state != "unset":
            raise OperatorError(f"operation {summary['operation']} is already {state}: nothing sent")
        if not timelock.hasRole(PROPOSER_ROLE, account.address):
            raise OperatorError(f"{account.address} is not a proposer of the timelock {timelock.address}: nothing sent")
        receipt = timelock.schedule(
            instance.address, 0, data, ZERO, salt_bytes, delay, sender=account, required_confirmations=confirmations
        )
        summary |= {"state": "waiting", "ready_at": receipt.timestamp + delay, "tx": str(receipt.txn_hash)}
    else:
        if state != "ready":
            when = f" until {_when(ready_at)} ({ready_at - now} s from now)" if state == "waiting" else ""
            raise OperatorError(f"operation {summary['operation']} is {state}{when}: not executable, nothing sent")
        receipt = timelock.execute(
            instance.address, 0, data, ZERO, salt_bytes, sender=account, required_confirmations=confirmations
        )
        summary |= {"state": "done", "tx": str(receipt.txn_hash)}
    _report(summary, as_json)


def _report(summary: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary))
        return
    ready = f", ready at {_when(summary['ready_at'])}" if summary["ready_at"] else ""
    tx = f", tx {summary['tx']}" if "tx" in summary else ""
    what = f"{summary['target']}.{summary['call']}"
    click.echo(f"{summary['state']}: {what} (operation {summary['operation']}{ready}{tx})")


if __name__ == "__main__":
    cli()
