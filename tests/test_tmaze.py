"""The passive T-maze behaves as Memory-RL's TMazeClassicPassive (ambiguous position)."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import pomdpbench  # noqa: F401 - registers the tasks
from pomdpbench.envs.tmaze import PassiveTMaze

RIGHT, UP, LEFT, DOWN = 0, 1, 2, 3


def play(env: PassiveTMaze, policy: object, seed: int) -> tuple[float, dict, int, list]:
    obs, info = env.reset(seed=seed)
    seen = [obs]
    total, steps = 0.0, 0
    while True:
        action = policy(obs, steps)  # type: ignore[operator]
        obs, reward, terminated, truncated, info = env.step(action)
        seen.append(obs)
        total += float(reward)
        steps += 1
        if terminated or truncated:
            return total, info, steps, seen


def test_goal_is_shown_only_in_the_first_observation() -> None:
    env = PassiveTMaze(corridor_length=5)
    goals = set()
    for seed in range(20):
        _, info, _, seen = play(env, lambda obs, t: RIGHT if t < 5 else UP, seed)
        goal = seen[0][1]
        goals.add(goal)
        assert seen[0][0] == 0 and goal in (-1.0, 1.0)
        assert all(np.array_equal(o, [0, 0]) for o in seen[1:5])  # the corridor
        assert np.array_equal(seen[5], [1, 0])  # the junction
        assert info["state"][2] == goal  # privileged state keeps the goal
    assert goals == {-1.0, 1.0}


@pytest.mark.parametrize("length", [1, 4, 10, 30])
def test_remembering_policy_always_succeeds(length: int) -> None:
    env = PassiveTMaze(corridor_length=length)
    for seed in range(10):
        goal: dict[str, float] = {}

        def policy(obs: np.ndarray, t: int, goal: dict[str, float] = goal) -> int:
            if t == 0:
                goal["y"] = obs[1]
            if t < length:
                return RIGHT
            return UP if goal["y"] > 0 else DOWN

        total, info, steps, _ = play(env, policy, seed)
        assert steps == length + 1
        assert info["success"] is True and total == pytest.approx(1.0)


def test_memoryless_policy_succeeds_half_the_time() -> None:
    env = PassiveTMaze(corridor_length=6)
    results = [
        play(env, lambda obs, t: RIGHT if t < 6 else UP, s)[1]["success"] for s in range(400)
    ]
    assert 0.42 < np.mean(results) < 0.58


def test_lagging_costs_one_over_length_per_step() -> None:
    env = PassiveTMaze(corridor_length=4)
    env.reset(seed=0)
    rewards = [env.step(LEFT)[1] for _ in range(4)]  # stuck at x=0 while t grows
    assert rewards == pytest.approx([-0.25] * 4)
    _, reward, terminated, truncated, info = env.step(RIGHT)
    assert terminated and not truncated and reward == 0.0 and info["success"] is False


def test_registered_lengths_and_horizons() -> None:
    for length in (10, 30, 100):
        env = gymnasium.make(f"TMazePassive-{length}-v0")
        assert env.spec is not None and env.spec.max_episode_steps == length + 1
        assert env.unwrapped.length == length
        assert pomdpbench.get_task(f"TMazePassive-{length}-v0").metric == "success"
