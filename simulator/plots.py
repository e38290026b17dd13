"""PNG plots (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simulator.config import SimConfig  # noqa: E402
from simulator.exact import ExactResult  # noqa: E402
from simulator.vectorised import ChunkResult  # noqa: E402

LAYER_COLOURS = {
    "from_insurance": "tab:blue",
    "from_safety_module": "tab:orange",
    "from_pool": "tab:red",
}
PAID_BY = {"none": "tab:gray", **{k.removeprefix("from_"): v for k, v in LAYER_COLOURS.items()}}


def _finish(fig: Any, ax: Any, title: str, path: Path) -> Path:
    """Title, legend, layout; writes the PNG and frees the figure."""
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def loss_distribution(result: ChunkResult, path: Path, title: str) -> Path:
    """Histogram of each layer's payment per path (paths that paid nothing left out)."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    for layer, colour in LAYER_COLOURS.items():
        values = result.values[layer]
        paid = values[values > 0]
        if paid.size:
            ax.hist(paid, bins=40, alpha=0.55, color=colour, label=f"{layer[5:]} ({paid.size} paths)")
    ax.set_xlabel("paid per path (USD)")
    ax.set_ylabel("paths")
    ax.set_yscale("log")
    return _finish(fig, ax, title, path)


def sensitivity(points: list[dict[str, Any]], insurance_usd: float, path: Path, title: str) -> Path:
    """Mean and p99 shortfall against the swept parameter, with the insurance bucket."""
    x = [p["value"] for p in points]
    mean = [p["summary"]["distribution_usd"]["shortfall"]["mean"] for p in points]
    p99 = [p["summary"]["distribution_usd"]["shortfall"]["p99"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    ax.plot(x, mean, "o-", label="expected shortfall")
    ax.plot(x, p99, "s--", label="p99 shortfall")
    ax.axhline(insurance_usd, color="tab:blue", linestyle=":", label="insurance bucket")
    ax.set_xlabel(points[0]["parameter"])
    ax.set_ylabel("USD per path")
    return _finish(fig, ax, title, path)


def path_prices(config: SimConfig, result: ExactResult, path: Path, title: str) -> Path:
    """One path: market price vs the on-chain oracle price, liquidations marked and coloured by
    the deepest layer that paid (none: no bad debt)."""
    hours = np.arange(len(result.prices)) * config.step_s / 3600
    fig, ax = plt.subplots(figsize=(8, 4), dpi=90)
    ax.plot(hours, result.prices, color="black", linewidth=0.8, label="market")
    ax.step(hours, result.timeline.price()[0], where="post", color="tab:green", linewidth=1.2, label="on-chain oracle")
    shown = set()
    for row in result.liquidations:
        payer = (
            "pool"
            if row.from_pool
            else "safety_module"
            if row.from_safety_module
            else "insurance"
            if row.from_insurance
            else "none"
        )
        label = None if payer in shown else f"liquidation, paid by {payer}"
        shown.add(payer)
        ax.scatter(
            hours[row.step], row.oracle_price / 1e18, color=PAID_BY[payer], zorder=3, s=28, label=label, edgecolor="k"
        )
    ax.set_xlabel("hours")
    ax.set_ylabel("USD")
    return _finish(fig, ax, title, path)
