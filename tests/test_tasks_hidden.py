"""The hidden suite: S2PG's no-privileged-information POMDPs on the robust suite's index tables."""

from __future__ import annotations

import json
import warnings

import gymnasium
import mujoco
import numpy as np
import pytest

import pomdpbench
from pomdpbench.cli.reference_cmd import measure_random
from pomdpbench.envs.masked import MaskedObservation
from pomdpbench.envs.mass import RandomMass
from pomdpbench.envs.mujoco_layout import OBSERVATION_GROUPS, observation_indices
from pomdpbench.envs.mujoco_tasks import ObservationPrefix
from pomdpbench.paths import tasks_dir
from pomdpbench.registry import load_suite_file

HIDDEN = [t.id for t in pomdpbench.list_tasks("hidden")]
ROBOTS = ("HalfCheetah", "Hopper", "Walker2d", "Ant", "Humanoid")


def make(task_id: str) -> gymnasium.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gymnasium.make(task_id)


def kept_indices(env: gymnasium.Env) -> list[int]:
    """Indices of the base observation the policy sees (MaskedObservation's, or a prefix)."""
    layer = env
    while isinstance(layer, gymnasium.Wrapper):
        if isinstance(layer, MaskedObservation):
            return layer.kept.tolist()
        if isinstance(layer, (RandomMass, ObservationPrefix)):
            return list(range(layer.observation_space.shape[0]))
        layer = layer.env
    return list(range(env.observation_space.shape[0]))


def test_list_tasks_json_gives_ids_versions_sizes_and_s2pg_budget(cli) -> None:
    result = cli("list", "tasks", "--suite", "hidden", "--json")
    assert result.status == 0, result.err
    tasks = {task["id"]: task for task in json.loads(result.out)}
    assert set(tasks) == {f"{robot}-Hidden-v0" for robot in ROBOTS}
    sizes = {"HalfCheetah": 8, "Hopper": 5, "Walker2d": 8, "Ant": 13, "Humanoid": 45}
    for robot, size in sizes.items():
        task = tasks[f"{robot}-Hidden-v0"]
        assert task["observation_size"] == size and task["version"] == 0
        # 02_RS/01_POMDP/launcher.py: 100 epochs x 50000 steps, 10 evaluation episodes each.
        assert task["tiers"]["full"] == {
            "budget": 5_000_000,
            "eval_every": 50_000,
            "eval_episodes": 10,
        }
        assert task["privileged"] is None
        assert "--suite hidden --episodes 50" in task["references"]["random"]["source"]
        assert task["references"]["target"]["score"] > task["references"]["random"]["score"]


def test_hidden_and_robust_share_one_definition_of_the_indices() -> None:
    """Both suites name groups of mujoco_layout; neither writes index lists of its own."""
    for suite in ("hidden", "robust"):
        for task in load_suite_file(tasks_dir() / f"{suite}.toml")[1]:
            assert "kept" not in task.kwargs and task.kwargs["observe"], task.id
    for robot in ROBOTS:
        hidden = pomdpbench.get_task(f"{robot}-Hidden-v0")
        robust = pomdpbench.get_task(f"{robot}-Robust-v0")
        assert hidden.kwargs["base_id"] == robust.kwargs["base_id"]
        extra = ["actuator_forces"] if robot == "Humanoid" else []
        assert list(hidden.kwargs["observe"]) == list(robust.kwargs["observe"]) + extra
        env = make(hidden.id)
        assert kept_indices(env) == observation_indices(
            hidden.kwargs["base_id"], hidden.kwargs["observe"]
        )
        env.close()


@pytest.mark.parametrize("task_id", HIDDEN)
def test_kept_entries_are_positions_and_no_masses_change(task_id: str) -> None:
    """Changing only the velocities moves none of the entries the policy sees."""
    spec = pomdpbench.get_task(task_id)
    env = make(task_id)
    base = env.unwrapped
    nominal = base.model.body_mass.copy()
    obs, info = env.reset(seed=3)
    assert "state" not in info
    for _ in range(5):
        obs, _, terminated, _, info = env.step(env.action_space.sample())
        if terminated:
            break
    np.testing.assert_array_equal(base.model.body_mass, nominal)
    kept = kept_indices(env)
    before = base._get_obs()
    np.testing.assert_allclose(obs, before[kept].astype(np.float32), rtol=1e-6)
    base.data.qvel[:] += np.random.default_rng(0).normal(0.0, 0.5, size=base.data.qvel.shape)
    mujoco.mj_forward(base.model, base.data)
    after = base._get_obs()
    np.testing.assert_array_equal(after[kept], before[kept])
    start, stop = OBSERVATION_GROUPS[spec.kwargs["base_id"]]["velocities"]
    clip = 10.0 if task_id.startswith(("Hopper", "Walker2d")) else np.inf
    np.testing.assert_allclose(after[start:stop], np.clip(base.data.qvel, -clip, clip))
    assert np.any(after[start:stop] != before[start:stop]), "the hidden group is the velocities"
    assert not set(range(start, stop)) & set(kept)
    env.close()


@pytest.mark.slow
@pytest.mark.parametrize("task_id", HIDDEN)
def test_random_reference_is_what_the_recorded_command_measures(task_id: str) -> None:
    recorded = pomdpbench.get_task(task_id).references["random"]
    assert "`pomdpbench reference --suite hidden --episodes 50 --seed 0`" in recorded.source
    measured = measure_random(task_id, episodes=50, seed=0)["mean"]
    assert measured == pytest.approx(recorded.score, rel=1e-3, abs=1e-3)
