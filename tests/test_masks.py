"""Masked classic-control tasks keep exactly pomdp-baselines' entries and rescale actions.

The expected index lists are transcribed from twni2016/pomdp-baselines envs/pomdp/__init__.py
(see reference/notes-pomdp-baselines-memory-rl.md §1).
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.envs.base import make_base_env

PB_KEPT = {
    "Pendulum-F-v0": ("Pendulum-v1", [0, 1, 2]),
    "Pendulum-P-v0": ("Pendulum-v1", [0, 1]),
    "Pendulum-V-v0": ("Pendulum-v1", [2]),
    "CartPole-F-v0": ("CartPole-v0", [0, 1, 2, 3]),
    "CartPole-P-v0": ("CartPole-v0", [0, 2]),
    "CartPole-V-v0": ("CartPole-v0", [1, 3]),
    "LunarLander-F-v0": ("LunarLander-v3", list(range(8))),
    "LunarLander-P-v0": ("LunarLander-v3", [0, 1, 4, 6, 7]),
    "LunarLander-V-v0": ("LunarLander-v3", [2, 3, 5, 6, 7]),
}
PB_HORIZON = {"Pendulum": 200, "CartPole": 200, "LunarLander": 1000}
PB_BUDGET = {"Pendulum": 50_000, "CartPole": 10_000, "LunarLander": 200_000}
PB_EVAL_EVERY = {"Pendulum": 1000, "CartPole": 200, "LunarLander": 4000}


@pytest.mark.parametrize("task_id", sorted(PB_KEPT))
def test_spec_matches_pomdp_baselines(task_id: str) -> None:
    spec = pomdpbench.get_task(task_id)
    base, kept = PB_KEPT[task_id]
    family = task_id.split("-")[0]
    assert spec.kwargs["base_id"] == base
    assert list(spec.kwargs["kept"]) == kept
    assert spec.max_episode_steps == PB_HORIZON[family]
    assert spec.protocol("full").budget == PB_BUDGET[family]
    assert spec.protocol("full").eval_every == PB_EVAL_EVERY[family]
    assert spec.protocol("full").eval_episodes == 20


@pytest.mark.parametrize("task_id", sorted(PB_KEPT))
def test_observations_are_the_kept_base_entries(task_id: str) -> None:
    base_id, kept = PB_KEPT[task_id]
    task_env = gymnasium.make(task_id)
    base_env = make_base_env(base_id)
    task_obs, _ = task_env.reset(seed=11)
    base_obs, _ = base_env.reset(seed=11)
    np.testing.assert_array_equal(task_obs, base_obs[kept])
    rng = np.random.default_rng(0)
    for _ in range(40):
        if isinstance(task_env.action_space, gymnasium.spaces.Discrete):
            action = int(rng.integers(task_env.action_space.n))
            base_action = action
        else:
            action = rng.uniform(-1, 1, size=task_env.action_space.shape).astype(np.float32)
            low, high = base_env.action_space.low, base_env.action_space.high
            base_action = (low + (action + 1.0) * 0.5 * (high - low)).astype(np.float32)
        task_obs, task_r, task_term, _, _ = task_env.step(action)
        base_obs, base_r, base_term, _, _ = base_env.step(base_action)
        np.testing.assert_allclose(task_obs, base_obs[kept], rtol=1e-6)
        assert task_r == pytest.approx(base_r)
        if task_term or base_term:
            assert task_term == base_term
            break


def test_positions_and_velocities_split_the_state() -> None:
    for family, size in (("Pendulum", 3), ("CartPole", 4)):
        position = set(PB_KEPT[f"{family}-P-v0"][1])
        velocity = set(PB_KEPT[f"{family}-V-v0"][1])
        assert not position & velocity and position | velocity == set(range(size))
    # LunarLander keeps the two leg contacts in both views, as pomdp-baselines does.
    assert set(PB_KEPT["LunarLander-P-v0"][1]) & set(PB_KEPT["LunarLander-V-v0"][1]) == {6, 7}


@pytest.mark.parametrize(("action", "torque"), [(1.0, 2.0), (-1.0, -2.0), (0.5, 1.0), (3.0, 2.0)])
def test_continuous_actions_are_rescaled_and_clipped(action: float, torque: float) -> None:
    env = gymnasium.make("Pendulum-V-v0")
    env.reset(seed=0)
    base = env.unwrapped
    captured: list[np.ndarray] = []
    original_step = base.step

    def spy(u: np.ndarray) -> object:
        captured.append(np.array(u))
        return original_step(u)

    base.step = spy  # type: ignore[method-assign]
    env.step(np.array([action], dtype=np.float32))
    assert captured[0] == pytest.approx([torque])


def test_lunarlander_deviation_is_recorded() -> None:
    spec = pomdpbench.get_task("LunarLander-V-v0")
    assert any("LunarLander-v3" in text for text in spec.deviations)
