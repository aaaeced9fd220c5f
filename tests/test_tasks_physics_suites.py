"""The physics suites as registered: listing, sizes, budgets, references, one run.

The registry contract of their tasks (spaces, privileged state, seeding, Gymnasium's checker)
is tests/test_registry.py's conformance test.
"""

from __future__ import annotations

import json
import math
import warnings

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.envs.bullet import make_bullet_task

PHYSICS_SUITES = ("classic", "classic-full", "gravity", "robust", "mdp")
SUITE_SIZES = {"classic": 8, "classic-full": 4, "gravity": 5, "robust": 5, "mdp": 5}
BUDGETS = {
    "classic": 1_500_000,
    "classic-full": 1_500_000,
    "gravity": 2_000_000,
    "robust": 2_000_000,
    "mdp": 5_000_000,
}


def make(task_id: str, **kwargs: object) -> gymnasium.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gymnasium.make(task_id, **kwargs)


@pytest.mark.parametrize("suite", PHYSICS_SUITES)
def test_list_tasks_json_gives_ids_versions_and_protocol(cli, suite: str) -> None:
    result = cli("list", "tasks", "--suite", suite, "--json")
    assert result.status == 0, result.err
    tasks = json.loads(result.out)
    assert len(tasks) == SUITE_SIZES[suite]
    for task in tasks:
        assert task["suite"] == suite
        assert task["version"] == 0 and task["id"].endswith("-v0")
        assert task["max_episode_steps"] == 1000
        assert task["tiers"]["full"]["budget"] == BUDGETS[suite]
        assert set(task["references"]) == {"random", "target"}
        for ref in task["references"].values():
            assert math.isfinite(ref["score"]) and ref["source"]
        assert task["references"]["target"]["score"] > task["references"]["random"]["score"]
        assert task["deviations"], "every physics task states how it differs from the papers"


def test_suite_ids_are_the_papers_names() -> None:
    assert set(pomdpbench.get_suite("classic").tasks) == {
        f"{robot}BLT-{mask}-v0"
        for robot in ("Ant", "HalfCheetah", "Hopper", "Walker")
        for mask in ("P", "V")
    }
    robots = {"Ant", "HalfCheetah", "Hopper", "Humanoid", "Walker2d"}
    assert set(pomdpbench.get_suite("gravity").tasks) == {f"{r}-Gravity-v0" for r in robots}
    assert set(pomdpbench.get_suite("robust").tasks) == {f"{r}-Robust-v0" for r in robots}
    assert set(pomdpbench.get_suite("mdp").tasks) == {f"{r}-MDP-v0" for r in robots}


def test_mdp_suite_scores_at_300k_and_1m() -> None:
    for task in pomdpbench.list_tasks("mdp"):
        assert task.score_at == (300_000, 1_000_000)


def test_pybullet_connection_message_is_silenced(capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    env = make_bullet_task("HopperBulletEnv-v0", [0, 1, 2])
    env.reset(seed=0)
    out, _ = capfd.readouterr()
    assert "argv[0]" not in out
    env.close()


def test_random_agent_runs_one_task_of_each_suite_and_stores_it(cli, db_url: str) -> None:
    tasks = ["HopperBLT-P-v0", "Hopper-Gravity-v0", "Hopper-Robust-v0", "Hopper-MDP-v0"]
    result = cli(
        "run",
        "--agent",
        "random",
        "--task",
        *tasks,
        "--steps",
        "600",
        "--eval-every",
        "300",
        "--eval-episodes",
        "2",
        "--db",
        db_url,
    )
    assert result.status == 0, result.err
    listed = cli("results", "--json", "--db", db_url)
    runs = json.loads(listed.out)
    assert sorted(run["task"] for run in runs) == sorted(tasks)
    assert all(run["status"] == "finished" and run["env_steps"] == 600 for run in runs)


@pytest.mark.parametrize("task_id", ["Humanoid-MDP-v0", "Humanoid-Robust-v0"])
def test_unit_actions_are_clipped_and_mapped_onto_the_base_bounds(task_id: str) -> None:
    env = make(task_id)
    env.reset(seed=0)
    action = np.zeros(17, dtype=np.float32)
    action[:4] = [1.0, -1.0, 0.5, 3.0]
    env.step(action)
    ctrl = env.unwrapped.data.ctrl  # Humanoid's bounds are [-0.4, 0.4]
    np.testing.assert_allclose(ctrl[:5], [0.4, -0.4, 0.2, 0.4, 0.0], atol=1e-6)
