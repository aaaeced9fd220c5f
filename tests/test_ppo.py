"""PPO's pieces, each on something small enough to check by hand.

GAE (over (s, z) for PPO-RS), the clipped loss, S2PG's truncated sequences and the GRU
segments cut from a rollout, the window zero-filling, and the rule that ties them together:
what the learner recomputes from the rollout at update time is exactly what it acted on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch

import pomdpbench
from pomdpbench.agents import AgentContext, AgentInput, Transition
from pomdpbench.agents.ppo.loss import clipped_losses
from pomdpbench.agents.ppo.rollout import chunk_indices, gae, sequence_indices
from pomdpbench.agents.ppo.zoo import PPORS
from pomdpbench.agents.registry import build_agent, get_agent_spec
from pomdpbench.errors import ConfigError
from pomdpbench.harness.actions import ActionEncoder
from pomdpbench.harness.stepper import Stepper

TINY = {
    "rollout_steps": 24,
    "minibatch_size": 8,
    "epochs": 1,
    "hidden_sizes": [8],
    "gru_size": 4,
    "embedding_size": 4,
    "sequence_length": 6,
}
PPO_AGENTS = ("ppo-mlp", "ppo-window-5", "ppo-bptt-5", "ppo-rs", "ppo-gru")


def make(agent_id: str, task_id: str = "Pendulum-V-v0", **config: Any) -> tuple[Any, Any]:
    env = gymnasium.make(task_id)
    ctx = AgentContext(
        task=pomdpbench.get_task(task_id),
        observation_space=env.observation_space,
        action_space=env.action_space,
        privileged_size=None,
        seed=0,
        budget=1000,
        tier="custom",
        config={**TINY, **config},
    )
    return build_agent(get_agent_spec(agent_id), ctx), env


def test_gae_by_hand() -> None:
    # Three steps; step 1 is a time limit (bootstrap, chain cut), step 2 terminates.
    values = np.array([1.0, 2.0, 3.0], np.float32)
    next_values = np.array([2.0, 10.0, 99.0], np.float32)
    rewards = np.array([1.0, 1.0, 1.0], np.float32)
    terminated = np.array([0.0, 0.0, 1.0], np.float32)
    cut = np.array([False, True, True])
    adv, ret = gae(values, next_values, rewards, terminated, cut, gamma=0.5, lam=0.5)
    a2 = 1.0 - 3.0  # no bootstrap after a terminal
    a1 = 1.0 + 0.5 * 10.0 - 2.0  # bootstrap from the time limit's next state, no chain
    a0 = (1.0 + 0.5 * 2.0 - 1.0) + 0.25 * a1
    np.testing.assert_allclose(adv, [a0, a1, a2])
    np.testing.assert_allclose(ret, adv + values)


def test_clipped_losses_by_hand() -> None:
    log_prob = torch.log(torch.tensor([1.5, 0.5, 1.1]))  # ratios 1.5, 0.5, 1.1 (old = 0)
    adv = torch.tensor([1.0, -1.0, 2.0])
    value, old_value, returns = torch.tensor([3.0, 0.0, 1.0]), torch.zeros(3), torch.ones(3)
    policy, value_loss, info = clipped_losses(
        log_prob, torch.zeros(3), adv, value, old_value, returns, 0.2, clip_value=False
    )
    # min(1.5, 1.2) * 1 = 1.2; min(-0.5, -0.8) = -0.8; min(2.2, 2.2) = 2.2
    assert float(policy) == pytest.approx(-(1.2 - 0.8 + 2.2) / 3, rel=1e-6)
    assert float(value_loss) == pytest.approx((4.0 + 1.0 + 0.0) / 3)
    assert float(info["clip_fraction"]) == pytest.approx(2 / 3)
    _, clipped_value, _ = clipped_losses(
        log_prob, torch.zeros(3), adv, value, old_value, returns, 0.2, clip_value=True
    )
    # clipped values 0.2, 0, 0.2: errors max(4, 0.64), max(1, 1), max(0, 0.64)
    assert float(clipped_value) == pytest.approx((4.0 + 1.0 + 0.64) / 3)


def test_sequences_truncate_at_episode_starts_and_pad_on_the_right() -> None:
    starts = np.array([1, 0, 0, 0, 1, 0], bool)
    index, lengths = sequence_indices(starts, 3)
    assert lengths.tolist() == [1, 2, 3, 3, 1, 2]
    assert index[2].tolist() == [0, 1, 2]
    assert index[3].tolist() == [1, 2, 3]
    assert index[4].tolist() == [4, 4, 4]  # starts again at the episode start, padded with 4
    assert index[5, :2].tolist() == [4, 5]
    # the rollout's first step is a start even when it continues an earlier episode
    index, lengths = sequence_indices(np.zeros(3, bool), 5)
    assert lengths.tolist() == [1, 2, 3] and index[2, :3].tolist() == [0, 1, 2]


def test_chunks_never_cross_an_episode_start() -> None:
    starts = np.array([0, 0, 0, 0, 0, 1, 0], bool)
    index, lengths = chunk_indices(starts, 3)
    assert lengths.tolist() == [3, 2, 2]
    assert index.tolist() == [[0, 1, 2], [3, 4, 4], [5, 6, 6]]


class Driver:
    """The harness's own stepper observing without updating (so a test can inspect the full
    rollout), resumable across calls so a rollout can start mid-episode; records what the
    model saw when acting."""

    def __init__(self, agent: Any, env: Any) -> None:
        self.agent, self.stepper = agent, Stepper(agent, env, training=True, updates=False)
        self.stepper.reset(0)

    def run(self, steps: int, cut_at: int | None = None) -> list[dict[str, Any]]:
        """``cut_at`` starts a new episode without ending the old one (as a resume does)."""
        agent, seen = self.agent, []
        original = agent.model.act

        def recording_act(obs: Any, prev: Any, state: Any, normalize: Any) -> Any:
            acted = original(obs, prev, state, normalize)
            seen.append({"head": acted.head[0].clone(), "z_mean": acted.z_mean})
            return acted

        agent.model.act = recording_act
        if cut_at is None:
            self.stepper.run(steps)
        else:
            self.stepper.run(cut_at)
            self.stepper.reset(1)
            self.stepper.run(steps - cut_at)
        agent.model.act = original
        return seen


def drive(agent: Any, env: Any, steps: int, cut_at: int | None = None) -> list[dict[str, Any]]:
    return Driver(agent, env).run(steps, cut_at)


@pytest.mark.parametrize("agent_id", [*PPO_AGENTS, "ppo-bptt-32"])
@pytest.mark.parametrize("task_id", ["Pendulum-V-v0", "TMazePassive-10-v0"])
def test_training_rebuilds_exactly_what_the_policy_acted_on(agent_id: str, task_id: str) -> None:
    """Windows, truncated sequences from stored hidden states, GRU segments and z: the heads
    recomputed from the rollout equal those of acting, across episode ends, a cut episode and
    a rollout that starts mid-episode (the window's prefix)."""
    agent, env = make(agent_id, task_id, rollout_steps=36)
    n, driver = agent.rollout.capacity, Driver(agent, env)
    driver.run(n - 3)  # T-maze episodes last 11 steps: the second rollout starts mid-episode
    driver.run(3)
    assert agent.update()  # learn: the next rollout is acted on with new parameters
    seen = driver.run(n, cut_at=n // 2)
    assert agent.rollout.full
    prep = agent.model.prepare(agent._batch())
    ev = agent.model.evaluate(prep, torch.arange(agent.model.units(prep)))
    heads = torch.stack([s["head"] for s in seen])
    torch.testing.assert_close(ev.head, heads[ev.rows], rtol=1e-4, atol=1e-5)
    if agent_id == "ppo-rs":
        z_means = torch.cat([s["z_mean"] for s in seen])
        torch.testing.assert_close(ev.z_mean, z_means[ev.rows], rtol=1e-4, atol=1e-5)
    # and so every ratio starts at one
    targets = agent.targets(prep)
    log_prob, _ = agent._log_prob(
        ev.head, ev.z_mean, targets.action[ev.rows], targets.state_next[ev.rows]
    )
    torch.testing.assert_close(log_prob, targets.old_log_prob[ev.rows], rtol=1e-4, atol=1e-4)


def test_window_is_zero_filled_after_an_episode_start() -> None:
    agent, env = make("ppo-window-5")
    prep = None
    drive(agent, env, agent.rollout.capacity, cut_at=10)
    prep = agent.model.prepare(agent._batch())
    frames = prep["x"].view(-1, 5, 1)  # Pendulum-V: one observation entry
    assert torch.all(frames[10, :4] == 0) and frames[10, 4] != 0  # the cut: a new episode
    assert torch.all(frames[12, :2] == 0) and torch.all(frames[12, 2:] != 0)
    assert torch.all(frames[0, :4] == 0)  # the first episode's first step
    torch.testing.assert_close(frames[13, :4], frames[12, 1:])  # a window shifts by one


def test_rs_gae_runs_over_observation_and_internal_state() -> None:
    """V(s, z, a_prev) and V(s', z', a): z' is the *sampled* next state, so the value at t + 1
    is the next-state value at t, and GAE is checkable by hand from those values."""
    agent, env = make(
        "ppo-rs", rollout_steps=6, gamma=0.5, gae_lambda=0.5, normalize_advantage=False
    )
    assert isinstance(agent, PPORS)
    drive(agent, env, 6)
    r = agent.rollout
    np.testing.assert_array_equal(r.state_in[0], 0.0)  # z = 0 at an episode start
    np.testing.assert_array_equal(r.state_in[1:], r.state_next[:-1])  # z_{t+1} = sampled z'_t
    assert not np.allclose(r.state_next, 0.0)
    prep = agent.model.prepare(agent._batch())
    targets = agent.targets(prep)
    values, next_values = targets.values.numpy(), targets.next_values.numpy()
    np.testing.assert_allclose(values[1:], next_values[:-1], rtol=1e-5, atol=1e-6)
    # hand GAE: delta_t = r_t + 0.5 V'_t - V_t; A_t = delta_t + 0.25 A_{t+1}; A_5 = delta_5
    delta = r.reward[:6] + 0.5 * next_values - values
    expected = np.zeros(6, np.float32)
    for t in reversed(range(6)):
        expected[t] = delta[t] + (0.25 * expected[t + 1] if t < 5 else 0.0)
    np.testing.assert_allclose(targets.advantages.numpy(), expected, rtol=1e-4, atol=1e-4)
    # the critic really reads z: another z' changes V(s', z', a)
    r.state_next[2] += 1.0
    changed = agent.targets(agent.model.prepare(agent._batch())).next_values.numpy()
    assert abs(changed[2] - next_values[2]) > 1e-6
    np.testing.assert_allclose(np.delete(changed, 2), np.delete(next_values, 2), rtol=1e-5)


@pytest.mark.parametrize("agent_id", PPO_AGENTS)
def test_memory_resets_at_an_episode_start(agent_id: str) -> None:
    agent, env = make(agent_id)
    obs, _ = env.reset(seed=0)
    zero = ActionEncoder(env.action_space).zero
    fresh, state = agent.act(AgentInput(obs, zero, 0.0, True, None), agent.initial_state(), True)
    for _ in range(5):  # carry some memory along
        _, state = agent.act(AgentInput(obs * 3 + 1, zero, 0.0, False, None), state, True)
    again, _ = agent.act(AgentInput(obs, zero, 0.0, True, None), state, True)
    np.testing.assert_array_equal(again, fresh)
    carried, _ = agent.act(AgentInput(obs, zero, 0.0, False, None), state, True)
    assert (agent_id == "ppo-mlp") == np.array_equal(carried, fresh)  # the memory matters


def test_ppo_refuses_spaces_it_cannot_act_in() -> None:
    env = gymnasium.make("Pendulum-V-v0")
    ctx = AgentContext(
        task=pomdpbench.get_task("Pendulum-V-v0"),
        observation_space=env.observation_space,
        action_space=gymnasium.spaces.MultiBinary(3),
        privileged_size=None,
        seed=0,
        budget=10,
        tier="custom",
        config={},
    )
    with pytest.raises(ConfigError, match="Box or Discrete"):
        build_agent(get_agent_spec("ppo-mlp"), ctx)


def test_observe_without_act_is_a_clear_error() -> None:
    agent, env = make("ppo-mlp")
    obs, _ = env.reset(seed=0)
    with pytest.raises(RuntimeError, match="act"):
        agent.observe(
            Transition(obs, np.zeros(1, np.float32), 0.0, obs, False, False, True, None, None)
        )


def test_ppo_accepts_every_shipped_action_space_and_names_what_it_refuses() -> None:
    factory = type(make("ppo-mlp")[0])
    for suite in pomdpbench.list_suites():
        for task_id in suite.tasks:
            assert factory.check_task(pomdpbench.get_task(task_id)) is None
    odd = dataclasses.replace(pomdpbench.get_task("Pendulum-V-v0"), action_space="MultiBinary(3)")
    assert "Box or Discrete" in str(factory.check_task(odd))
