"""`ape run simulate`: oracle-delay scenarios on the exact and vectorised tiers.

    ape run simulate --preset oct_10_2025_cascade --paths 2000 --out out/cascade
    ape run simulate --config my_scenario.yaml --sweep latency_s=0,60,300,900
    ape run simulate --preset frozen_feed_collapse --sweep insurance_usd=0,50000,200000 --scheduler tcp://host:8786
    ape run simulate --preset oct_10_2025_cascade --sweep latency_s=0,120,600 --sweep population.leverage_max=3,6,9
    ape run simulate --preset oct_10_2025_cascade --size insurance --target-p-lp-loss 0.001 --out out/size

Prints a summary table with 95% intervals and a convergence check; with `--out` writes
summary.json, paths.csv, the worst path's ledger (CSV) and golden vector (replay it with `ape
run replay`), and PNG plots. A sweep writes sweep.json and sensitivity.png (two parameters: a
heat map) and reports where expected bad debt crosses the insurance bucket. `--size` finds the
smallest insurance bucket or safety module meeting an LP-risk target, with its interval, and
writes the capital-at-risk and loss-exceedance curves. Bad options, files or values fail
before anything runs or is written, with one line naming the error and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `ape run` does not put the project root on sys.path.

import warnings  # noqa: E402

import click  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

from simulator import PRESETS, SimConfig, median_vs_single, simulate  # noqa: E402
from simulator.config import ConfigFileError, preset_config_data, read_config_data  # noqa: E402
from simulator.sizing import SizingError, size_backstop  # noqa: E402
from simulator.stats import ConvergenceWarning  # noqa: E402
from simulator.sweep import (  # noqa: E402
    SweepError,
    break_even,
    break_even_interval,
    connect,
    describe_break_even,
    for_json,
    parse_sweep,
    sweep_grid,
)


class SimulateError(click.ClickException):
    """One line, `Error: <Name>: <what>`, exit code 2 (a usage error: nothing ran, nothing written)."""

    exit_code = 2

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {' '.join(str(message).split())}")


def one_line(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'config'}: {e['msg']}" for e in error.errors())


def load_config(
    preset: str | None, config_file: Path | None, paths: int | None, seed: int | None, population_seed: int | None
) -> SimConfig:
    if preset is None and config_file is None:
        raise click.UsageError(f"give --preset (one of {', '.join(sorted(PRESETS))}) or --config FILE")
    if preset is not None and config_file is not None:
        raise SimulateError(
            "UsageError", f"--preset and --config both given: put `preset: {preset}` in {config_file} instead"
        )
    overrides = {
        k: v for k, v in (("paths", paths), ("seed", seed), ("population_seed", population_seed)) if v is not None
    }
    try:
        if config_file is not None:
            data = read_config_data(config_file)
            return SimConfig.model_validate(data | overrides)
        if preset not in PRESETS:
            raise SimulateError(
                "UnknownPreset", f"{preset!r} does not exist; known presets: {', '.join(sorted(PRESETS))}"
            )
        return SimConfig.model_validate(preset_config_data(preset, **overrides))
    except ConfigFileError as error:
        raise SimulateError("ConfigFileError", str(error)) from None
    except ValidationError as error:
        raise SimulateError("ValidationError", f"invalid scenario: {one_line(error)}") from None


def show_warnings(console: Console, caught: list[warnings.WarningMessage], convergence: dict | None = None) -> None:
    """One line per warning; the convergence check's, one line for all its figures."""
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            continue
        console.print(f"[yellow]warning[/]: {w.category.__name__}: {w.message}", highlight=False)
    if convergence and convergence["paths_needed"]:
        needs = ", ".join(f"{name} ~{paths:,}" for name, paths in convergence["paths_needed"].items())
        console.print(
            f"[yellow]warning[/]: ConvergenceWarning: 95% intervals wider than +/-{convergence['tolerance']:.0%} "
            f"of the estimate; paths needed: {needs}",
            highlight=False,
        )


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
    lag = summary.get("oracle_lag_at_landing")
    if lag is not None:
        table.add_row(
            "oracle price lag at landing, p50 / p99",
            f"{lag['seconds']['p50']:,.0f} / {lag['seconds']['p99']:,.0f} s; "
            f"{lag['bps']['p50']:,.0f} / {lag['bps']['p99']:,.0f} bps",
        )
    return table


