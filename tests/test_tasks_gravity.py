"""Randomized gravity: a fixed task set, training tasks at every reset, held-out evaluation."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.envs.gravity import GravityTaskSet

G0 = -9.81


def make(task_id: str, **kwargs: object) -> gymnasium.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gymnasium.make(task_id, **kwargs)


def test_task_set_is_fixed_split_and_within_limits() -> None:
    tasks = GravityTaskSet(log_scale_limit=3.0)
    every, train, test = tasks.exponents(), tasks.exponents("train"), tasks.exponents("test")
    assert every.shape == (120,) and train.shape == (100,) and test.shape == (20,)
    assert np.all(np.abs(every) <= 3.0) and every.min() < -2.5 and every.max() > 2.5
    assert not set(train.tolist()) & set(test.tolist())
    # The same set on every call, in every process: pinned so a numpy change cannot move it.
    np.testing.assert_allclose(every[:3], [0.82177, -1.38128, -2.75416], atol=1e-5)
    humanoid = GravityTaskSet(log_scale_limit=2.0).exponents()
    np.testing.assert_allclose(humanoid, every * 2.0 / 3.0)


def test_suite_uses_the_same_task_set_for_every_robot() -> None:
    for task in pomdpbench.list_tasks("gravity"):
        gravity = task.kwargs["gravity"]
        limit = 2.0 if task.id.startswith("Humanoid") else 3.0
        assert gravity == {"log_scale_limit": limit, "n_tasks": 120, "n_train": 100, "seed": 0}
        assert task.eval_kwargs == {"split": "test"}


def test_reset_sets_model_gravity_from_the_training_tasks() -> None:
    env = make("Hopper-Gravity-v0")
    model = env.unwrapped.model
    train = set(GravityTaskSet(3.0).exponents("train").tolist())
    test = set(GravityTaskSet(3.0).exponents("test").tolist())
    seen = set()
    env.reset(seed=0)
    for _ in range(400):
        env.reset()
        exponent = env.get_wrapper_attr("exponent")
        seen.add(exponent)
        np.testing.assert_allclose(model.opt.gravity, [0.0, 0.0, G0 * 1.5**exponent])
    assert seen <= train and not seen & test, "the test split must never appear in training"
    assert len(seen) > 90, "training draws (nearly) all of the 100 training tasks"


def test_evaluation_env_draws_only_held_out_tasks() -> None:
    task = pomdpbench.get_task("Walker2d-Gravity-v0")
    env = make(task.id, **task.eval_kwargs)
    test = set(GravityTaskSet(3.0).exponents("test").tolist())
    seen = set()
    for seed in range(200):
        env.reset(seed=seed)
        seen.add(env.get_wrapper_attr("exponent"))
    assert seen == test


def test_same_seed_same_gravity() -> None:
    env = make("Ant-Gravity-v0")
    draws = []
    for seed in (3, 3, 4):
        env.reset(seed=seed)
        draws.append(env.get_wrapper_attr("exponent"))
    assert draws[0] == draws[1]
    many = set()
    for seed in range(30):
        env.reset(seed=seed)
        many.add(env.get_wrapper_attr("exponent"))
    assert len(many) > 15


@pytest.mark.parametrize("task_id", ["Ant-Gravity-v0", "Hopper-Gravity-v0"])
def test_gravity_changes_the_dynamics(task_id: str) -> None:
    """The same state falls further under the stronger of two gravities."""
    env = make(task_id)
    by_exponent = {}
    for seed in range(40):
        env.reset(seed=seed)
        by_exponent[env.get_wrapper_attr("exponent")] = seed
    weak, strong = by_exponent[min(by_exponent)], by_exponent[max(by_exponent)]
    data = env.unwrapped.data
    env.reset(seed=weak)
    qpos, qvel = data.qpos.copy(), data.qvel.copy()
    heights = []
    for seed in (weak, strong):
        env.reset(seed=seed)
        env.unwrapped.set_state(qpos, qvel)
        for _ in range(4):
            env.step(np.zeros(env.action_space.shape))
        heights.append(float(data.qpos[1 if task_id.startswith("Hopper") else 2]))
    assert heights[1] < heights[0] - 1e-3


def test_bad_gravity_settings_are_config_errors() -> None:
    from pomdpbench.envs.mujoco_tasks import make_mujoco_task
    from pomdpbench.errors import ConfigError

    with pytest.raises(ConfigError, match="give log_scale_limit"):
        make_mujoco_task("Hopper-v4", gravity={"limit": 3.0})
    with pytest.raises(ConfigError, match="n_train < n_tasks"):
        make_mujoco_task("Hopper-v4", gravity={"log_scale_limit": 3.0, "n_train": 200})
    with pytest.raises(ConfigError, match="split must be"):
        make_mujoco_task("Hopper-v4", gravity={"log_scale_limit": 3.0}, split="eval")


def test_close_restores_nominal_gravity() -> None:
    env = make("Hopper-Gravity-v0")
    model = env.unwrapped.model
    env.reset(seed=0)
    assert model.opt.gravity[2] != G0
    env.close()
    assert model.opt.gravity[2] == G0
