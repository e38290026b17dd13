"""Oracle-delay scenario simulator: exact (pymodel) and vectorised tiers. See docs/SIMULATOR.md."""

from simulator.api import Report, median_vs_single, simulate
from simulator.config import SimConfig, preset_config
from simulator.presets import PRESETS
from simulator.sizing import size_backstop
from simulator.sweep import sweep_grid  # not `sweep`: that stays the module (simulator.sweep.sweep)

__all__ = [
    "PRESETS",
    "Report",
    "SimConfig",
    "median_vs_single",
    "preset_config",
    "simulate",
    "size_backstop",
    "sweep_grid",
]
