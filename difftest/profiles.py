"""Hypothesis profiles, set in one place. Choose with HYPOTHESIS_PROFILE=dev|ci|deep.

`ci` is the default for `make test`; `deep` is for `make fuzz-deep` and benchmarks.
"""

from __future__ import annotations

import os

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

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
