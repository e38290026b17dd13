"""`ape run deploy --network <ecosystem:network:provider> --account <alias> --config <file>`:
deploys the whole system from a deployment config (`configs/*.json`, validated by
`chainio.deploy.DeploymentConfig`), one recorded step at a time.

Before anything is sent it checks the config, that the network's chain id is the config's,
that the account unlocks from `APE_ACCOUNTS_<alias>_PASSPHRASE`, that given token and feed
addresses hold contracts with the configured decimals, and that the account can pay for the
remaining steps. `deployments/<chainId>.json` records every step as it lands: a re-run with the
same config resumes (or does nothing when complete); a different config is refused unless
`--force-new` archives the old record first.
"""

from __future__ import annotations

import signal
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

from chainio import RpcClient, deploy_record  # noqa: E402
from chainio.config_diff import refusal_lines  # noqa: E402
from chainio.deploy import Adopt, DeploymentConfig, Step, StepResult, contract_of, execute, plan  # noqa: E402
from chainio.deploy_tx import RecordedSender, default_confirmations, kill_point, reconcile  # noqa: E402
from chainio.export import export  # noqa: E402
from chainio.ops import OperatorError, check_chain, check_funds, gas_budget, load_account, load_config  # noqa: E402
from chainio.project import lean, project_registry  # noqa: E402
from chainio.verify import step_reads_back  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"


def check_adopted(config: DeploymentConfig, steps: list[Step]) -> None:
    """Given contracts exist and have the decimals the config says."""
    expected = {"token": config.system.collateral_decimals}
    expected |= {f"feed{m.market_id}": m.feed_decimals for m in config.system.markets}
    for step in steps:
        if not isinstance(step, Adopt):
            continue
        if not chain.provider.get_code(step.address):
            raise OperatorError(f"{step.name}: no contract at {step.address} on this chain: nothing sent")
        decimals = getattr(project, step.contract).at(step.address).decimals()
        if step.name in expected and decimals != expected[step.name]:
            raise OperatorError(
                f"{step.name} at {step.address} has {decimals} decimals, the config says {expected[step.name]}"
            )


def shorten(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command(cls=ConnectedProviderCommand)
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--account", "alias", required=True, help="ape account (passphrase: APE_ACCOUNTS_<alias>_PASSPHRASE)")
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option("--confirmations", type=int, default=None, help="blocks to wait per transaction (default: the network's)")
@click.option("--force-new", is_flag=True, help="archive a record made with another config and deploy anew")
@click.option("--dry-run", is_flag=True, help="check everything and print the plan; send nothing")
@click.option("--max-steps", type=int, default=None, help="run at most this many steps now (resume later)")
def cli(
    config_path: Path,
    alias: str,
    directory: Path,
    confirmations: int | None,
    force_new: bool,
    dry_run: bool,
    max_steps: int | None,
) -> None:
    logger.set_level("ERROR")  # not ape's per-transaction lines (nor "Using cached key")

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # a `kill`: the same message as Ctrl-C
    try:
        run(config_path, alias, directory, confirmations, force_new, dry_run, max_steps)
    except OperatorError as refusal:
        raise click.ClickException(str(refusal)) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            "interrupted: every transaction sent so far is in the record; run the same command again to resume"
        ) from None