def interval_table(summary: dict) -> Table:
    methods = sorted({ci["method"] for ci in summary["intervals"].values()})
    table = Table(title=f"headline figures, 95% intervals ({', '.join(methods)} over paths)", title_justify="left")
    for column in ("figure", "estimate", "95% interval"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    for name, ci in summary["intervals"].items():
        probability = name.startswith("p_")
        fmt = (lambda v: f"{v:.2%}") if probability else usd
        table.add_row(name, fmt(ci["estimate"]), f"{fmt(ci['low'])} - {fmt(ci['high'])}")
    return table


def run_sweep(console, config, name, specs, scheduler, workers, out) -> None:
    try:
        axes = [parse_sweep(spec) for spec in specs]
        client = connect(scheduler) if scheduler is not None else None
    except SweepError as error:
        raise SimulateError(type(error).__name__, str(error)) from None
    names = [n for n, _ in axes]
    try:
        with console.status(f"sweeping {' x '.join(names)} ({scheduler or 'local processes'})"):
            points = sweep_grid(config, axes, scheduler=client, workers=workers)
    except SweepError as error:
        raise SimulateError(type(error).__name__, str(error)) from None
    finally:
        if client is not None:
            client.close()
    table = Table(title=f"sweep of {' x '.join(names)} (common random numbers)", title_justify="left")
    for column in (*names, "mean bad debt (95% CI)", "p99 bad debt", "mean LP loss", "P(LP loss)", "P(ins. depleted)"):
        table.add_column(column, justify="right")
    for point in points:
        s = point["summary"]
        ci = s["intervals"]["mean_bad_debt_usd"]
        table.add_row(
            *(f"{point['values'][n]:g}" for n in names),
            f"{usd(ci['estimate'])} ({usd(ci['low'])}-{usd(ci['high'])})",
            usd(s["distribution_usd"]["shortfall"]["p99"]),
            usd(s["distribution_usd"]["from_pool"]["mean"]),
            f"{s['intervals']['p_lp_loss']['estimate']:.1%}",
            f"{s['probability']['insurance_depleted']:.1%}",
        )
    console.print(table)
    unconverged = sorted({k for p in points for k in p["summary"]["convergence"]["paths_needed"]})
    if unconverged:
        console.print(
            f"[yellow]warning[/]: ConvergenceWarning: {', '.join(unconverged)} wider than +/-10% at some grid points "
            "(summary intervals in sweep.json): run more paths",
            highlight=False,
        )
    even = break_even(points, config.population.insurance_usd) if len(names) == 1 else None
    if even is not None:
        even["interval"] = break_even_interval(points, config.population.insurance_usd, config.seed)
        console.print(describe_break_even(names[0], even))
    if out is not None:
        from simulator import export, plots

        out.mkdir(parents=True, exist_ok=True)
        written = [export.write_json(out / "sweep.json", {"points": for_json(points), "break_even": even})]
        if len(names) == 1:
            written.append(
                plots.sensitivity(
                    points, config.population.insurance_usd, out / "sensitivity.png", f"{name}: {names[0]}"
                )
            )
        else:
            written.append(plots.heat_map(points, names, out / "heat_map.png", f"{name}: mean bad debt"))
        console.print("written: " + ", ".join(str(f) for f in written))


def run_sizing(console, config, name, layer, target_p, target_cvar, workers, out) -> None:
    if (target_p is None) == (target_cvar is None):
        raise SimulateError("UsageError", "--size needs one target: --target-p-lp-loss P or --target-cvar99 USD")
    metric, target = ("p_lp_loss", target_p) if target_p is not None else ("lp_cvar99", target_cvar)
    field = f"{layer}_usd"
    try:
        with console.status(f"sizing {field} for {metric} <= {target:g}"):
            sizing = size_backstop(config, field, metric, target, workers=workers or 1)
    except SizingError as error:
        raise SimulateError("SizingError", str(error)) from None
    table = Table(title=f"capital at risk: LP loss per path against {field}", title_justify="left")
    for column in (field, "mean", "p99", "p99.9", "CVaR99", "P(LP loss)"):
        table.add_column(column, justify="right")
    curve = sizing["curve"]
    if len(curve) > 14:  # a readable table: 12 sizes spread over the curve and the recommendation
        keep = {round(i * (len(curve) - 1) / 11) for i in range(12)}
        curve = [r for i, r in enumerate(curve) if i in keep or r["size_usd"] == sizing["recommended_usd"]]
    for row in curve:
        table.add_row(
            usd(row["size_usd"]),
            usd(row["mean"]),
            usd(row["p99"]),
            usd(row["p99.9"]),
            usd(row["cvar99"]),
            f"{row['p_lp_loss']:.2%}",
        )
    console.print(table)
    if sizing["met"]:
        ci = sizing["interval_usd"]
        value = sizing["metric_at_recommended"]
        shown = f"{value:.2%}" if metric == "p_lp_loss" else f"${value:,.0f}"
        console.print(
            f"recommended {field}: ${sizing['recommended_usd']:,} for {sizing['metric_label']} <= {target:g} "
            f"(at it: {shown}; {ci['level']:.0%} interval ${ci['low']:,.0f} - ${ci['high']:,.0f}, "
            f"{sizing['paths']:,} paths; the config has ${sizing['base_usd']:,})"
        )
    else:
        console.print(f"no {field} up to the largest tried meets {sizing['metric_label']} <= {target:g}")
    if out is not None:
        from simulator import export, plots

        out.mkdir(parents=True, exist_ok=True)
        written = [
            export.write_json(out / "sizing.json", sizing),
            plots.capital_at_risk(sizing, out / "capital_at_risk.png", f"{name}: LP loss against {field}"),
            plots.loss_exceedance(sizing, out / "loss_exceedance.png", f"{name}: loss exceedance"),
        ]
        console.print("written: " + ", ".join(str(f) for f in written))


@click.command()
@click.option("--preset", help=f"a named incident: {', '.join(sorted(PRESETS))}")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a SimConfig YAML/JSON",
)
@click.option("--paths", type=click.IntRange(min=1), help="number of paths (overrides the config)")
@click.option("--seed", type=click.IntRange(min=0), help="seed of the price paths and latencies (overrides the config)")
@click.option(
    "--population-seed", type=click.IntRange(min=0), help="seed of the trader population (overrides the config)"
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="write JSON, CSV, vector and PNG here")
@click.option(
    "--sweep",
    "sweep_specs",
    multiple=True,
    help="PARAM=v1,v2,... (give it twice for a two-parameter grid): latency_s, heartbeat_s, deviation_bps, "
    "max_age_s, keeper_latency_s, gas_cost_usd, insurance_usd, safety_module_usd, lp_deposit_usd, leverage, "
    "leverage_max, positions, notional_median_usd, oi_scale, or any numeric field's dotted path",
)
@click.option("--size", "size_layer", type=click.Choice(["insurance", "safety_module"]), help="size this layer")
@click.option("--target-p-lp-loss", type=float, help="--size target: P(LP loss > 0) at most this")
@click.option("--target-cvar99", type=float, help="--size target: LP loss CVaR99 at most this (USD)")
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
    population_seed,
    out,
    sweep_specs,
    size_layer,
    target_p_lp_loss,
    target_cvar99,
    scheduler,
    workers,
    exact_paths,
    median_vs_single_,
    from_deployment,
) -> None:
    console = Console(width=120)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_config(preset, config_file, paths, seed, population_seed)
    show_warnings(console, caught)
    if from_deployment:
        from simulator.from_chain import run_cli

        return run_cli(from_deployment, config, console, out, ROOT / "deployments")
    if sweep_specs and size_layer:
        raise SimulateError("UsageError", "--sweep and --size are separate runs: give one")
    if len(sweep_specs) > 2:
        raise SimulateError("SweepError", f"--sweep given {len(sweep_specs)} times: one or two parameters")
    name = config.path.preset or config.path.kind
    console.print(
        f"[bold]{name}[/]: {config.paths:,} paths x {config.steps:,} steps of {config.step_s} s, "
        f"{config.population.positions:,} positions, insurance ${config.population.insurance_usd:,}, "
        f"safety module ${config.population.safety_module_usd:,}, LP ${config.population.lp_deposit_usd:,}"
    )
    if size_layer:
        return run_sizing(console, config, name, size_layer, target_p_lp_loss, target_cvar99, workers, out)
    if scheduler is not None and not sweep_specs:
        raise SimulateError("UsageError", "--scheduler runs a sweep's grid points: give --sweep too")
    if sweep_specs:
        return run_sweep(console, config, name, sweep_specs, scheduler, workers, out)

    with Progress(console=console, transient=True) as progress, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
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
    console.print(interval_table(report.summary))
    show_warnings(console, caught, report.summary["convergence"])
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
        table = Table(title="bad debt under four oracles (same paths)", title_justify="left")
        table.add_column("USD per path (mean)")
        cases = (
            ("single_feed_healthy", "single healthy"),
            ("single_feed_stuck", "single stuck"),
            ("median_of_3_healthy", "median, 3 healthy"),
            ("median_of_3", "median, 1 stuck"),
        )
        for _, label in cases:
            table.add_column(label, justify="right")
        for key, label in (
            ("shortfall", "bad debt realised"),
            ("from_pool", "  of it on the pool"),
            ("unrealised_shortfall", "unliquidated at horizon"),
            ("bad_debt", "bad debt, both"),
        ):
            table.add_row(label, *(usd(comparison[case][key]) for case, _ in cases))
        console.print(table)
        ci = comparison["intervals"]

        def dollars(value: float) -> str:
            return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"

        def money(key: str) -> str:
            return f"{dollars(comparison[key])} ({dollars(ci[key]['low'])} - {dollars(ci[key]['high'])})"

        console.print(
            f"the median with one stuck source saves {money('bad_debt_saved_usd')} per path against the stuck single "
            f"feed, and costs {money('median_stuck_vs_single_healthy_usd')} against a healthy single feed "
            f"({money('median_stuck_vs_median_healthy_usd')} against three healthy sources); 95% intervals"
        )
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
