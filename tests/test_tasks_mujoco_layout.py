"""The Gymnasium -v4 observation layout the MuJoCo suites rely on, checked against MuJoCo data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pomdpbench
from pomdpbench.envs.base import make_base_env
from pomdpbench.envs.mujoco_layout import OBSERVATION_GROUPS, default_groups, observation_indices
from pomdpbench.errors import ConfigError

# Observation sizes of gym's mujoco-py -v2/-v3 tasks the papers ran (RESeL notes section 2e;
# S2PG notes section 3): -v4 must have the same, -v5 does not.
PAPER_SIZES = {"HalfCheetah": 17, "Hopper": 11, "Walker2d": 17, "Ant": 111, "Humanoid": 376}


def base(base_id: str, **kwargs: object):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_base_env(base_id, **kwargs)


def stepped(base_id: str, steps: int = 15, **kwargs: object):
    env = base(base_id, **kwargs)
    env.reset(seed=2)
    rng = np.random.default_rng(2)
    low, high = env.action_space.low, env.action_space.high
    obs = None
    for _ in range(steps):
        obs, *_ = env.step(rng.uniform(low, high))
    return env, obs


@pytest.mark.parametrize("robot", sorted(PAPER_SIZES))
def test_v4_has_the_papers_observation_size(robot: str) -> None:
    kwargs = {"use_contact_forces": True} if robot == "Ant" else {}
    env = base(f"{robot}-v4", **kwargs)
    assert env.observation_space.shape == (PAPER_SIZES[robot],)
    groups = OBSERVATION_GROUPS[f"{robot}-v4"]
    assert max(stop for _, stop in groups.values()) == PAPER_SIZES[robot]
    covered = sorted(i for start, stop in groups.values() for i in range(start, stop))
    assert covered == list(range(PAPER_SIZES[robot])), "groups must tile the observation"


@pytest.mark.parametrize("robot", ["HalfCheetah", "Hopper", "Walker2d", "Ant", "Humanoid"])
def test_groups_hit_positions_and_velocities(robot: str) -> None:
    base_id = f"{robot}-v4"
    env, obs = stepped(base_id)
    data = env.unwrapped.data
    skip = 2 if robot in ("Ant", "Humanoid") else 1
    groups = OBSERVATION_GROUPS[base_id]
    start, stop = groups["positions"]
    np.testing.assert_allclose(obs[start:stop], data.qpos[skip:])
    start, stop = groups["velocities"]
    clip = 10.0 if robot in ("Hopper", "Walker2d") else np.inf
    np.testing.assert_allclose(obs[start:stop], np.clip(data.qvel, -clip, clip))
    assert np.abs(data.qvel).max() > 0.1, "the check needs moving joints"


def test_humanoid_groups_hit_their_quantities() -> None:
    env, obs = stepped("Humanoid-v4")
    data = env.unwrapped.data
    groups = OBSERVATION_GROUPS["Humanoid-v4"]
    expected = {
        "com_inertia": data.cinert,
        "com_velocity": data.cvel,
        "actuator_forces": data.qfrc_actuator,
        "external_contact_forces": data.cfrc_ext,
    }
    for name, value in expected.items():
        start, stop = groups[name]
        np.testing.assert_allclose(obs[start:stop], np.ravel(value), err_msg=name)


def test_ant_contact_group_and_why_it_is_left_out() -> None:
    env = base("Ant-v4", use_contact_forces=True)
    env.reset(seed=2)
    rng = np.random.default_rng(2)
    start, stop = OBSERVATION_GROUPS["Ant-v4"]["contact_forces"]
    largest = 0.0
    for _ in range(100):  # a random ant spends steps in the air: look over many of them
        obs, *_ = env.step(rng.uniform(env.action_space.low, env.action_space.high))
        forces = np.clip(np.ravel(env.unwrapped.data.cfrc_ext), -1, 1)
        np.testing.assert_allclose(obs[start:stop], forces)
        largest = max(largest, float(np.abs(forces).max()))
    # Under the papers' mujoco-py 2.x these entries were all zero; here they are not.
    assert largest > 0
    assert "contact_forces" not in default_groups("Ant-v4")
    assert "external_contact_forces" not in default_groups("Humanoid-v4")


def test_hidden_entries_of_robust_tasks_are_exactly_the_velocities() -> None:
    for task in pomdpbench.list_tasks("robust"):
        base_id = task.kwargs["base_id"]
        groups = OBSERVATION_GROUPS[base_id]
        kept = observation_indices(base_id, task.kwargs["observe"])
        full = observation_indices(base_id, default_groups(base_id))
        hidden = sorted(set(full) - set(kept))
        start, stop = groups["velocities"]
        assert set(range(start, stop)) <= set(hidden), task.id
        assert kept == list(range(*groups["positions"])), task.id


def test_unknown_group_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="choose groups among"):
        observation_indices("Hopper-v4", ["speeds"])
    with pytest.raises(ConfigError, match="no observation layout"):
        observation_indices("Swimmer-v4", ["positions"])
