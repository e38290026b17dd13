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

from simulator.config import SimConfig, SourceConfig
from simulator.exact import ExactResult, run_exact
from simulator.metrics import summarise
from simulator.sweep import open_interest_usd
from simulator.vectorised import ChunkResult, run_vectorised

EXACT_MAX_POSITIONS = 300  # tier 1 copies the whole system per action until the journal lands


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
    """Bad debt with the market's single source stuck (frozen at the crash) against a median of
    that stuck source and `healthy` independent healthy ones (quorum: a majority)."""
    data = config.model_dump()
    source = data["oracle"]["sources"][0]
    if source.get("frozen_at_s") is None:
        source["frozen_at_s"] = config.path.drop_start_s
    single = SimConfig.model_validate(data)
    # Each source's own staleness bound: its heartbeat plus 10 minutes (consumers use 1.1-1.2x).
    stuck = SourceConfig.model_validate(source | {"max_age_s": source["heartbeat_s"] + 600})
    fresh = stuck.model_copy(update={"frozen_at_s": None, "resume_at_s": None})
    sources = [stuck] + [fresh] * healthy
    data["oracle"] = dict(
        sources=[s.model_dump() for s in sources],
        quorum=len(sources) // 2 + 1,
        max_spread_bps=spread_bps,
        sequencer=data["oracle"]["sequencer"],
    )
    median = SimConfig.model_validate(data)
    one = run_vectorised(single).values
    many = run_vectorised(median).values
    return {
        "paths": config.paths,
        "single_feed_stuck": {k: float(one[k].mean()) for k in ("shortfall", "from_pool", "unrealised_shortfall")},
        "median_of_3": {k: float(many[k].mean()) for k in ("shortfall", "from_pool", "unrealised_shortfall")},
        "bad_debt_saved_usd": float(
            (one["shortfall"] + one["unrealised_shortfall"]).mean()
            - (many["shortfall"] + many["unrealised_shortfall"]).mean()
        ),
    }
