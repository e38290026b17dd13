"""`ape run simulate`: oracle-delay scenarios on the exact and vectorised tiers.

    ape run simulate --preset oct_10_2025_cascade --paths 2000 --out out/cascade
    ape run simulate --config my_scenario.yaml --sweep latency_s=0,60,300,900
    ape run simulate --preset frozen_feed_collapse --sweep insurance_usd=0,50000,200000 --scheduler tcp://host:8786

Prints a summary table; with `--out` writes summary.json, paths.csv, the worst path's ledger
(CSV) and golden vector (replay it with `ape run replay`), and PNG plots. A sweep writes
sweep.json and sensitivity.png and reports the break-even value at which expected bad debt
exceeds the insurance bucket. Bad options or configs fail with the field named.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import click  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

from simulator import PRESETS, SimConfig, median_vs_single, simulate  # noqa: E402
from simulator.paths import preset_config_data  # noqa: E402
from simulator.sweep import break_even, parse_sweep, sweep  # noqa: E402


def load_config(preset: str | None, config_file: Path | None, paths: int | None, seed: int | None) -> SimConfig:
    if preset is None and config_file is None:
        raise click.UsageError(f"give --preset (one of {', '.join(sorted(PRESETS))}) or --config FILE")
    overrides = {k: v for k, v in (("paths", paths), ("seed", seed)) if v is not None}
    try:
        if config_file is not None:
            config = SimConfig.load(config_file)
            return SimConfig.model_validate(config.model_dump() | overrides) if overrides else config
        if preset not in PRESETS:
            raise click.BadParameter(f"{preset!r} does not exist; known presets: {', '.join(sorted(PRESETS))}")
        return SimConfig.model_validate(preset_config_data(preset, **overrides))
    except ValidationError as error:
        raise click.ClickException(f"invalid scenario:\n{error}") from None


def usd(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def summary_table(summary: dict, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("USD per path")
    for column in ("mean", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="right")
    for layer, label in (
        ("shortfall", "bad debt (shortfall)"),
        ("from_insurance", "  insurance bucket"),
        ("from_safety_module", "  safety module"),
        ("from_pool", "  LP pool"),
    ):
        row = summary["distribution_usd"][layer]
        table.add_row(label, *(usd(row[c]) for c in ("mean", "p50", "p95", "p99", "max")))
    row = summary["unrealised_shortfall_usd"]
    table.add_row("unliquidated at horizon", *(usd(row[c]) for c in ("mean", "p50", "p95", "p99", "max")))
    return table


def risk_table(summary: dict) -> Table:
    table = Table(show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    lp = summary["lp_loss_usd"]
    table.add_row("LP loss VaR95 / CVaR95 / CVaR99 / CVaR99.9", " / ".join(usd(lp[k]) for k in lp))
    for name, p in summary["probability"].items():
        table.add_row(f"P({name.replace('_', ' ')})", f"{p:.1%}")
    depletion = summary["time_to_insurance_depletion_s"]
    table.add_row(
        "time to insurance depletion (median)", "-" if depletion is None else f"{depletion['p50'] / 60:.0f} min"
    )
    ratio = summary["insurance_to_open_interest"]
    table.add_row("insurance / open interest", "-" if ratio is None else f"{ratio:.3%}")
    backstop = summary["backstop_to_p99_loss"]
    table.add_row("(insurance + safety module) / p99 loss", "-" if backstop is None else f"{backstop:.2f}")
    table.add_row("liquidations per path (mean)", f"{summary['liquidations_per_path']:.1f}")
    return table


@click.command()
@click.option("--preset", help=f"a named incident: {', '.join(sorted(PRESETS))}")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a SimConfig YAML/JSON",
)
@click.option("--paths", type=click.IntRange(min=1), help="number of paths (overrides the config)")
@click.option("--seed", type=click.IntRange(min=0), help="random seed (overrides the config)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="write JSON, CSV, vector and PNG here")
@click.option(
    "--sweep",
    "sweep_spec",
    help="PARAM=v1,v2,...: latency_s, heartbeat_s, deviation_bps, max_age_s, "
    "keeper_latency_s, insurance_usd, safety_module_usd",
)
@click.option("--scheduler", help="Dask scheduler address for the sweep (default: local processes)")
@click.option("--workers", type=click.IntRange(min=1), help="local processes (chunks of a run, grid points of a sweep)")
@click.option(
    "--exact-paths", type=click.IntRange(min=0), default=1, show_default=True, help="worst paths re-run exactly"
)
@click.option(
    "--median-vs-single", "median_vs_single_", is_flag=True, help="also report the bad debt a median of 3 sources saves"
)
@click.option(
    "--from-deployment",
    help="a chain id, deployment record or watcher checkpoint: the scenario on the book on chain (exact tier)",
)
def cli(
    preset,
    config_file,
    paths,
    seed,
    out,
    sweep_spec,
    scheduler,
    workers,
    exact_paths,
    median_vs_single_,
    from_deployment,
) -> None:
    console = Console(width=120)
    config = load_config(preset, config_file, paths, seed)
    if from_deployment:
        from simulator.from_chain import run_cli

        return run_cli(from_deployment, config, console, out, ROOT / "deployments")
    name = config.path.preset or config.path.kind
    console.print(
        f"[bold]{name}[/]: {config.paths:,} paths x {config.steps:,} steps of {config.step_s} s, "
        f"{config.population.positions:,} positions, insurance ${config.population.insurance_usd:,}, "
        f"safety module ${config.population.safety_module_usd:,}, LP ${config.population.lp_deposit_usd:,}"
    )
    if sweep_spec:
        try:
            parameter, values = parse_sweep(sweep_spec)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--sweep") from None
        with console.status(f"sweeping {parameter} over {len(values)} values ({scheduler or 'local processes'})"):
            points = sweep(config, parameter, values, scheduler=scheduler, workers=workers)
        table = Table(title=f"sweep of {parameter} (common random numbers)", title_justify="left")
        for column in (parameter, "mean bad debt", "p99 bad debt", "mean LP loss", "P(insurance depleted)"):
            table.add_column(column, justify="right")
        for point in points:
            s = point["summary"]
            table.add_row(
                f"{point['value']:g}",
                usd(s["distribution_usd"]["shortfall"]["mean"]),
                usd(s["distribution_usd"]["shortfall"]["p99"]),
                usd(s["distribution_usd"]["from_pool"]["mean"]),
                f"{s['probability']['insurance_depleted']:.1%}",
            )
        console.print(table)
        even = break_even(points, config.population.insurance_usd)
        console.print(
            f"break-even {parameter}: "
            + ("expected bad debt stays under the insurance bucket" if even is None else f"{even:g}")
        )
        if out is not None:
            from simulator import export, plots

            out.mkdir(parents=True, exist_ok=True)
            export.write_json(out / "sweep.json", {"points": points, "break_even": even})
            plots.sensitivity(points, config.population.insurance_usd, out / "sensitivity.png", f"{name}: {parameter}")
            console.print(f"written: {out / 'sweep.json'}, {out / 'sensitivity.png'}")
        return

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("paths (vectorised tier)", total=config.paths)
        report = simulate(
            config,
            out=out,
            exact_paths=exact_paths,
            progress=lambda done, _: progress.update(task, completed=done),
            workers=workers or 1,
        )
    console.print(
        summary_table(report.summary, f"{name}: {report.summary['paths']:,} paths, vectorised tier (approximate)")
    )
    console.print(risk_table(report.summary))
    if report.exact:
        worst = report.exact[0]
        totals = worst.totals()
        unit = 10**config.system.collateral_decimals
        console.print(
            f"worst path {worst.path} on the exact model: {totals['liquidations']} liquidations, bad debt "
            f"${totals['shortfall'] / unit:,.2f} = insurance ${totals['from_insurance'] / unit:,.2f} + safety module "
            f"${totals['from_safety_module'] / unit:,.2f} + pool ${totals['from_pool'] / unit:,.2f}; "
            f"{len(worst.actions)} model actions"
        )
    if median_vs_single_:
        comparison = median_vs_single(config)
        table = Table(
            title="single feed stuck at the crash vs the median of 3 sources (one stuck)", title_justify="left"
        )
        table.add_column("USD per path (mean)")
        table.add_column("single feed", justify="right")
        table.add_column("median of 3", justify="right")
        one, many = comparison["single_feed_stuck"], comparison["median_of_3"]
        for key, label in (
            ("shortfall", "bad debt realised"),
            ("from_pool", "  of it on the pool"),
            ("unrealised_shortfall", "unliquidated at horizon"),
        ):
            table.add_row(label, usd(one[key]), usd(many[key]))
        console.print(table)
        console.print(f"bad debt the median saves: ${comparison['bad_debt_saved_usd']:,.0f} per path")
        if out is not None:
            from simulator import export

            export.write_json(out / "median_vs_single.json", comparison)
    if out is not None:
        console.print("written: " + ", ".join(str(f) for f in report.files))
        if report.exact and len(report.exact[0].actors) > 10:
            console.print(
                f"(replaying worst_path.vector.json needs {len(report.exact[0].actors)} funded test accounts: "
                "ape's test number_of_accounts; populations of up to 5 traders replay with the default 10)"
            )
