"""The Python API (notebooks and `ape run simulate` use the same calls).

from simulator import preset_config, simulate
report = simulate(preset_config("oct_10_2025_cascade", paths=2_000), out="out/cascade")
report.summary["distribution_usd"]["from_pool"]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator import stats
from simulator.config import SimConfig, SourceConfig
from simulator.exact import ExactResult, run_exact
from simulator.metrics import summarise
from simulator.sweep import open_interest_usd
from simulator.vectorised import ChunkResult, run_vectorised

EXACT_MAX_POSITIONS = 300  # tier 1 on the worst paths only up to this many positions (its keeper scan)


@dataclass
class Report:
    config: SimConfig
    summary: dict[str, Any]
    result: ChunkResult
    exact: list[ExactResult] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def simulate(
    config: SimConfig,
    out: str | Path | None = None,
    exact_paths: int = 1,
    chunk: int = 500,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> Report:
    """Tier 2 on every path, tier 1 on the `exact_paths` worst of them (by tier-2 shortfall),
    the metrics, and with `out` the JSON/CSV outputs, plots and the worst path as a vector."""
    result = run_vectorised(config, chunk=chunk, progress=progress, workers=workers)
    exact: list[ExactResult] = []
    if config.population.positions <= EXACT_MAX_POSITIONS and exact_paths > 0:
        worst = np.argsort(-result.values["shortfall"], kind="stable")[:exact_paths]
        exact = [run_exact(config, int(i)) for i in worst]
    summary = summarise(config, result, open_interest_usd(config), exact)
    report = Report(config, summary, result, exact)
    if out is not None:
        write_outputs(report, Path(out))
    return report


def write_outputs(report: Report, out: Path) -> None:
    from simulator import export, plots

    out.mkdir(parents=True, exist_ok=True)
    name = report.config.path.preset or report.config.path.kind
    files = [
        export.write_json(out / "summary.json", report.summary),
        export.write_json(out / "config.json", report.config.model_dump(mode="json")),
        export.write_paths_csv(out / "paths.csv", report.result),
        plots.loss_distribution(report.result, out / "loss_by_layer.png", f"{name}: loss per layer per path"),
    ]
    if report.exact:
        worst = report.exact[0]
        files.append(export.write_ledger_csv(out / "worst_path_ledger.csv", worst))
        files.append(
            plots.path_prices(
                report.config, worst, out / "worst_path.png", f"{name}, path {worst.path}: market vs on-chain oracle"
            )
        )
        vector = export.path_vector(report.config, worst, f"simulator: {name}, path {worst.path} (worst of the run)")
        files.append(vector.dump(out / "worst_path.vector.json"))
    report.files = files


def median_vs_single(config: SimConfig, healthy: int = 2, spread_bps: int = 500) -> dict[str, Any]:
    """Bad debt under four oracles, on the same paths: the market's single source healthy, that
    source stuck (frozen at the crash), a median of three healthy sources, and a median of the
    stuck source and `healthy` healthy ones (quorum: a majority; spread bound `spread_bps`;
    each source's staleness bound its heartbeat plus 10 minutes). Bad debt counted: realised
    shortfall plus the negative equity still open at the horizon (what a stuck oracle hides)."""
    data = config.model_dump()
    source = dict(data["oracle"]["sources"][0])
    frozen_at = source.get("frozen_at_s")
    if frozen_at is None:
        frozen_at = config.path.drop_start_s
    stuck = SourceConfig.model_validate(source | {"frozen_at_s": frozen_at, "max_age_s": source["heartbeat_s"] + 600})
    fresh = stuck.model_copy(update={"frozen_at_s": None, "resume_at_s": None})

    def with_sources(sources: list[SourceConfig]) -> SimConfig:
        oracle = dict(
            sources=[s.model_dump() for s in sources],
            quorum=len(sources) // 2 + 1 if len(sources) > 1 else 1,
            max_spread_bps=spread_bps if len(sources) > 1 else data["oracle"]["max_spread_bps"],
            sequencer=data["oracle"]["sequencer"],
        )
        if len(sources) == 1:
            oracle["sources"][0]["max_age_s"] = source.get("max_age_s")
        return SimConfig.model_validate(data | {"oracle": oracle})

    cases = {
        "single_feed_healthy": with_sources([fresh.model_copy(update={"max_age_s": source.get("max_age_s")})]),
        "single_feed_stuck": with_sources([stuck.model_copy(update={"max_age_s": source.get("max_age_s")})]),
        "median_of_3_healthy": with_sources([fresh] * (healthy + 1)),
        "median_of_3": with_sources([stuck] + [fresh] * healthy),  # one stuck
    }
    keys = ("shortfall", "from_pool", "unrealised_shortfall")
    out: dict[str, Any] = {"paths": config.paths}
    bad_debt = {}
    for name, case in cases.items():
        values = run_vectorised(case).values
        out[name] = {k: float(values[k].mean()) for k in keys}
        total = values["shortfall"] + values["unrealised_shortfall"]
        out[name]["bad_debt"] = float(total.mean())
        bad_debt[name] = total
    one, many = bad_debt["single_feed_stuck"], bad_debt["median_of_3"]
    differences = {
        "bad_debt_saved_usd": one - many,  # vs the stuck single feed
        "median_stuck_vs_single_healthy_usd": many - bad_debt["single_feed_healthy"],
        "median_stuck_vs_median_healthy_usd": many - bad_debt["median_of_3_healthy"],
    }
    # Paired intervals: the four oracles share their paths, so each difference is resampled by path.
    indices = stats.resample_indices(len(one), config.seed) if 1 < len(one) <= stats.BOOTSTRAP_MAX_PATHS else None
    out["intervals"] = {}
    for name, per_path in differences.items():
        out[name] = float(per_path.mean())
        out["intervals"][name] = stats.interval(per_path, stats.mean, config.seed, indices=indices)
    return out
