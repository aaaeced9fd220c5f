"""The masked PyBullet tasks keep exactly the papers' entries of the base observation."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.envs.base import make_base_env
from pomdpbench.envs.bullet import quiet_c_stdout

# pomdp-baselines envs/pomdp/__init__.py (identical in RESeL's envs/pomdp/__init__.py).
PAPER_KEPT = {
    "HopperBLT-P-v0": [0, 1, 2, 6, 7, 8, 10, 12, 14],
    "HopperBLT-V-v0": [3, 4, 5, 9, 11, 13],
    "WalkerBLT-P-v0": [0, 1, 2, 6, 7, 8, 10, 12, 14, 16, 18, 20, 21],
    "WalkerBLT-V-v0": [3, 4, 5, 9, 11, 13, 15, 17, 19],
    "AntBLT-P-v0": [0, 1, 2, 6, 7, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25, 26, 27],
    "AntBLT-V-v0": [3, 4, 5, 9, 11, 13, 15, 17, 19, 21, 23],
    "HalfCheetahBLT-P-v0": [0, 1, 2, 6, 7, 8, 10, 12, 14, 16, 18, 20, 21, 22, 23, 24, 25],
    "HalfCheetahBLT-V-v0": [3, 4, 5, 9, 11, 13, 15, 17, 19],
}
BASES = {
    "Hopper": ("HopperBulletEnv-v0", 15),
    "Walker": ("Walker2DBulletEnv-v0", 22),
    "Ant": ("AntBulletEnv-v0", 28),
    "HalfCheetah": ("HalfCheetahBulletEnv-v0", 26),
}


def base_env(task_id: str) -> gymnasium.Env:
    """The bare base environment, connected by one reset as the task's entry point does."""
    with warnings.catch_warnings(), quiet_c_stdout():
        warnings.simplefilter("ignore")
        env = make_base_env(
            pomdpbench.get_task(task_id).kwargs["base_id"], requires="pybullet_envs_gymnasium"
        )
        env.reset()
    return env


def test_kept_indices_are_the_papers() -> None:
    for task_id, kept in PAPER_KEPT.items():
        assert list(pomdpbench.get_task(task_id).kwargs["kept"]) == kept
    for robot, (base_id, size) in BASES.items():
        full = pomdpbench.get_task(f"{robot}BLT-F-v0")
        assert full.kwargs == {"base_id": base_id, "kept": list(range(size))}


@pytest.mark.parametrize("task_id", sorted(PAPER_KEPT))
def test_observation_equals_kept_entries_of_the_base(task_id: str) -> None:
    kept = PAPER_KEPT[task_id]
    task, base = gymnasium.make(task_id), base_env(task_id)
    obs, _ = task.reset(seed=5)
    base_obs, _ = base.reset(seed=5)
    np.testing.assert_array_equal(obs, base_obs[kept])
    rng = np.random.default_rng(0)
    for _ in range(25):
        action = rng.uniform(-1, 1, size=task.action_space.shape).astype(np.float32)
        obs, reward, terminated, _, _ = task.step(action)
        base_obs, base_reward, base_terminated, _, _ = base.step(action)
        np.testing.assert_array_equal(obs, base_obs[kept])
        assert reward == base_reward and terminated == base_terminated
        if terminated:
            break


@pytest.mark.parametrize("robot", sorted(BASES))
def test_p_keeps_positions_and_v_keeps_speeds(robot: str) -> None:
    """Check the layout the index lists rely on against the robot's own joint readings."""
    env = base_env(f"{robot}BLT-P-v0")
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(5):
        obs, *_ = env.step(rng.uniform(-1, 1, size=env.action_space.shape).astype(np.float32))
    joints = env.unwrapped.robot.ordered_joints
    readings = np.array([joint.current_relative_position() for joint in joints])
    positions = [8 + 2 * j for j in range(len(joints))]
    speeds = [9 + 2 * j for j in range(len(joints))]
    np.testing.assert_allclose(obs[positions], readings[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(obs[speeds], readings[:, 1], rtol=1e-5, atol=1e-6)
    contacts = list(range(8 + 2 * len(joints), BASES[robot][1]))
    p_kept, v_kept = PAPER_KEPT[f"{robot}BLT-P-v0"], PAPER_KEPT[f"{robot}BLT-V-v0"]
    assert p_kept == [0, 1, 2, 6, 7, *positions, *contacts]
    assert v_kept == [3, 4, 5, *speeds]


def test_actions_are_clipped_to_the_unit_box() -> None:
    env = gymnasium.make("HopperBLT-V-v0")
    robot = env.unwrapped.robot
    env.reset(seed=0)
    seen = []
    original = robot.apply_action
    robot.apply_action = lambda a: (seen.append(np.array(a)), original(a))[1]
    env.step(np.array([3.0, -7.0, 0.25], dtype=np.float32))
    np.testing.assert_allclose(seen[0], [1.0, -1.0, 0.25])
