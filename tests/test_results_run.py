"""`pomdpbench results --run ID`: one run's config and provenance in the terminal."""

from __future__ import annotations

import json
from typing import Any


def test_one_run_shows_its_config_and_provenance(cli: Any, db_url: str) -> None:
    assert (
        cli(
            "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "20", "--db", db_url
        ).status
        == 0
    )
    (run,) = json.loads(cli("results", "--db", db_url, "--json").out)
    shown = cli("results", "--db", db_url, "--run", str(run["run_id"]))
    assert shown.status == 0, shown.err
    for field in (
        "agent_config",
        "agent_version",
        "python_version",
        "packages",
        "git_commit",
        "eval_every",
        "budget_steps",
        "host",
    ):
        assert field in shown.out
    fields = json.loads(cli("results", "--db", db_url, "--run", str(run["run_id"]), "--json").out)
    assert fields["agent"] == "random" and fields["budget_steps"] == 20
    assert "gymnasium" in fields["packages"]


def test_an_unknown_run_id_is_a_one_line_error(cli: Any, db_url: str) -> None:
    assert (
        cli(
            "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "5", "--db", db_url
        ).status
        == 0
    )
    result = cli("results", "--db", db_url, "--run", "999")
    assert result.status != 0 and "no run with id 999" in result.err
    assert len(result.err.strip().splitlines()) == 1
