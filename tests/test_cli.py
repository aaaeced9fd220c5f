"""The command line: listings, a smoke sweep with results, and every user error in one line."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest

import pomdpbench

REQUIRED_RESULT_FIELDS = {
    "run_id",
    "agent",
    "task",
    "task_version",
    "suite",
    "tier",
    "seed",
    "status",
    "env_steps",
    "final_score",
    "wall_time_s",
    "steps_per_s",
}


def test_list_suites_tasks_agents_as_json(cli: Any) -> None:
    suites = json.loads(cli("list", "suites", "--json").out)
    assert {"sanity", "diagnostic"} <= {s["id"] for s in suites}
    tasks = json.loads(cli("list", "tasks", "--suite", "sanity", "--json").out)
    assert len(tasks) == 9 and all(t["version"] == 0 for t in tasks)
    assert {t["id"] for t in tasks} == set(pomdpbench.get_suite("sanity").tasks)
    agents = json.loads(cli("list", "agents", "--json").out)
    assert {"random", "sac-mlp"} <= {a["id"] for a in agents}
    table = cli("list", "tasks", "--suite", "diagnostic")
    assert table.status == 0 and "TMazePassive-30-v0" in table.out


def test_random_smoke_sweep_then_results(cli: Any, db_url: str) -> None:
    first = cli(
        "run", "--agent", "random", "--suite", "sanity", "--budget", "smoke", "--db", db_url
    )
    assert first.status == 0, first.err
    assert "9 finished" in first.err
    runs = json.loads(cli("results", "--db", db_url, "--json").out)
    assert len(runs) == 9 and set(runs[0]) >= REQUIRED_RESULT_FIELDS
    assert {r["task"] for r in runs} == set(pomdpbench.get_suite("sanity").tasks)
    assert all(r["status"] == "finished" and r["env_steps"] == 2000 for r in runs)
    assert all(r["tier"] == "smoke" and r["final_score"] is not None for r in runs)
    # the same command again skips everything
    again = cli(
        "run", "--agent", "random", "--suite", "sanity", "--budget", "smoke", "--db", db_url
    )
    assert again.status == 0 and "9 skipped" in again.err
    assert len(json.loads(cli("results", "--db", db_url, "--json").out)) == 9
    filtered = json.loads(cli("results", "--db", db_url, "--task", "CartPole-V-v0", "--json").out)
    assert [r["task"] for r in filtered] == ["CartPole-V-v0"]


def test_environment_variable_selects_the_database(
    cli: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POMDPBENCH_DB", f"sqlite:///{workdir / 'env.db'}")
    result = cli("run", "--agent", "random", "--task", "TMazePassive-10-v0", "--steps", "30")
    assert result.status == 0, result.err
    assert (workdir / "env.db").exists() and not (workdir / "pomdpbench.db").exists()


def test_explicit_steps_seeds_and_overrides(cli: Any, db_url: str) -> None:
    result = cli(
        "run",
        "--agent",
        "sac-mlp",
        "--task",
        "CartPole-V-v0",
        "--steps",
        "150",
        "--seeds",
        "3",
        "4",
        "--set",
        "learning_starts=100",
        "--set",
        "hidden_sizes=[16, 16]",
        "--set",
        "batch_size=32",
        "--eval-episodes",
        "1",
        "--threads",
        "1",
        "--db",
        db_url,
    )
    assert result.status == 0, result.err
    runs = json.loads(cli("results", "--db", db_url, "--json").out)
    assert sorted(r["seed"] for r in runs) == [3, 4]
    assert all(r["tier"] == "custom" and r["env_steps"] == 150 for r in runs)
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pomdpbench.store import Store
    from pomdpbench.store.models import Run

    with Session(Store.open(db_url).engine) as session:
        configs = [run.agent_config for run in session.scalars(select(Run))]
    assert all(c["hidden_sizes"] == [16, 16] and c["batch_size"] == 32 for c in configs)
    assert all(c["learning_starts"] == 100 and c["gamma"] == 0.99 for c in configs)


def one_line_error(result: Any, *fragments: str) -> None:
    assert result.status == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ") and "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


RUN = ("run", "--budget", "smoke")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ("--agent", "sac-mpl", "--suite", "sanity"),
            ("unknown agent 'sac-mpl'", "did you mean 'sac-mlp'"),
        ),
        (("--agent", "nosuchagent", "--suite", "sanity"), ("unknown agent", "package.module:Name")),
        (("--agent", "random", "--task", "Pendulum-X-v0"), ("unknown task", "did you mean")),
        (
            ("--agent", "random", "--suite", "sanitee"),
            ("unknown suite 'sanitee'", "did you mean 'sanity'"),
        ),
        (
            ("--agent", "my pkg:Agent", "--suite", "sanity"),
            ("malformed agent path", "package.module:Name"),
        ),
        (
            ("--agent", "no_such_module_xyz:Agent", "--suite", "sanity"),
            ("cannot import module 'no_such_module_xyz'",),
        ),
        (("--agent", "json:NoSuchThing", "--suite", "sanity"), ("has no attribute 'NoSuchThing'",)),
        (
            ("--agent", "sac-mlp", "--suite", "sanity", "--set", "gama=0.9"),
            ("unknown hyperparameter(s) gama", "valid:"),
        ),
        (("--agent", "sac-mlp", "--suite", "sanity", "--set", "gamma"), ("malformed override",)),
        (
            ("--agent", "sac-mlp", "--suite", "sanity", "--set", "batch_size=big"),
            ("should be of type int",),
        ),
        (("--agent", "random", "--suite", "sanity", "--device", "tpu"), ("unknown device",)),
        (
            ("--agent", "random", "--suite", "sanity", "--db", "nonsense"),
            ("malformed database URL",),
        ),
        (
            ("--agent", "random", "--suite", "sanity", "--db", "sqlite:////no/such/dir/x.db"),
            ("folder /no/such/dir of the database", "does not exist", "--db"),
        ),
        (("--agent", "random"), ("name the tasks with --suite",)),
        (
            ("--agent", "random", "--suite", "sanity", "--workers", "0"),
            ("--workers must be at least 1",),
        ),
        (
            ("--agent", "random", "--suite", "sanity", "--threads", "0"),
            ("--threads must be at least 1",),
        ),
    ],
)
def test_run_errors_are_one_line(
    cli: Any, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    one_line_error(cli(*RUN, *args), *fragments)


def test_unknown_tier_names_the_choices(cli: Any) -> None:
    result = cli("run", "--agent", "random", "--suite", "sanity", "--budget", "huge")
    one_line_error(result, "unknown budget tier 'huge'", "full, short or smoke")


def test_budget_and_steps_together_are_refused(cli: Any) -> None:
    result = cli(
        "run", "--agent", "random", "--suite", "sanity", "--budget", "smoke", "--steps", "9"
    )
    one_line_error(result, "not allowed with argument")


def test_agent_that_does_not_speak_the_protocol(cli: Any, workdir: Path) -> None:
    (workdir / "bad_agent.py").write_text(
        "class Agent:\n    def __init__(self, ctx):\n        pass\n"
    )
    result = cli("run", "--agent", "bad_agent:Agent", "--task", "CartPole-V-v0", "--steps", "5")
    one_line_error(result, "lacks initial_state, act, observe, update, save, load")


def test_outside_agent_by_module_path(cli: Any, workdir: Path, db_url: str) -> None:
    (workdir / "my_agent.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            class Greedy:
                wants_privileged = False
                def __init__(self, ctx):
                    self.n = ctx.action_space.n
                def initial_state(self):
                    return None
                def act(self, inp, state, deterministic):
                    return 0, None
                def observe(self, transition):
                    pass
                def update(self):
                    return {}
                def save(self, directory):
                    directory.mkdir(parents=True, exist_ok=True)
                def load(self, directory):
                    pass
            """
        )
    )
    result = cli(
        "run",
        "--agent",
        "my_agent:Greedy",
        "--task",
        "CartPole-V-v0",
        "--steps",
        "50",
        "--db",
        db_url,
    )
    assert result.status == 0, result.err
    (run,) = json.loads(cli("results", "--db", db_url, "--json").out)
    assert run["agent"] == "my_agent:Greedy" and run["status"] == "finished"
    assert run["final_score"] == pytest.approx(9.45, abs=1.0)  # always pushing left falls fast


