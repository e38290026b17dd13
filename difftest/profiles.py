"""Hypothesis profiles, set in one place. Choose with HYPOTHESIS_PROFILE=dev|ci|deep.

`ci` is the default for `make test`; `deep` is for `make fuzz-deep` and benchmarks.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from hypothesis import HealthCheck, settings

_common = dict(
    deadline=None,  # chain round trips vary; speed is measured by `make bench`, not here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)

# Examples per differential math test (one test per library function).
settings.register_profile("dev", max_examples=30, **_common)
settings.register_profile("ci", max_examples=150, **_common)
settings.register_profile("deep", max_examples=3000, **_common)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


class Stateful(NamedTuple):
    examples: int  # sequences, all shards together
    steps: int  # steps per sequence (stateful_step_count)
    shards: int  # test functions sharing the sequences (xdist workers run them in parallel)


# The stateful ledger fuzzer (tests/fuzz): sequences x steps per profile, split over shards.
# Steps count rules after the opening `initialize` step. `ci` ran 300 sequences in one test
# before batching and sharding (186 s of the suite for 400 after them); immediate ACKs on the
# RPC socket (chainio/rpc.py) brought 400 to 69 s, and the time saved buys 1,000 now.
_STATEFUL = {
    "dev": Stateful(20, 31, 1),
    "ci": Stateful(1_000, 31, 4),
    "deep": Stateful(5_000, 41, 2),
}
STATEFUL = _STATEFUL[PROFILE]


def stateful_profile(name: str) -> Stateful:
    """A profile's stateful settings by name (fuzz campaigns choose theirs per run)."""
    if name not in _STATEFUL:
        raise ValueError(f"profile: {name!r} is not one of {sorted(_STATEFUL)}")
    return _STATEFUL[name]


# `make fuzz-deep FUZZ_MINUTES=…`: a time budget for the whole run (each shard stops cleanly
# with its summary when it is spent); unset, the profile's sequences run to the end.
FUZZ_MINUTES = float(os.environ["FUZZ_MINUTES"]) if os.environ.get("FUZZ_MINUTES") else None
