"""`ape run fuzz`: a differential fuzzing campaign of N shards (difftest/campaign.py).

    ape run fuzz --shards 2 --budget-minutes 10                 # local processes, one Anvil each
    ape run fuzz --shards 50 --steps 1000000 --scheduler tcp://host:8786 --out docs/fuzz-campaign.json

Each shard runs the stateful machine (difftest/machine.py: model == chain on every action,
conservation, waterfall order, pool and safety-module invariants) on its own Anvil from the
project's toolchain, with its own Hypothesis seed. A live progress line, one summary at the end,
and the record (`--out`, difftest/campaign_record.py). `--steps` (transactions, all shards) and
`--budget-minutes` stop the campaign cleanly between chunks; without either, the profile's
sequences run. Exits 1 if any shard failed (a mismatch, an invariant) or gave up; an Anvil that
died or stalled is restarted and the interrupted sequences retried (reported, never passed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402

from difftest.campaign import CampaignOptions, CampaignProgress, run_campaign  # noqa: E402
from difftest.fuzz_report import summary_lines  # noqa: E402

PRINT_EVERY_S = 10.0


@click.command()
@click.option("--shards", default=2, show_default=True, help="shards (one Anvil and Hypothesis seed each)")
@click.option("--profile", default="deep", show_default=True, help="Hypothesis profile: steps a sequence")
@click.option("--steps", type=int, help="stop after about this many transactions, all shards together")
@click.option("--budget-minutes", type=float, help="stop once this many minutes have passed")
@click.option("--seed", type=int, help="the campaign seed (default: drawn; recorded either way)")
@click.option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: local processes)")
@click.option("--workers", type=int, help="local processes at once (default: the CPU count)")
@click.option("--rpc-timeout", default=60.0, show_default=True, help="seconds before a silent Anvil counts as stalled")
@click.option("--worker-root", type=click.Path(path_type=Path), help="the checkout on the workers (default: this one)")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("fuzz-campaign.json"),
    show_default=True,
    help="the campaign record (the committed one: docs/fuzz-campaign.json)",
)
@click.option(
    "--regressions",
    type=click.Path(file_okay=False, path_type=Path),
    default=ROOT / "tests" / "vectors" / "regressions",
    help="where a failing shard's regression vectors are written",
)
def cli(shards, profile, steps, budget_minutes, seed, scheduler, workers, rpc_timeout, worker_root, out, regressions):
    try:
        options = CampaignOptions(
            shards=shards,
            profile=profile,
            steps=steps,
            budget_minutes=budget_minutes,
            seed=seed,
            scheduler=scheduler,
            workers=workers,
            rpc_timeout=rpc_timeout,
            root=(worker_root or ROOT).resolve() if worker_root else ROOT,
        )
        from difftest.profiles import stateful_profile

        stateful_profile(profile)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    live = sys.stdout.isatty()
    last = [0.0]

    def show(progress: CampaignProgress) -> None:
        now = time.monotonic()
        if live:
            click.echo("\r" + progress.line()[:200].ljust(200), nl=False)
        elif now - last[0] >= PRINT_EVERY_S:
            last[0] = now
            click.echo(progress.line())

    record = run_campaign(options, on_progress=show, regressions_dir=regressions)
    if live:
        click.echo()
    record.dump(out)
    click.echo("\n".join(summary_lines(record)))
    click.echo(f"record written to {out}")
    sys.exit(0 if record.passed else 1)