def run(
    config_path: Path,
    alias: str,
    directory: Path,
    confirmations: int | None,
    force_new: bool,
    dry_run: bool,
    max_steps: int | None,
) -> None:
    config = load_config(config_path)
    check_chain(config.chain_id, chain.provider.chain_id, f"config {config_path}")
    steps = plan(config)
    path = deploy_record.record_path(directory, config.chain_id)
    record = deploy_record.load(path)
    if record is not None and record.config_hash != config.digest():
        if not force_new:
            lines = refusal_lines(
                record.deployment_config(),
                config,
                {"deployer": record.deployer, **record.addresses},
                config.network,
                timelocked="timelock" in record.addresses,
            )
            raise OperatorError(
                f"{path} records a deployment of another config ({record.config_hash}, this one is "
                f"{config.digest()}): refusing, nothing sent; pass --force-new to archive it and deploy anew\n"
                + "\n".join(lines)
            )
        if not dry_run:
            click.echo(f"archived the old record as {deploy_record.archive(path)}")
        record = None
    if record is not None:
        why = deploy_record.resume_check(record, steps)
        if why:
            raise OperatorError(f"{path} cannot be resumed: {why}")
        for name, address in record.addresses.items():
            if not chain.provider.get_code(address):
                raise OperatorError(f"{path} says {name} is at {address} but there is no code there (a reset chain?)")
        if record.complete:
            click.echo(f"nothing to do: {path} records the complete deployment of this config")
            return

    account = load_account(accounts, alias)
    if record is not None and record.deployer != account.address:
        raise OperatorError(f"{path} was deployed by {record.deployer}, not {account.address}: nothing sent")
    check_adopted(config, steps)
    done = record.done() if record is not None else {}
    remaining = [step for index, step in enumerate(steps) if index not in done]
    gas = gas_budget(project, remaining)
    cost = check_funds(account.balance, gas, chain.provider.gas_price, f"account {alias} ({account.address})")
    click.echo(
        f"chain {config.chain_id}: {len(remaining)} of {len(steps)} steps to run from {account.address} "
        f"(at most {gas} gas, {cost} wei)"
    )
    if dry_run:
        for index, step in enumerate(steps):
            click.echo(f"  {'done' if index in done else 'todo'} {index:2d} {shorten(step.describe())}")
        return

    if record is None:
        record = deploy_record.new_record(config, account.address, len(steps), project)
        deploy_record.save(record, path)

    def on_step(index: int, step: Step, result: StepResult) -> None:
        assert record is not None
        record.add(index, step, result)
        deploy_record.save(record, path)
        where = f" at {result.address}" if result.address else ""
        sent = f" tx {result.tx_hash} block {result.block}" if result.tx_hash else ""
        click.echo(f"  [{index + 1:2d}/{len(steps)}] {shorten(step.describe())}{where}{sent}")
        kill_point("boundary", index)

    rpc = RpcClient(chain.provider.uri)
    if confirmations is None:
        confirmations = default_confirmations(rpc, config.chain_id, chain.provider.network.required_confirmations)
    registry = project_registry(project)
    contracts = contract_of(steps)

    def effect_on_chain(step: Step) -> bool:
        named = {"deployer": account.address, **record.addresses}
        if record.pending is not None and record.pending.expected_address and hasattr(step, "contract"):
            named[step.name] = record.pending.expected_address  # type: ignore[union-attr]
        return step_reads_back(
            step, named, lambda c, a: lean(rpc, registry, getattr(project, c), a), contracts | {"deployer": ""}
        )

    if record.pending is not None:
        pending = record.pending
        step = steps[pending.index]
        result = reconcile(rpc, pending, step, account.address, confirmations, effect_on_chain, click.echo)
        on_step(pending.index, steps[pending.index], result)
        done = record.done()

    def on_pending(pending: deploy_record.PendingTx) -> None:
        assert record is not None
        record.pending = pending
        deploy_record.save(record, path)

    sender = RecordedSender(project, account, rpc, on_pending, confirmations, echo=click.echo)
    # Steps run in order, so what is done is a prefix: run the next `max_steps` of them.
    stop = len(steps) if max_steps is None else min(len(steps), len(done) + max_steps)
    addresses = execute(steps[:stop], sender, done, on_step, clock=lambda: _head_time(rpc), on_begin=sender.begin)
    rpc.close()
    if stop < len(steps):
        click.echo(f"stopped after step {stop} of {len(steps)}: run again to resume, record {path}")
    else:
        abis = export(record, project, directory)
        click.echo(f"deployed: engine {addresses['engine']}, record {path}, ABIs and addresses in {abis}")


def _head_time(rpc: RpcClient) -> int:
    """A Pyth source's first update is dated at the head block's time (MockPyth accepts it)."""
    return int(rpc.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


if __name__ == "__main__":
    cli()
