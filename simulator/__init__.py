"""Oracle-delay scenario simulator: exact (pymodel) and vectorised tiers. See docs/SIMULATOR.md."""

from simulator.api import Report, median_vs_single, simulate
from simulator.config import SimConfig, preset_config
from simulator.presets import PRESETS
from simulator.sizing import size_backstop
from simulator.sweep import sweep, sweep_grid

__all__ = [
    "PRESETS",
    "Report",
    "SimConfig",
    "median_vs_single",
    "preset_config",
    "simulate",
    "size_backstop",
    "sweep",
    "sweep_grid",
]
