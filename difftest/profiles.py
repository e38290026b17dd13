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
    examples: int  # sequences
    steps: int  # steps per sequence (stateful_step_count)


# The stateful ledger fuzzer (tests/fuzz): sequences x steps per profile.
# Steps count rules after the opening `initialize` step.
STATEFUL = {"dev": Stateful(20, 31), "ci": Stateful(300, 31), "deep": Stateful(5_000, 41)}[PROFILE]
