"""Meta-RL tasks: task-dependent rewards, disjoint splits, the k-episode trial."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest

from pomdpbench.envs.meta import MetaTrialEnv, ant_dir, cheetah_dir, cheetah_vel, wind
from pomdpbench.envs.meta.tasks import cheetah_vel_targets
from pomdpbench.envs.meta.wind import GOAL, wind_tasks
from pomdpbench.errors import ConfigError


class CountingMDP:
    """An MDP whose observation counts steps since its reset and that ends after ``length``."""

    observation_size = 1
    action_low = np.array([-2.0])
    action_high = np.array([2.0])
    can_render = False

    def __init__(self, length: int) -> None:
        self.length = length
        self.count = 0
        self.resets = 0
        self.actions: list[float] = []

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        self.count = 0
        self.resets += 1
        return np.array([0.0])

    def step(self, action, task) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        self.count += 1
        self.actions.append(float(action[0]))
        return np.array([float(self.count)]), float(task[0]), self.count >= self.length, {}

    def render(self) -> None:
        return None

    def close(self) -> None:
        pass


def run_trial(env: MetaTrialEnv, seed: int) -> list[tuple]:
    obs, info = env.reset(seed=seed)
    steps = [(obs, 0.0, False, False, info)]
    while True:
        step = env.step(np.zeros(env.action_space.shape))
        steps.append(step)
        if step[2] or step[3]:
            return steps


def test_trial_resets_the_mdp_between_episodes_but_keeps_the_task():
    mdp = CountingMDP(length=10**6)
    env = MetaTrialEnv(mdp, np.array([[3.0], [7.0]]), episodes_per_task=2, horizon=5)
    steps = run_trial(env, seed=0)
    assert len(steps) - 1 == 10
    assert mdp.resets == 2  # the trial's start and once between the two episodes
    task = steps[0][4]["task"]
    assert all(np.array_equal(s[4]["task"], task) for s in steps)
    rewards = [s[1] for s in steps[1:]]
    assert rewards == [float(task[0])] * 10
    flags = [float(s[0][-1]) for s in steps]
    assert flags == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    # step 5 shows the first observation of episode 2 (count 0), the last the terminal one
    assert float(steps[5][0][0]) == 0.0 and float(steps[10][0][0]) == 5.0
    assert steps[10][3] is True and steps[10][2] is False  # the horizon: a truncation
    np.testing.assert_array_equal(steps[3][4]["state"], np.append(steps[3][0], task))


def test_inner_termination_starts_the_next_episode_and_ends_the_trial_as_terminated():
    mdp = CountingMDP(length=3)
    env = MetaTrialEnv(mdp, np.array([[1.0]]), episodes_per_task=2, horizon=200)
    steps = run_trial(env, seed=0)
    assert len(steps) - 1 == 6
    assert steps[3][4]["done_mdp"] is True and not (steps[3][2] or steps[3][3])
    assert steps[6][2] is True and steps[6][3] is False


def test_stale_observation_reproduces_the_originals_terminal_observation():
    env = MetaTrialEnv(
        CountingMDP(length=10**6),
        np.array([[1.0]]),
        episodes_per_task=2,
        horizon=4,
        stale_observation=True,
    )
    steps = run_trial(env, seed=0)
    assert float(steps[4][0][0]) == 4.0 and float(steps[4][0][-1]) == 1.0
    assert float(steps[5][0][0]) == 1.0  # the MDP had been reset behind the stale observation


def test_actions_are_clipped_and_rescaled_to_the_mdp_bounds():
    mdp = CountingMDP(length=10**6)
    env = MetaTrialEnv(mdp, np.array([[1.0]]), episodes_per_task=1, horizon=10)
    env.reset(seed=0)
    for action in (-1.0, 0.5, 3.0):
        env.step(np.array([action], dtype=np.float32))
    assert mdp.actions == [-2.0, 1.0, 2.0]
    assert env.observation_space.shape == (1,)  # k = 1: no done flag


def _from_fixed_state(env: gymnasium.Env, task: float, action: np.ndarray) -> tuple[float, dict]:
    """Reset, put the robot in one fixed state, set the task, step once."""
    env.reset(seed=0)
    trial = env.unwrapped
    sim = trial.mdp.sim
    qpos = sim.init_qpos + np.linspace(-0.05, 0.05, sim.model.nq)
    qvel = sim.init_qvel + np.linspace(0.3, -0.2, sim.model.nv)
    sim.set_state(qpos, qvel)
    trial.task = np.array([task])
    _, reward, _, _, info = env.step(action)
    return float(reward), info


def test_cheetah_rewards_follow_the_task_with_the_state_held_fixed():
    env = cheetah_dir()
    action = np.linspace(-0.5, 0.5, 6).astype(np.float32)
    ctrl = 0.05 * float(np.square(action.astype(np.float64)).sum())
    forward, info_fwd = _from_fixed_state(env, 1.0, action)
    backward, info_bwd = _from_fixed_state(env, -1.0, action)
    velocity = info_fwd["reward_forward"]
    assert abs(velocity) > 0.01
    assert forward == pytest.approx(velocity - ctrl)
    assert backward == pytest.approx(-velocity - ctrl)
    vel_env = cheetah_vel()
    slow, _ = _from_fixed_state(vel_env, 0.5, action)
    fast, _ = _from_fixed_state(vel_env, 2.5, action)
    assert slow == pytest.approx(-abs(velocity - 0.5) - ctrl)
    assert fast == pytest.approx(-abs(velocity - 2.5) - ctrl)


def test_ant_reward_projects_the_velocity_on_the_goal_angle_in_radians():
    env = ant_dir()
    action = np.linspace(-0.3, 0.3, 8).astype(np.float32)
    rewards = {}
    forward = {}
    for goal in (-1.0, 1.0, 0.0):
        rewards[goal], info = _from_fixed_state(env, goal, action)
        forward[goal] = info["reward_forward"]
    # the same motion, scored along (cos g, sin g): reward differences are forward differences
    assert rewards[1.0] - rewards[-1.0] == pytest.approx(forward[1.0] - forward[-1.0])
    vx = forward[0.0]  # along (1, 0)
    vy = (forward[1.0] - forward[-1.0]) / (2 * np.sin(1.0))
    assert forward[1.0] == pytest.approx(vx * np.cos(1.0) + vy * np.sin(1.0))
    assert rewards[0.0] == pytest.approx(vx + 1.0 - 0.5 * np.square(action).sum(), abs=0.05)


def test_observation_layouts_match_the_originals():
    layouts = {  # (first, last) observation entries and the simulator data they must hold
        cheetah_dir: [
            ((0, 8), lambda d: d.qpos[1:]),
            ((8, 17), lambda d: d.qvel),
            ((17, 20), lambda d: d.body("torso").xpos),
        ],
        ant_dir: [((0, 13), lambda d: d.qpos[2:]), ((13, 27), lambda d: d.qvel)],
    }
    for make, parts in layouts.items():
        env = make()
        obs, _ = env.reset(seed=1)
        data = env.unwrapped.mdp.sim.data
        assert obs.shape == (parts[-1][0][1] + 1,) and obs[-1] == 0.0  # the done flag
        for (first, last), expected in parts:
            np.testing.assert_allclose(obs[first:last], expected(data), rtol=1e-6)


def test_cheetah_trial_is_two_episodes_of_200_steps_and_resets_the_robot():
    env = gymnasium.make("CheetahDir-v0")
    obs, info = env.reset(seed=0)
    task = info["task"].copy()
    env.action_space.seed(0)
    clock = []  # MuJoCo's simulated time: reset to 0 with the MDP
    for step in range(1, 401):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        clock.append(float(env.unwrapped.mdp.sim.data.time))
        np.testing.assert_array_equal(info["task"], task)
        assert float(obs[-1]) == (1.0 if step in (200, 400) else 0.0)
        assert (terminated or truncated) == (step == 400)
    assert clock[198] == pytest.approx(199 * 0.05) and clock[199] == 0.0
    assert clock[399] == pytest.approx(200 * 0.05)
    assert truncated and not terminated


def test_train_and_test_task_sets_are_disjoint_where_the_original_has_a_split():
    for make, train_size, test_size in ((cheetah_vel, 100, 20), (wind, 40, 20)):
        train, test = make("train").tasks, make("test").tasks
        assert (len(train), len(test)) == (train_size, test_size)
        train_rows = {tuple(row) for row in train}
        assert not train_rows & {tuple(row) for row in test}
    targets = cheetah_vel_targets()
    assert targets.min() >= 0.0 and targets.max() <= 3.0 and len(set(targets)) == 120
    for make in (ant_dir, cheetah_dir):
        np.testing.assert_array_equal(make("train").tasks, make("test").tasks)
        assert sorted(make("train").tasks[:, 0]) == [-1.0, 1.0]


def test_each_split_draws_only_its_own_tasks():
    env = wind("test")
    test_rows = {tuple(row) for row in wind_tasks()[40:]}
    drawn = set()
    for seed in range(60):
        _, info = env.reset(seed=seed)
        drawn.add(tuple(np.float64(v) for v in env.unwrapped.task))
    assert drawn <= test_rows and len(drawn) > 10


def test_wind_uses_the_originals_winds_and_dynamics():
    rng = np.random.RandomState(1337)
    first = [rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08)]
    np.testing.assert_array_equal(wind_tasks()[0], first)
    env = wind()
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [0.0, 0.0])
    w = env.task
    obs, reward, *_ = env.step(np.array([1.0, 0.5], dtype=np.float32))
    np.testing.assert_allclose(obs, np.array([0.1, 0.05]) + w, rtol=1e-6)
    assert reward == 0.0
    env.unwrapped.mdp.position = GOAL - np.array([0.0, 0.05]) - w  # one step short of the goal
    _, reward, _, _, info = env.step(np.array([0.0, 0.5], dtype=np.float32))
    assert reward == 1.0 and info["success"] is True


def test_unknown_split_is_a_config_error():
    with pytest.raises(ConfigError, match="'train' or 'test'"):
        cheetah_vel("validation")
