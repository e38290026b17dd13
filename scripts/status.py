"""`ape run status --network <...> [--deployments DIR] [--json]`: the deployment recorded for
the connected chain as its views show it now (`chainio.status`): markets with their mark and
sources' status, open interest, ADL ratios and insurance per OI; the pool; the safety module;
the uncovered deficit; every open position with its liquidation and bankruptcy prices and its
ADL-queue quantile (from the model rebuilt from the chain's history: mock-feed deployments).
Reads only; sends nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402

from chainio.preflight import preflight  # noqa: E402

preflight()  # an unset or wrong RPC URL: one line, before ape connects

from chainio import RpcClient, deploy_record  # noqa: E402
from chainio.deploy import contract_of, plan  # noqa: E402
from chainio.history import decoders_for, last_deployment_block, model_of_deployment, replay_history  # noqa: E402
from chainio.keeper import PositionIndex  # noqa: E402
from chainio.ops import OperatorError, check_chain  # noqa: E402
from chainio.project import lean, project_registry  # noqa: E402
from chainio.status import render, snapshot  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"


@click.command(cls=ConnectedProviderCommand)
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object (integers in chain units)")
def cli(directory: Path, as_json: bool) -> None:
    logger.set_level("ERROR")
    try:
        run(directory, as_json)
    except OperatorError as refusal:
        raise click.ClickException(str(refusal)) from None


def run(directory: Path, as_json: bool) -> None:
    chain_id = chain.provider.chain_id
    path = deploy_record.record_path(directory, chain_id)
    record = deploy_record.load(path)
    if record is None or not record.complete:
        raise OperatorError(f"no complete deployment recorded for chain {chain_id} in {directory}")
    check_chain(record.chain_id, chain_id, f"record {path}")
    config = record.deployment_config()
    types = contract_of(plan(config))
    rpc = RpcClient(chain.provider.uri)
    registry = project_registry(project)
    contracts = {
        name: lean(rpc, registry, getattr(project, types[name]), record.addresses[name])
        for name in ("engine", "oracle", "pool", "insuranceFund", "safetyModule", "token")
    }
    first_block = last_deployment_block(record) + 1
    positions = PositionIndex(rpc, contracts["engine"], first_block).refresh()
    ranking = None
    if config.uses_mocks_only:
        from pymodel.adl import adl_ranking
        from pymodel.core import Env

        system = model_of_deployment(rpc, record)
        replay_history(rpc, system, decoders_for(project, record), first_block)
        head = int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

        def ranking(market_id: int, is_long: bool) -> list[str]:
            return [c.account for c in adl_ranking(system.c.engine, Env(record.deployer, head), market_id, is_long)]

    decimals = contracts["token"].call("decimals")
    data = snapshot(contracts, [m.market_id for m in config.system.markets], positions, decimals, ranking)
    rpc.close()
    if as_json:
        click.echo(json.dumps(data))
    else:
        for line in render(data):
            click.echo(line)


if __name__ == "__main__":
    cli()
