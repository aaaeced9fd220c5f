"""Mass randomization and privileged state of the robust suite (S2PG's POMDP tasks)."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.envs.base import make_base_env
from pomdpbench.envs.mass import MASS_CHANGES, RandomMass
from pomdpbench.envs.mujoco_layout import OBSERVATION_GROUPS

ROBUST = [t.id for t in pomdpbench.list_tasks("robust")]


def make(task_id: str) -> gymnasium.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gymnasium.make(task_id)


def mass_wrapper(env: gymnasium.Env) -> RandomMass:
    layer = env
    while not isinstance(layer, RandomMass):
        layer = layer.env
    return layer


def test_each_delta_is_drawn_with_equal_frequency() -> None:
    env = make("HalfCheetah-Robust-v0")
    masses = mass_wrapper(env)
    env.reset(seed=0)
    draws = []
    for _ in range(600):
        env.reset()
        draws.append(masses.delta.copy())
    values = np.concatenate(draws)
    assert set(np.unique(values).tolist()) == set(MASS_CHANGES)
    for change in MASS_CHANGES:
        # 4800 draws: the standard deviation of a frequency is 0.0068; allow about 6 of them.
        assert abs(np.mean(values == change) - 1 / 3) < 0.04
    per_body = np.stack(draws)
    assert per_body.shape == (600, 8)
    assert np.all(per_body.std(axis=0) > 0.2), "every body, the world body included, varies"


@pytest.mark.parametrize("task_id", ROBUST)
def test_masses_and_geoms_scale_from_nominal_and_are_restored(task_id: str) -> None:
    env = make(task_id)
    masses = mass_wrapper(env)
    model = env.unwrapped.model
    nominal_mass = model.body_mass.copy()
    nominal_size = model.geom_size.copy()
    env.reset(seed=1)
    for _ in range(5):
        env.reset()
        scale = 1.0 + masses.delta
        np.testing.assert_allclose(model.body_mass, nominal_mass * scale)
        geom_scale = scale[model.geom_bodyid]
        np.testing.assert_allclose(model.geom_size[:, 0], nominal_size[:, 0] * geom_scale)
        np.testing.assert_array_equal(model.geom_size[:, 1:], nominal_size[:, 1:])
    assert np.any(model.body_mass != nominal_mass)
    env.close()
    np.testing.assert_array_equal(model.body_mass, nominal_mass)
    np.testing.assert_array_equal(model.geom_size, nominal_size)


@pytest.mark.parametrize("robot", ["HalfCheetah", "Hopper", "Walker2d", "Ant", "Humanoid"])
def test_geoms_follow_s2pg_body_ranges(robot: str) -> None:
    """S2PG scales geoms body_geomadr[i]:body_geomadr[i+1]; geom_bodyid gives the same sets."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_base_env(f"{robot}-v4").unwrapped.model
    adr = list(model.body_geomadr) + [model.ngeom]
    for body in range(model.nbody):
        ranged = set(range(adr[body], adr[body + 1]))
        assert ranged == set(np.flatnonzero(model.geom_bodyid == body)), (robot, body)


@pytest.mark.parametrize("task_id", ROBUST)
def test_policy_sees_positions_and_privileged_state_is_full_state_plus_delta(task_id: str) -> None:
    spec = pomdpbench.get_task(task_id)
    env = make(task_id)
    masses = mass_wrapper(env)
    data = env.unwrapped.data
    skip = 2 if task_id.startswith(("Ant", "Humanoid")) else 1
    obs, info = env.reset(seed=4)
    rng = np.random.default_rng(4)
    for _ in range(10):
        obs, _, terminated, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
        if terminated:
            break
    np.testing.assert_allclose(obs, data.qpos[skip:], rtol=1e-6, atol=1e-6)
    state = info["state"]
    nbody = spec.metadata["bodies"]
    assert state.shape == (spec.metadata["privileged_size"],)
    np.testing.assert_allclose(state[-nbody:], masses.delta.astype(np.float32))
    start, stop = OBSERVATION_GROUPS[spec.kwargs["base_id"]]["velocities"]
    clip = 10.0 if task_id.startswith(("Hopper", "Walker2d")) else np.inf
    np.testing.assert_allclose(state[start:stop], np.clip(data.qvel, -clip, clip), rtol=1e-5)
    np.testing.assert_allclose(state[: len(obs)], obs, rtol=1e-6)


def test_same_seed_same_masses() -> None:
    env = make("Hopper-Robust-v0")
    masses = mass_wrapper(env)
    env.reset(seed=9)
    first = masses.delta.copy()
    env.reset(seed=10)
    env.reset(seed=9)
    np.testing.assert_array_equal(masses.delta, first)
