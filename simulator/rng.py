"""The simulator's random numbers: one stream per purpose, drawn per path or per fixed block of
paths, so path i gets the same numbers whatever the chunking, the process or the grid point of a
sweep (common random numbers).

Streams: the price path, each oracle source's latency draws, the keepers' reaction latency, the
trader population. The population has its own seed (`SimConfig.population_seed`), so changing
the price-path seed re-draws the market, not the book.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

STREAM_PATH, STREAM_ORACLE, STREAM_KEEPER, STREAM_POPULATION = 1, 2, 3, 4
STREAM_BOOTSTRAP = 5  # resampling for confidence intervals (simulator.stats)
BLOCK = 64  # paths per random block: draws depend on (seed, stream, block), never on chunking


def path_rng(seed: int, path: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, path, stream])


def block_rows(
    seed: int, stream: int, first: int, count: int, make: Callable[[np.random.Generator, int], np.ndarray]
) -> np.ndarray:
    """Rows `first .. first+count-1` of a stream drawn in fixed blocks of BLOCK paths, so path i
    gets the same numbers in any chunk, process or grid point (common random numbers)."""
    low, high = first // BLOCK, (first + count - 1) // BLOCK
    rows = np.concatenate([make(np.random.default_rng([seed, stream, b]), BLOCK) for b in range(low, high + 1)])
    start = first - low * BLOCK
    return rows[start : start + count]
