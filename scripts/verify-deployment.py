"""`ape run verify-deployment --network <...> [--deployments DIR]`: checks the deployment
recorded for the connected chain (`deployments/<chainId>.json`) against the chain.

Reads every parameter and every wiring back through the contracts' views, compares each
deployed runtime code with the compiled artifact (immutables masked) and exits 1 naming each
difference. Also writes, per deployed contract, the standard-JSON compiler input a block
explorer's "verify source" form takes, to `deployments/<chainId>/standard-json/<Contract>.json`,
with the constructor arguments (ABI-encoded) in `deployments/<chainId>/constructor-args.json`.
"""

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
from chainio.deploy import Deploy, plan, resolve  # noqa: E402
from chainio.export import export  # noqa: E402
from chainio.project import lean, project_registry  # noqa: E402
from chainio.verify import verify  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"


def write_standard_inputs(contracts: dict[str, tuple[str, ...]], out: Path) -> list[Path]:
    """One standard-JSON input per contract type: the sources it compiles from and the settings
    ape-solidity compiled it with (so the metadata hash, and the bytecode, match)."""
    compiler = project.compiler_manager.registered_compilers[".sol"]
    written = []
    out.mkdir(parents=True, exist_ok=True)
    remappings = sorted(f"{r.key}={r.value}" for r in project.config.get_config("solidity").import_remapping)
    for contract in sorted(contracts):
        source = project.contracts_folder / contracts[contract][0]
        by_version = compiler.get_standard_input_json([source], project=project)
        for version, standard_input in by_version.items():
            # ape compiles every file with all the project's remappings, and solc records them in
            # the metadata (whose hash ends the bytecode): the input must carry all of them too.
            standard_input["settings"]["remappings"] = remappings
            path = out / f"{contract}.json"
            path.write_text(json.dumps(standard_input, indent=2) + "\n", encoding="utf-8")
            written.append(path)
            logger.info(f"{contract}: solc {version}")
    return written


@click.command(cls=ConnectedProviderCommand)
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-standard-json", is_flag=True, help="skip writing the explorers' standard-JSON inputs")
def cli(directory: Path, no_standard_json: bool) -> None:
    logger.set_level("ERROR")
    chain_id = chain.provider.chain_id
    path = deploy_record.record_path(directory, chain_id)
    record = deploy_record.load(path)
    if record is None:
        raise click.ClickException(f"no deployment recorded for chain {chain_id} ({path} does not exist)")
    config = record.deployment_config()
    steps = plan(config)
    why = deploy_record.resume_check(record, steps)
    if why:
        raise click.ClickException(f"{path} does not match its own config's plan: {why}")
    if not record.complete:
        raise click.ClickException(
            f"{path}: the deployment is incomplete ({len(record.steps)} of {record.total_steps} steps)"
        )

    rpc = RpcClient(chain.provider.uri)
    registry = project_registry(project)
    addresses = {"deployer": record.deployer, **record.addresses}
    differences = verify(
        steps,
        addresses,
        contract_at=lambda contract, address: lean(rpc, registry, getattr(project, contract), address),
        code_at=lambda address: bytes.fromhex(rpc.request("eth_getCode", [address, "latest"])[2:]),
        artifact_runtime=lambda contract: bytes(getattr(project, contract).contract_type.runtime_bytecode.to_bytes()),
    )
    rpc.close()

    deployed = [s for s in steps if isinstance(s, Deploy)]
    if not no_standard_json:
        out = directory / str(chain_id)
        sources = {s.contract: _source_of(s.contract) for s in deployed}
        written = write_standard_inputs(sources, out / "standard-json")
        arguments = {
            s.name: {
                "contract": f"{sources[s.contract][0]}:{s.contract}",
                "address": addresses[s.name],
                "constructor_arguments": _encoded_constructor_args(s.contract, resolve(s.args, addresses)),
            }
            for s in deployed
        }
        (out / "constructor-args.json").write_text(json.dumps(arguments, indent=2) + "\n", encoding="utf-8")
        click.echo(f"standard-JSON inputs: {len(written)} in {out / 'standard-json'}")

    click.echo(f"ABIs and addresses: {export(record, project, directory)}")
    checked = len(steps)
    if differences:
        for line in differences:
            click.echo(f"DIFFERENCE {line}")
        raise click.ClickException(f"{len(differences)} difference(s) in {checked} steps of {path}")
    click.echo(f"verified: {checked} steps of {path} match the chain (code, parameters, wiring)")


def _source_of(contract: str) -> tuple[str, ...]:
    source_id = getattr(project, contract).contract_type.source_id
    return (str(Path(source_id).relative_to(project.contracts_folder.name)),)


def _encoded_constructor_args(contract: str, args: tuple) -> str:
    from eth_abi import encode

    abi = getattr(project, contract).contract_type.constructor
    types = [_canonical(i) for i in abi.inputs]
    return "0x" + encode(types, list(args)).hex()


def _canonical(param) -> str:
    if param.type.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param.components) + ")" + param.type[len("tuple") :]
    return param.type


if __name__ == "__main__":
    cli()
