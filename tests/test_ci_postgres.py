"""What CI holds to. PostgreSQL is required (REQUIRE_POSTGRES=1 in .ci/run): there a PostgreSQL
that does not answer, or lacks the database, fails the PostgreSQL tests; a local run without the
switch skips them, saying why (each case runs one PostgreSQL test in a pytest of its own). And
the Hypothesis seed is fixed there, and named in every run's header."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.databases import POSTGRES_URL, REQUIRE_SWITCH, postgres_reason

ROOT = Path(__file__).resolve().parent.parent
ONE_POSTGRES_TEST = ("tests/test_buttons.py::"
                     "test_an_out_of_date_button_gets_the_one_polite_answer[postgres]")


def run_pytest(url: str, required: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (REQUIRE_SWITCH, "PYTEST_ADDOPTS")}
    env["TEST_POSTGRES_URL"] = url
    if required:
        env[REQUIRE_SWITCH] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p",
         "no:randomly", ONE_POSTGRES_TEST],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)


def closed_port_url() -> str:
    return f"postgresql://127.0.0.1:{free_port()}/test"


def test_without_the_switch_an_unreachable_postgres_is_skipped_with_the_reason() -> None:
    url = closed_port_url()
    result = run_pytest(url, required=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert f"no PostgreSQL answers at {url}" in result.stdout


def test_with_the_switch_an_unreachable_postgres_fails() -> None:
    url = closed_port_url()
    result = run_pytest(url, required=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped" not in result.stdout
    assert f"PostgreSQL is required here ({REQUIRE_SWITCH}=1), but no PostgreSQL answers " \
           f"at {url}" in result.stdout


async def test_with_the_switch_a_missing_database_fails() -> None:
    if await postgres_reason() is not None:
        pytest.skip("needs a PostgreSQL that answers, to ask it for a database it lacks")
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/pb_no_such_database"
    result = run_pytest(url, required=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "InvalidCatalogNameError" in result.stdout
    assert f"PostgreSQL is required here ({REQUIRE_SWITCH}=1)" in result.stdout


def test_ci_sets_the_switch() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert f"export {REQUIRE_SWITCH}=1" in script
    assert script.index(f"export {REQUIRE_SWITCH}=1") < script.index("exec ./test.sh")


def test_ci_fixes_the_hypothesis_seed_and_every_run_uses_one(pytestconfig: pytest.Config) -> None:
    from hypothesis import core

    script = (ROOT / ".ci" / "run").read_text()
    assert 'export HYPOTHESIS_SEED="${HYPOTHESIS_SEED:-' in script
    # This run's seed (tests/support/seeds.py), handed to Hypothesis for every test.
    seed = pytestconfig.option.hypothesis_seed
    assert seed is not None and core.global_force_seed == int(seed)