def test_locked_database_is_one_line(
    cli: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pomdpbench.store import database

    monkeypatch.setattr(database, "LOCK_TIMEOUT_S", 0.1)
    assert (
        cli(
            "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "10", "--db", db_url
        ).status
        == 0
    )
    locker = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    locker.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr("pomdpbench.store.repository.WRITE_TIMEOUT_S", 0.2)
    try:
        result = cli(
            "run", "--agent", "random", "--task", "CartPole-P-v0", "--steps", "10", "--db", db_url
        )
    finally:
        locker.rollback()
        locker.close()
    one_line_error(result, "is locked by another process", "--db")


def test_old_schema_database_is_one_line(cli: Any, db_url: str) -> None:
    assert (
        cli(
            "run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "10", "--db", db_url
        ).status
        == 0
    )
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE pomdpbench_meta SET value = '0'")
    one_line_error(cli("results", "--db", db_url), "older than this pomdpbench", "left untouched")
    one_line_error(
        cli("run", "--agent", "random", "--task", "CartPole-V-v0", "--steps", "10", "--db", db_url),
        "older than this pomdpbench",
    )


def test_results_without_a_database_is_one_line(cli: Any) -> None:
    one_line_error(cli("results", "--db", "sqlite:///absent.db"), "no results database at")


def test_unknown_listing(cli: Any) -> None:
    one_line_error(cli("list", "planets"), "unknown listing 'planets'")
