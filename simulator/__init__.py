"""Oracle-delay scenario simulator: exact (pymodel) and vectorised tiers. See docs/SIMULATOR.md."""

from simulator.api import Report, median_vs_single, simulate
from simulator.config import SimConfig
from simulator.paths import PRESETS, preset_config

__all__ = ["PRESETS", "Report", "SimConfig", "median_vs_single", "preset_config", "simulate"]
