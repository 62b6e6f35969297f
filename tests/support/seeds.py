"""One seed for every Hypothesis test in a run (the fuzz runs of tests/test_fuzz_http.py too):
HYPOTHESIS_SEED when set (.ci/run sets it: CI tries the same examples every run), else a random
one. The run's header names it; run again with HYPOTHESIS_SEED=<it> (or --hypothesis-seed=<it>)
to repeat a failing run's examples."""

from __future__ import annotations

import os
import random

import pytest

SEED_VARIABLE = "HYPOTHESIS_SEED"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before Hypothesis' own plugin reads it: the run's seed, unless --hypothesis-seed gave
    one."""
    if getattr(config.option, "hypothesis_seed", None) is None:
        config.option.hypothesis_seed = os.environ.get(SEED_VARIABLE) or str(
            random.SystemRandom().randrange(2**32))


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.option.hypothesis_seed
    return (f"hypothesis seed: {seed} (repeat these examples with {SEED_VARIABLE}={seed} or "
            f"--hypothesis-seed={seed})")
