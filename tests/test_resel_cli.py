"""``pomdpbench run --agent resel`` end to end: smoke runs of whole suites finish and are stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pomdpbench.registry import get_suite


@pytest.mark.slow
@pytest.mark.parametrize(
    ("agent", "suite"),
    [
        ("resel", "diagnostic"),
        ("resel", "sanity"),
        ("resel-gru", "diagnostic"),
        ("resel-transformer", "diagnostic"),
    ],
)
def test_smoke_runs_of_a_suite_finish_and_are_stored(
    agent: str, suite: str, cli: Any, db_url: str
) -> None:
    result = cli(
        "run",
        "--agent",
        agent,
        "--suite",
        suite,
        "--budget",
        "smoke",
        "--threads",
        "1",
        "--db",
        db_url,
    )
    assert result.status == 0, result.out + result.err
    runs = json.loads(cli("results", "--db", db_url, "--json").out)
    assert sorted(r["task"] for r in runs) == sorted(get_suite(suite).tasks)
    for run in runs:
        assert run["agent"] == agent and run["status"] == "finished", run
        assert run["env_steps"] == run["budget_steps"] and run["final_score"] is not None
