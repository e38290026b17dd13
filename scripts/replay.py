"""`ape run replay <file> [--json OUT] [--record OUT]`: replays a golden vector on a fresh
deployment (model and chain, parity checked after every action) and compares what happened
with the outcomes and final state the vector recorded.

Prints an exact-match verdict or the first difference (action index, path in the outcome or
the state, both values) and exits 1 on a mismatch. `--json OUT` writes both sides' results;
`--record OUT` writes the vector with every outcome and the final state recorded (a vector
written by hand needs no `expect` or `final_state`). The same from Python:
`difftest.vectors.replay`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import accounts, chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.progress import Progress  # noqa: E402

from chainio import RpcClient  # noqa: E402
from chainio.project import project_registry  # noqa: E402
from difftest.vectors import Vector, replay  # noqa: E402

OUT = click.Path(dir_okay=False, path_type=Path)


@click.command(cls=ConnectedProviderCommand)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=OUT, help="write both sides' results to this file")
@click.option("--record", "record_out", type=OUT, help="write the vector with its outcomes recorded to this file")
def cli(file: Path, json_out: Path | None, record_out: Path | None) -> None:
    console = Console(width=140)
    logger.set_level("WARNING")  # ape's per-transaction lines would bury the verdict
    try:
        vector = Vector.load(file)
    except ValidationError as error:
        raise click.ClickException(f"{file} is not a valid vector:\n{error}") from None

    rpc = RpcClient(chain.provider.uri)
    console.print(f"[bold]{escape(str(file))}[/]: {escape(vector.description)}")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replaying", total=len(vector.actions))
        result = replay(
            vector,
            project,
            accounts.test_accounts,
            rpc,
            project_registry(project),
            record=record_out is not None,
            progress=lambda done, _: progress.update(task, completed=done),
        )
    rpc.close()

    verdict = result.summary(vector)
    if result.ok:
        console.print(f"[green]{escape(verdict)}[/]")
    else:
        console.print(f"[red]{escape(verdict)}[/]")
        difference = result.first_difference
        if difference is not None and difference.path.startswith("parity"):
            console.print(escape(difference.message), highlight=False)  # the ledger's own report
    console.print(f"genesis {result.genesis}, {result.actions_run} of {len(vector.actions)} actions run")
    if json_out is not None:
        json_out.write_text(result.dumps(), encoding="utf-8")
        console.print(f"results written to {escape(str(json_out))}")
    if record_out is not None:
        if result.recorded is None:
            raise click.ClickException("nothing recorded: the model and the chain disagreed")
        result.recorded.dump(record_out)
        console.print(f"recorded vector written to {escape(str(record_out))}")
    if not result.ok:
        sys.exit(1)
