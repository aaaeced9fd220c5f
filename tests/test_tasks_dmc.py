"""The dmc suite: listing, observation layouts, what the hidden entries are, frame skip, actions."""

from __future__ import annotations

import json
import math
import re
import warnings

import gymnasium
import numpy as np
import pytest

import pomdpbench
from pomdpbench.cli.reference_cmd import measure_random
from pomdpbench.envs.dmc import make_dmc_task
from pomdpbench.envs.dmc_layout import OBSERVATION_GROUPS, groups_of, observation_indices
from pomdpbench.errors import ConfigError

DMC_TASKS = [t.id for t in pomdpbench.list_tasks("dmc")]
PARTIAL = [t for t in DMC_TASKS if not t.endswith("-F-v0")]


def make(task_id: str) -> gymnasium.Env:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gymnasium.make(task_id)


def flat_observation(env: gymnasium.Env) -> np.ndarray:
    """dm_control's whole observation of the current physics state, flattened in its order."""
    dm_env = env.unwrapped._env
    observation = dm_env.task.get_observation(dm_env.physics)
    return np.concatenate([np.ravel(value) for value in observation.values()])


def test_list_tasks_json_gives_ids_versions_sizes_and_references(cli) -> None:
    result = cli("list", "tasks", "--suite", "dmc", "--json")
    assert result.status == 0, result.err
    tasks = {task["id"]: task for task in json.loads(result.out)}
    families = ("CartpoleBalance", "CartpoleSwingup", "AcrobotSwingup")
    robots = ("WalkerWalk", "WalkerRun", "CheetahRun", "QuadrupedWalk")
    expected = {f"DMC-{f}-{k}-v0" for f in families for k in ("F", "P", "VA")}
    expected |= {f"DMC-{r}-{k}-v0" for r in robots for k in ("F", "P")}
    assert set(tasks) == expected
    sizes = {
        "DMC-CartpoleSwingup-VA-v0": 3,
        "DMC-WalkerWalk-P-v0": 15,
        "DMC-QuadrupedWalk-P-v0": 29,
    }
    for task_id, size in sizes.items():
        assert tasks[task_id]["observation_size"] == size
    for task in tasks.values():
        assert task["version"] == 0 and task["suite"] == "dmc"
        frame_skip = task["kwargs"].get("frame_skip", 1)
        assert task["max_episode_steps"] * frame_skip == 1000, "dm_control's 1000 control steps"
        assert task["tiers"]["full"]["budget"] == (200_000 if frame_skip == 5 else 5_000_000)
        random_ref, target = task["references"]["random"], task["references"]["target"]
        assert math.isfinite(random_ref["score"]) and "--episodes 50" in random_ref["source"]
        assert 0 <= random_ref["score"] < target["score"] <= 1000.0, "DMC returns are at most 1000"
        assert "nicklashansen/tdmpc2" in target["source"], "a published full-state figure"
    # The masked tasks share their -F twin's target (a fraction of the full-state return).
    for task_id, task in tasks.items():
        twin = re.sub(r"-(P|VA)-v0$", "-F-v0", task_id)
        assert task["references"]["target"] == tasks[twin]["references"]["target"]
        assert task["deviations"]


@pytest.mark.parametrize("task_id", PARTIAL)
def test_hidden_entries_really_are_velocities_or_positions(task_id: str) -> None:
    """Perturb only what the task claims to hide: the policy's view must not move."""
    spec = pomdpbench.get_task(task_id)
    hides_velocities = task_id.endswith("-P-v0")
    env = make(task_id)
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, *_ = env.step(env.action_space.sample())
    kept = env.get_wrapper_attr("kept")
    previous = env.get_wrapper_attr("previous_action")
    before = flat_observation(env)
    np.testing.assert_allclose(obs[: len(kept)], before[kept].astype(np.float32))
    physics = env.unwrapped._env.physics
    rng = np.random.default_rng(0)
    target = physics.data.qvel if hides_velocities else physics.data.qpos
    target[:] = target + rng.normal(0.0, 0.5, size=target.shape)
    physics.forward()  # positions, sensors and contact forces of the perturbed state
    after = flat_observation(env)
    hidden = np.setdiff1d(np.arange(len(before)), kept)
    np.testing.assert_allclose(after[kept], before[kept], atol=1e-9)
    assert np.all(after[hidden] != before[hidden]) or "Quadruped" in task_id
    assert np.any(after[hidden] != before[hidden])
    layout = groups_of(spec.kwargs["domain_task"])
    if "velocity" in layout:  # dm_control's velocity key is qvel itself
        start, stop = layout["velocity"]
        np.testing.assert_array_equal(after[start:stop], physics.data.qvel)
        assert (set(range(start, stop)) <= set(hidden)) == hides_velocities
    assert previous == task_id.endswith("-VA-v0")
    env.close()


