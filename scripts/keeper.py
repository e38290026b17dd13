"""`ape run keeper --network <...> --account <alias> [--once | --interval S --max-iterations N]`:
liquidates what is liquidatable on the deployment recorded for the connected chain, when the
keeper reward covers `--gas-cost` (collateral units), refreshes a side's bankruptcy bound once
the position that set it is gone, clears ADL flags that outlived their ratio, and runs ADL steps
in the order `pymodel.adl.adl_plan` gives when a side is over its trigger. One line per action, a summary
at the end. Refuses, with nothing sent, a chain without a complete record, a config that does
not validate, an account that does not unlock or cannot pay for a liquidation's gas.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from chainio.preflight import preflight  # noqa: E402

preflight()  # an unset or wrong RPC URL: one line, before ape connects

from chainio import RpcClient, deploy_record  # noqa: E402
from chainio.history import decoders_for, last_deployment_block, model_of_deployment, replay_history  # noqa: E402
from chainio.keeper import PositionIndex, Sent, Summary, adl_pass, bound_pass, liquidation_pass, usd  # noqa: E402
from chainio.ops import OperatorError, check_chain, check_funds, load_account  # noqa: E402
from chainio.order_keeper import OrderKeeper  # noqa: E402
from chainio.project import lean, project_registry  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"
# Gas a liquidation or an ADL step may use (a three-layer bad-debt liquidation is ~300k).
ACTION_GAS = 1_000_000


def load_record(directory: Path) -> deploy_record.DeploymentRecord:
    chain_id = chain.provider.chain_id
    path = deploy_record.record_path(directory, chain_id)
    try:
        record = deploy_record.load(path)
        if record is not None:
            record.deployment_config()
    except ValidationError as error:
        raise OperatorError(f"{path} is not a valid deployment record: {error}") from None
    if record is None or not record.complete:
        raise OperatorError(f"no complete deployment recorded for chain {chain_id} in {directory}: nothing sent")
    check_chain(record.chain_id, chain_id, f"record {path}")
    return record


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "alias", required=True, help="ape account (passphrase: APE_ACCOUNTS_<alias>_PASSPHRASE)")
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option("--once", is_flag=True, help="one pass, then exit")
@click.option("--interval", type=float, default=15.0, show_default=True, help="seconds between passes")
@click.option("--max-iterations", type=int, default=None, help="stop after this many passes")
@click.option(
    "--gas-cost", type=int, default=0, show_default=True, help="least reward worth a liquidation (collateral units)"
)
@click.option("--confirmations", type=int, default=None, help="blocks to wait per transaction (default: the network's)")
@click.option("--no-adl", is_flag=True, help="liquidations only")
@click.option("--log-chunk", type=int, default=5_000, show_default=True, help="blocks per eth_getLogs request")
def cli(
    alias: str,
    directory: Path,
    once: bool,
    interval: float,
    max_iterations: int | None,
    gas_cost: int,
    confirmations: int | None,
    no_adl: bool,
    log_chunk: int,
) -> None:
    logger.set_level("ERROR")
    try:
        record = load_record(directory)
        keeper = load_account(accounts, alias)
        check_funds(keeper.balance, ACTION_GAS, chain.provider.gas_price, f"keeper {alias} ({keeper.address})")
    except OperatorError as refusal:
        raise click.ClickException(str(refusal)) from None

    rpc = RpcClient(chain.provider.uri)
    registry = project_registry(project)
    engine = lean(rpc, registry, project.PerpEngine, record.addresses["engine"])
    engine_ape = project.PerpEngine.at(record.addresses["engine"])
    tx_kwargs = {} if confirmations is None else {"required_confirmations": confirmations}
    first_block = last_deployment_block(record) + 1
    decoders = decoders_for(project, record)

    def send(function: str, args: tuple) -> Sent:
        receipt = getattr(engine_ape, function)(*args, sender=keeper, **tx_kwargs)
        tx_hash = receipt.txn_hash if isinstance(receipt.txn_hash, str) else "0x" + bytes(receipt.txn_hash).hex()
        logs = rpc.request("eth_getTransactionReceipt", [tx_hash])["logs"]
        decoded = [registry.decode_log(log) for log in logs]
        return Sent(tx_hash, tuple((event.name, tuple(v for _, v in event.args)) for event in decoded))

    def model_now():
        system = model_of_deployment(rpc, record)
        replay_history(rpc, system, decoders, first_block)
        return system

    market_ids = [m.market_id for m in record.deployment_config().system.markets]
    mirror = model_now if record.deployment_config().uses_mocks_only else None
    index = PositionIndex(rpc, engine, first_block, chunk=log_chunk)
    decimals = lean(rpc, registry, project.MockStablecoin, record.addresses["token"]).call("decimals")
    orders = OrderKeeper(rpc, registry, project, record, keeper, first_block, **tx_kwargs)
    summary = Summary()
    limit = 1 if once else max_iterations
    click.echo(
        f"keeper {keeper.address} on chain {record.chain_id}, engine {engine.address}, "
        f"gas cost {usd(gas_cost, decimals)}"
    )
    try:
        while limit is None or summary.iterations < limit:
            if summary.iterations:
                time.sleep(interval)
            started, before = time.monotonic(), replace(summary)
            summary.iterations += 1
            positions = index.refresh()
            liquidation_pass(engine, positions, gas_cost, send, summary, click.echo, decimals)
            bound_pass(engine, market_ids, positions, send, summary, click.echo)
            orders.run_pass(click.echo)
            if not no_adl:
                adl_pass(rpc, engine, market_ids, mirror, keeper.address, send, summary, click.echo, decimals)
            block = int(rpc.request("eth_blockNumber"), 16)
            click.echo(summary.heartbeat(block, len(positions), before, time.monotonic() - started))
    except KeyboardInterrupt:
        click.echo("interrupted: the keeper keeps no state; run it again to go on")
    finally:
        rpc.close()
        click.echo(summary.line(decimals))
    if summary.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    cli()
