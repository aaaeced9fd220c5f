"""Slow: the random agent runs every physics and dmc suite at the smoke budget; runs are stored."""

from __future__ import annotations

import json

import pytest
from smoke_suite_helpers import assert_smoke_suite_stored


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["classic", "gravity", "robust", "hidden", "mdp", "dmc"])
def test_random_agent_finishes_the_smoke_tier_of_a_suite(cli, db_url: str, suite: str) -> None:
    assert_smoke_suite_stored(cli, db_url, "random", suite)
    runs = json.loads(cli("results", "--json", "--db", db_url).out)
    assert all(run["budget_steps"] == 2000 for run in runs)
