"""`ape run watch --network <...> [--to-block N | --follow] [--checkpoint FILE]`: holds the
deployment recorded for the connected chain to the model, block by block from its deployment
block (or from the checkpoint), every transaction that touched its contracts, whoever sent it.
One line per block that touched the system (trades, liquidations with the waterfall's split,
ADL, deposits, stakes, oracle rounds), then the risk panel. On the first difference between the
chain and the model: the block, the transaction and the first differing field, exit code 1.
Refusals (no complete record, a checkpoint of another deployment, an unreachable node): one
line, exit code 2. Reads only; sends nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from ape import chain, project  # noqa: E402
from ape.cli import ConnectedProviderCommand  # noqa: E402
from ape.logging import logger  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.live import Live  # noqa: E402

from chainio import RpcClient  # noqa: E402
from chainio.rpc import RpcError  # noqa: E402
from chainio.watch import Checkpoint, Divergence, record_for_chain, watcher_for  # noqa: E402
from chainio.watch_view import block_lines, risk_panel  # noqa: E402

DEPLOYMENTS = ROOT / "deployments"


class Refusal(click.ClickException):
    exit_code = 2


@click.command(cls=ConnectedProviderCommand)
@click.option("--deployments", "directory", default=DEPLOYMENTS, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="resume from / save to this file [default: deployments/<chainId>/watch.checkpoint.json]",
)
@click.option("--no-checkpoint", is_flag=True, help="start from the deployment block, save nothing")
@click.option("--to-block", type=click.IntRange(min=0), help="stop after this block (default: the head)")
@click.option("--follow", is_flag=True, help="keep polling for new blocks (Ctrl-C stops; the checkpoint is kept)")
@click.option("--interval", type=float, default=2.0, show_default=True, help="seconds between polls with --follow")
@click.option("--log-chunk", type=click.IntRange(min=1), default=2_000, show_default=True, help="blocks per page")
@click.option("--quiet", is_flag=True, help="no per-block lines, only the result")
def cli(
    directory: Path,
    checkpoint_path: Path | None,
    no_checkpoint: bool,
    to_block: int | None,
    follow: bool,
    interval: float,
    log_chunk: int,
    quiet: bool,
) -> None:
    logger.set_level("ERROR")
    console = Console(width=160, highlight=False, soft_wrap=True)
    chain_id = chain.provider.chain_id
    try:
        record = record_for_chain(directory, chain_id)
    except ValueError as refusal:
        raise Refusal(str(refusal)) from None
    path = None if no_checkpoint else checkpoint_path or directory / str(chain_id) / "watch.checkpoint.json"
    checkpoint = None
    if path is not None and path.exists():
        try:
            checkpoint = Checkpoint.load(path)
            checkpoint.check_record(record)
        except (ValidationError, ValueError) as error:
            raise Refusal(f"checkpoint {path}: {error}; remove it or pass --no-checkpoint") from None
    rpc = RpcClient(chain.provider.uri)
    try:
        watcher = watcher_for(project, rpc, record, checkpoint, log_chunk)
    except Divergence as divergence:
        console.print(f"[bold red]{divergence}[/] (resuming from {path})")
        raise SystemExit(1) from None
    except (RpcError, OSError) as error:
        raise Refusal(f"cannot read chain {chain_id} at {chain.provider.uri}: {error}") from None
    start = watcher.next_block
    how = f"resumed from {path} at block {start}" if watcher.resumed else f"from deployment block {start}"
    console.print(
        f"watching chain {chain_id}, engine {record.addresses['engine']}, {how}, "
        f"{len(watcher.transactions)} transaction(s) replayed on the model"
    )
    blocks = transactions = 0

    def on_block(report) -> None:
        nonlocal blocks, transactions
        blocks += 1
        transactions += len(report.transactions)
        if not quiet:
            for line in block_lines(report, watcher.system, watcher.deployed_block):
                console.print(line)

    def save() -> None:
        if path is not None:
            watcher.checkpoint().save(path)

    def panel():
        return risk_panel(watcher.system, watcher.block_timestamp, f"risk at block {watcher.next_block - 1}")

    try:
        if follow:
            with Live(panel(), console=console, auto_refresh=False) as live:

                def page() -> None:
                    save()
                    live.update(panel(), refresh=True)

                last = watcher.run(to_block, follow=True, interval=interval, on_block=on_block, on_page=page)
        else:
            last = watcher.run(to_block, on_block=on_block, on_page=save)
    except Divergence as divergence:
        save()  # the blocks before it matched: a resume starts at the divergent one again
        console.print(f"[bold red]{divergence}[/]")
        if path is not None:
            console.print(f"(checkpoint {path}: the model up to block {watcher.next_block - 1}, the last that matched)")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        save()
        console.print(f"interrupted: checkpoint at block {watcher.next_block - 1}; run again to resume")
        raise SystemExit(130) from None
    except (RpcError, OSError) as error:
        save()
        raise Refusal(f"chain {chain_id}: {error}; run again to resume from block {watcher.next_block}") from None
    finally:
        rpc.close()
    for note in watcher.notes:
        console.print(f"note: {note}")
    if not follow:
        console.print(panel())
    console.print(
        f"[bold green]match[/]: blocks {start}..{last}, {blocks} touched the system, {transactions} transaction(s), "
        f"every event and the state after every block equal to the model"
        + (f"; checkpoint {path}" if path is not None else "")
    )


if __name__ == "__main__":
    cli()
