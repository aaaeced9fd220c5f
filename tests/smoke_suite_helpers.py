"""One check shared by the slow end-to-end tests: a suite's smoke runs all finish and are stored.

``pomdpbench run --agent A --suite S --budget smoke`` must leave one finished run per task of
the suite, each through its whole budget and with a final score.
"""

from __future__ import annotations

import json
from typing import Any

from pomdpbench.registry import get_suite


def assert_smoke_suite_stored(cli: Any, db_url: str, agent: str, suite: str, *extra: str) -> None:
    """Run ``agent`` on ``suite`` at the smoke budget and check every run in the store."""
    command = ["run", "--agent", agent, "--suite", suite, "--budget", "smoke", *extra]
    result = cli(*command, "--db", db_url)
    assert result.status == 0, result.out + result.err
    runs = json.loads(cli("results", "--db", db_url, "--json").out)
    assert sorted(run["task"] for run in runs) == sorted(get_suite(suite).tasks)
    for run in runs:
        assert run["agent"] == agent and run["status"] == "finished", run
        assert run["tier"] == "smoke" and run["env_steps"] == run["budget_steps"], run
        assert run["final_score"] is not None, run
