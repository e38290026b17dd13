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
    """Mean and p99 shortfall and mean LP loss against the swept parameter, with each point's
    own insurance bucket (a diagonal when the bucket is what is swept)."""
    x = [p["value"] for p in points]
    mean = [p["summary"]["distribution_usd"]["shortfall"]["mean"] for p in points]
    p99 = [p["summary"]["distribution_usd"]["shortfall"]["p99"] for p in points]
    lp = [p["summary"]["distribution_usd"]["from_pool"]["mean"] for p in points]
    buckets = [p.get("insurance_usd", insurance_usd) for p in points]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    ax.plot(x, mean, "o-", label="expected shortfall")
    if all("intervals" in p["summary"] for p in points):
        low = [p["summary"]["intervals"]["mean_bad_debt_usd"]["low"] for p in points]
        high = [p["summary"]["intervals"]["mean_bad_debt_usd"]["high"] for p in points]
        ax.fill_between(x, low, high, alpha=0.2, label="95% interval")
    ax.plot(x, p99, "s--", label="p99 shortfall")
    ax.plot(x, lp, "^-", color="tab:red", label="expected LP loss")
    ax.plot(x, buckets, color="tab:blue", linestyle=":", label="insurance bucket")
    ax.set_xlabel(points[0]["parameter"])
    ax.set_ylabel("USD per path")
    return _finish(fig, ax, title, path)


def heat_map(points: list[dict[str, Any]], names: list[str], path: Path, title: str) -> Path:
    """Mean bad debt over a two-parameter grid (one cell per grid point, values written in)."""
    xs = sorted({p["values"][names[0]] for p in points})
    ys = sorted({p["values"][names[1]] for p in points})
    grid = np.full((len(ys), len(xs)), np.nan)
    for p in points:
        grid[ys.index(p["values"][names[1]]), xs.index(p["values"][names[0]])] = p["summary"]["distribution_usd"][
            "shortfall"
        ]["mean"]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=90)
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="magma_r")
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs])
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    for (j, i), value in np.ndenumerate(grid):
        ax.text(i, j, f"{value:,.0f}", ha="center", va="center", fontsize=7, color="tab:cyan")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    fig.colorbar(image, ax=ax, label="mean bad debt per path (USD)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def capital_at_risk(sizing: dict[str, Any], path: Path, title: str) -> Path:
    """LP loss quantiles (and CVaR99) against the size of the layer sized, the recommendation
    and its interval marked."""
    curve = sizing["curve"]
    x = [row["size_usd"] for row in curve]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    for key, style in (("mean", "k-"), ("p99", "o-"), ("p99.9", "s-"), ("cvar99", "^--")):
        ax.plot(x, [row[key] for row in curve], style, markersize=3, label=f"LP loss {key}")
    if sizing["recommended_usd"] is not None:
        ax.axvline(sizing["recommended_usd"], color="tab:green", label="recommended")
    if sizing["interval_usd"] is not None:
        ci = sizing["interval_usd"]
        ax.axvspan(ci["low"], ci["high"], color="tab:green", alpha=0.15, label=f"{ci['level']:.0%} interval")
    ax.set_xlabel(f"{sizing['layer']} (USD)")
    ax.set_ylabel("LP loss per path (USD)")
    return _finish(fig, ax, title, path)


def loss_exceedance(sizing: dict[str, Any], path: Path, title: str) -> Path:
    """P(loss >= x) against x, log-log: the LPs' loss with no layer and at the recommended
    size, and the bad debt itself."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
    curves = sizing["loss_exceedance"]
    labels = {
        "bad_debt": "bad debt",
        "zero": f"LP loss, {sizing['layer']} 0",
        "recommended": f"LP loss, {sizing['layer']} {sizing['recommended_usd'] or 0:,}",
    }
    for key, label in labels.items():
        curve = curves.get(key)
        if curve and curve["loss_usd"]:
            ax.step(curve["loss_usd"], curve["probability"], where="post", label=label)
    if sizing["metric"] == "p_lp_loss":
        ax.axhline(sizing["target"], color="tab:gray", linestyle=":", label="target")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("loss per path (USD)")
    ax.set_ylabel("probability of at least")
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
