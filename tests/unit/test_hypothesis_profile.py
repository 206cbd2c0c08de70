"""Property tests are reproducible in CI: the "ci" profile (new examples each run, failures printed as a
blob) runs from one seed per run, which the header prints (``--hypothesis-seed`` replays it)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

from hypothesis import settings

from tests.conftest import ROOT


def _header() -> str:
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    env.pop("RUAMSUE_HYPOTHESIS_SEED", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider",
                          "tests/unit/test_pricing_estimate.py"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_ci_profile() -> None:
    ci = settings.get_profile("ci")
    assert ci.print_blob is True and ci.derandomize is False and ci.database is None
    assert ci.deadline == timedelta(seconds=1)


def test_a_ci_run_prints_its_seed_and_how_to_replay_it() -> None:
    found = re.search(r"hypothesis: profile 'ci', seed (\d+); again: HYPOTHESIS_PROFILE=ci pytest "
                      r"--hypothesis-seed=(\d+)", _header())
    assert found is not None and found[1] == found[2]
