"""Slow: the random agent runs every physics and dmc suite at the smoke budget; runs are stored."""

from __future__ import annotations

import json

import pytest

import pomdpbench


@pytest.mark.slow
@pytest.mark.parametrize("suite", ["classic", "gravity", "robust", "hidden", "mdp", "dmc"])
def test_random_agent_finishes_the_smoke_tier_of_a_suite(cli, db_url: str, suite: str) -> None:
    result = cli("run", "--agent", "random", "--suite", suite, "--budget", "smoke", "--db", db_url)
    assert result.status == 0, result.err
    runs = json.loads(cli("results", "--json", "--db", db_url).out)
    assert sorted(run["task"] for run in runs) == sorted(pomdpbench.get_suite(suite).tasks)
    for run in runs:
        assert run["status"] == "finished" and run["tier"] == "smoke"
        assert run["env_steps"] == run["budget_steps"] == 2000
        assert run["final_score"] is not None
