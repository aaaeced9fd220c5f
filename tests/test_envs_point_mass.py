"""Point-mass memory tasks: dynamics, rewards, absorbing states, hidden hints, oracles."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.diagnostics.point_mass_oracle import action_towards, measure_oracle
from pomdpbench.envs.point_mass import GOALS, STARTS, PointMassDoors, PointMassGoal

UP, DOWN, LEFT, RIGHT = -0.5, 0.5, 0.0, -1.0  # heading (a + 1) pi


def test_one_step_moves_1_8_along_the_heading_and_rewards_the_final_distance():
    env = PointMassGoal()
    env.reset(seed=0)
    env.position = np.array([75.0, 75.0])
    heading = 0.3
    obs, reward, terminated, truncated, _ = env.step(np.array([heading]))
    phi = (heading + 1) * math.pi
    expected = np.array([75.0, 75.0]) + 1.8 * np.array([math.cos(phi), math.sin(phi)])
    np.testing.assert_allclose(env.position, expected)
    assert reward == pytest.approx(math.exp(-0.1 * np.linalg.norm(env.goal - expected)))
    assert not terminated and not truncated
    env.step(np.array([7.0]))  # clipped to 1: heading 2 pi, i.e. +x
    np.testing.assert_allclose(env.position, expected + [1.8, 0.0], atol=1e-9)


def test_goal_task_leaving_the_field_is_absorbing_with_reward_minus_two():
    env = PointMassGoal()
    env.reset(seed=0)
    env.position = np.array([40.0, 1.0])
    _, reward, terminated, _, _ = env.step(np.array([DOWN]))
    assert terminated and reward == -2.0
    np.testing.assert_allclose(env.position, [40.0, 0.0], atol=1e-9)  # clipped, not beyond


def test_goal_is_hidden_outside_the_disc_around_the_start_but_kept_in_the_state():
    env = PointMassGoal()
    obs, info = env.reset(seed=4)
    assert any(np.array_equal(env.start, s) for s in STARTS)
    assert any(np.array_equal(env.goal, g) for g in GOALS)
    np.testing.assert_array_equal(obs[2:], env.goal)
    np.testing.assert_array_equal(info["state"][2:], env.goal)
    hidden = 0
    for _ in range(30):  # straight up, 1.8 per step: leaves the radius-30 disc after 17 steps
        obs, _, _, _, info = env.step(np.array([UP]))
        far = np.linalg.norm(env.position - env.start) > 30.0
        np.testing.assert_array_equal(obs[2:], np.zeros(2) if far else env.goal)
        np.testing.assert_array_equal(info["state"][2:], env.goal)
        np.testing.assert_allclose(obs[:2], env.position, rtol=1e-6)
        hidden += far
    assert hidden == 30 - 16


def test_door_wall_is_absorbing_and_checked_on_the_position_before_each_sub_step():
    env = PointMassDoors()
    env.reset(seed=0)
    env.doors = np.array([10.0, 10.0])  # openings (12, 48) at y = 60 and y = 90
    env.position = np.array([100.0, 57.0])  # below the wall band (57.5, 62.5), outside the door
    _, reward, terminated, _, _ = env.step(np.array([UP]))
    assert terminated and reward == -2.0
    # sub-step 1 starts at 57.0 (clear) and reaches 57.6; sub-step 2 starts inside the band:
    # the hit is detected there, after that sub-step has moved the point to 58.2
    np.testing.assert_allclose(env.position, [100.0, 58.2], atol=1e-9)


def test_door_opening_lets_the_point_through_and_borders_only_clip():
    env = PointMassDoors()
    env.reset(seed=0)
    env.doors = np.array([10.0, 10.0])
    env.position = np.array([30.0, 50.0])
    for _ in range(30):  # 54 units up: through the first door
        _, reward, terminated, _, _ = env.step(np.array([UP]))
        assert not terminated
    assert env.position[1] > 62.5
    distance = np.linalg.norm(env.goal - env.position)
    assert reward == pytest.approx(10.0 * math.exp(-0.03 * distance))
    env.position = np.array([1.0, 75.0])
    _, reward, terminated, _, _ = env.step(np.array([LEFT]))
    assert not terminated and reward > 0.0
    np.testing.assert_allclose(env.position, [0.0, 75.0], atol=1e-9)


def test_doors_are_shown_near_the_start_only_and_kept_in_the_state():
    env = PointMassDoors()
    obs, info = env.reset(seed=3)
    assert env.doors.min() >= 10.0 and env.doors.max() <= 100.0
    np.testing.assert_array_equal(obs, np.concatenate([[75.0, 10.0], env.doors]).astype(np.float32))
    for _ in range(12):  # 21.6 up: out of the radius-20 disc
        obs, _, terminated, _, info = env.step(np.array([UP]))
    assert not terminated
    np.testing.assert_array_equal(obs[2:], [-1.0, -1.0])
    np.testing.assert_allclose(info["state"][2:], env.doors, rtol=1e-6)


def test_success_means_coming_within_five_of_the_goal():
    env = PointMassGoal()
    env.reset(seed=0)
    goal = env.goal
    env.position = goal - np.array([0.0, 8.0])
    _, _, _, _, info = env.step(np.array([UP]))  # 6.2 away
    assert info["success"] is False
    _, _, _, _, info = env.step(np.array([UP]))  # 4.4 away
    assert info["success"] is True
    env.step(np.array([DOWN]))
    _, _, _, _, info = env.step(np.array([DOWN]))
    assert info["success"] is True  # once reached, the episode counts as a success


def test_action_towards_points_the_heading_at_the_target():
    for target in ((10.0, 0.0), (0.0, 10.0), (-3.0, -4.0)):
        a = action_towards(np.zeros(2), target)
        phi = (a + 1) * math.pi
        direction = np.array([math.cos(phi), math.sin(phi)])
        np.testing.assert_allclose(direction, np.array(target) / np.linalg.norm(target), atol=1e-12)


@pytest.mark.parametrize("task_id", ["PointMassGoal-v0", "PointMassDoors-v0"])
def test_scripted_oracle_reaches_the_goal_and_reproduces_the_target_score(task_id):
    figures = measure_oracle(task_id, episodes=20, seed=0)
    assert figures["success"] == 1.0
    target = pomdpbench.get_task(task_id).references["target"].score
    assert figures["return"] == pytest.approx(target, rel=0.02)


@pytest.mark.parametrize(
    "module", ["pomdpbench.diagnostics.point_mass_oracle", "pomdpbench.envs.point_mass_oracle"]
)
def test_the_oracle_command_prints_both_tasks_from_its_new_and_its_recorded_path(module, capsys):
    """The memory suite's target scores cite the command; older task specs cite the old path."""
    import importlib

    importlib.import_module(module).main(["--episodes", "1", "--seed", "0"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["PointMassGoal-v0", "PointMassDoors-v0"]
    assert all("success 1.00" in line for line in lines)
    cited = pomdpbench.get_task("PointMassGoal-v0").references["target"].source
    assert "python -m pomdpbench.diagnostics.point_mass_oracle" in cited


def test_registered_tasks_time_out_after_1000_steps_as_a_truncation():
    env = gymnasium.make("PointMassGoal-v0")
    env.reset(seed=0)
    steps, truncated, terminated = 0, False, False
    env.unwrapped.position = np.array([75.0, 75.0])
    while not (truncated or terminated):  # circle in place: never leaves the field
        _, _, terminated, truncated, _ = env.step(np.array([(steps % 4) / 2 - 1.0]))
        steps += 1
    assert truncated and not terminated and steps == 1000
