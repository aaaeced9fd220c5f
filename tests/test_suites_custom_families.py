"""The suites credit, credit-cont, meta and memory: registry contract and smoke runs."""

from __future__ import annotations

import json

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import pomdpbench

SUITES = ("credit", "credit-cont", "meta", "memory")
TASKS = [task.id for suite in SUITES for task in pomdpbench.list_tasks(suite)]


def test_suites_have_the_issues_tasks():
    ids = {suite: [t.id for t in pomdpbench.list_tasks(suite)] for suite in SUITES}
    assert ids["credit"] == [f"KeyToDoor-{n}-v0" for n in (60, 120, 250, 500)]
    assert ids["credit-cont"] == [f"KeyToDoor-{n}-cont-v0" for n in (60, 120, 250, 500)]
    assert ids["meta"] == ["AntDir-v0", "CheetahDir-v0", "HalfCheetahVel-v0", "Wind-v0"]
    assert ids["memory"] == ["PointMassGoal-v0", "PointMassDoors-v0"]


@pytest.mark.parametrize("task_id", TASKS)
def test_task_spec_matches_the_environment(task_id):
    spec = pomdpbench.get_task(task_id)
    env = gymnasium.make(task_id)
    obs, info = env.reset(seed=0)
    assert obs.shape == (spec.observation_size,)
    assert env.observation_space.contains(obs)
    space = env.action_space
    kind = f"Discrete({space.n})" if hasattr(space, "n") else f"Box({space.shape[0]})"
    assert kind == spec.action_space
    if isinstance(space, gymnasium.spaces.Box):
        assert (space.low == -1).all() and (space.high == 1).all()
    assert ("state" in info) == (spec.privileged is not None)
    assert {"random", "target"} <= set(spec.references)
    assert spec.references["target"].score > spec.references["random"].score
    assert "pomdpbench reference" in spec.references["random"].source
    assert spec.deviations  # every re-implementation states how it differs
    eval_env = gymnasium.make(task_id, **spec.eval_kwargs)
    assert eval_env.reset(seed=0)[0].shape == obs.shape
    env.close()
    eval_env.close()


@pytest.mark.parametrize("task_id", TASKS)
@pytest.mark.filterwarnings("ignore:.*infinity:UserWarning")  # open bounds, as Gymnasium's MuJoCo
def test_gymnasium_env_checker_passes(task_id):
    env = gymnasium.make(task_id).unwrapped
    check_env(env, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("task_id", TASKS)
def test_seeded_reset_makes_episodes_reproducible(task_id):
    def trace(seed: int) -> np.ndarray:
        env = gymnasium.make(task_id)
        env.action_space.seed(123)
        observations = [env.reset(seed=seed)[0]]
        for _ in range(30):
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            observations.append(obs)
            if terminated or truncated:
                observations.append(env.reset()[0])
        env.close()
        return np.array(observations)

    np.testing.assert_array_equal(trace(5), trace(5))


@pytest.mark.parametrize("suite", ["credit", "meta", "memory"])
def test_random_smoke_run_of_the_suite_finishes_and_is_stored(cli, db_url, suite):
    result = cli("run", "--agent", "random", "--suite", suite, "--budget", "smoke", "--db", db_url)
    assert result.status == 0, result.err
    listed = cli("results", "--suite", suite, "--json", "--db", db_url)
    runs = json.loads(listed.out)
    tasks = {t.id for t in pomdpbench.list_tasks(suite)}
    assert {run["task"] for run in runs} == tasks
    assert all(run["status"] == "finished" for run in runs)
    assert all(run["tier"] == "smoke" for run in runs)