def test_va_observation_ends_with_the_previous_action_zero_after_reset() -> None:
    env = make("DMC-CartpoleBalance-VA-v0")
    obs, _ = env.reset(seed=1)
    assert obs[-1] == 0.0
    obs, *_ = env.step(np.array([0.7], dtype=np.float32))
    assert obs[-1] == pytest.approx(0.7)
    obs, *_ = env.step(np.array([-4.0], dtype=np.float32))
    assert obs[-1] == -1.0, "the action sent to dm_control, after clipping"
    assert env.reset(seed=1)[0][-1] == 0.0
    env.close()


def test_frame_skip_repeats_the_action_and_sums_the_rewards() -> None:
    task = make("DMC-CartpoleSwingup-F-v0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bare = gymnasium.make("dm_control/cartpole-swingup-v0")
    task_obs, _ = task.reset(seed=4)
    bare_obs, _ = bare.reset(seed=4)
    np.testing.assert_allclose(task_obs, np.concatenate(list(bare_obs.values())), rtol=1e-6)
    rng = np.random.default_rng(2)
    steps = 0
    while True:
        action = rng.uniform(-1, 1, size=1).astype(np.float32)
        obs, reward, terminated, truncated, _ = task.step(action)
        total = 0.0
        for _ in range(5):
            bare_obs, bare_reward, bare_term, bare_trunc, _ = bare.step(action.astype(np.float64))
            total += bare_reward
        steps += 1
        assert reward == pytest.approx(total, abs=1e-12)
        np.testing.assert_allclose(obs, np.concatenate(list(bare_obs.values())), rtol=1e-6)
        assert (terminated, truncated) == (bare_term, bare_trunc)
        if terminated or truncated:
            break
    assert steps == 200 and truncated and not terminated, "dm_control's time limit truncates"
    task.close()
    bare.close()


def test_unit_actions_are_clipped_and_mapped_onto_quadruped_bounds() -> None:
    env = make("DMC-QuadrupedWalk-P-v0")
    env.reset(seed=0)
    physics = env.unwrapped._env.physics
    low, high = physics.model.actuator_ctrlrange.T
    action = np.zeros(12, dtype=np.float32)
    action[:4] = [1.0, 1.0, -1.0, 3.0]
    env.step(action)
    expected = 0.5 * (low + high)
    expected[:4] = [high[0], high[1], low[2], high[3]]
    np.testing.assert_allclose(physics.data.ctrl, expected, atol=1e-6)
    assert high[1] == pytest.approx(1.1), "quadruped's bounds are not all [-1, 1]"
    env.close()


def test_layouts_match_dm_control_observation_specs() -> None:
    for domain_task, groups in OBSERVATION_GROUPS.items():
        env = make_dmc_task(domain_task)
        spec = env.unwrapped._env.observation_spec()
        size = sum(int(np.prod(array.shape)) for array in spec.values())
        slices = sorted(groups.values())
        assert slices[0][0] == 0 and slices[-1][1] == size
        assert all(a[1] == b[0] for a, b in zip(slices, slices[1:], strict=False)), "no gaps"
        env.close()


def test_bad_layout_requests_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="choose groups among"):
        observation_indices("walker-walk", ["speed"])
    with pytest.raises(ConfigError, match="no observation layout"):
        make_dmc_task("humanoid-walk")
    with pytest.raises(ConfigError, match="frame_skip must be at least 1"):
        make_dmc_task("cartpole-balance", frame_skip=0)


def test_random_agent_runs_dmc_tasks_and_stores_them(cli, db_url: str) -> None:
    # 200-step tasks keep this fast; the slow tier runs the whole suite at the smoke budget.
    tasks = ["DMC-CartpoleBalance-VA-v0", "DMC-AcrobotSwingup-P-v0"]
    result = cli(
        "run",
        "--agent",
        "random",
        "--task",
        *tasks,
        "--steps",
        "400",
        "--eval-every",
        "200",
        "--eval-episodes",
        "1",
        "--db",
        db_url,
    )
    assert result.status == 0, result.err
    runs = json.loads(cli("results", "--json", "--db", db_url).out)
    assert sorted(run["task"] for run in runs) == sorted(tasks)
    assert all(run["status"] == "finished" and run["env_steps"] == 400 for run in runs)


@pytest.mark.slow
@pytest.mark.parametrize("task_id", DMC_TASKS)
def test_random_reference_is_what_the_recorded_command_measures(task_id: str) -> None:
    recorded = pomdpbench.get_task(task_id).references["random"]
    assert "`pomdpbench reference --suite dmc --episodes 50 --seed 0`" in recorded.source
    measured = measure_random(task_id, episodes=50, seed=0)["mean"]
    assert measured == pytest.approx(recorded.score, rel=1e-3, abs=1e-3)
