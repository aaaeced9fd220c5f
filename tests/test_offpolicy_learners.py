"""SAC and TD3 with their memory parts: losses on hand-checkable batches, privileged critics,
and the tasks they refuse before any run starts."""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch

import pomdpbench
from pomdpbench.agents import AgentContext, Transition
from pomdpbench.agents.registry import build_agent, get_agent_spec
from pomdpbench.errors import ConfigError
from pomdpbench.harness.loop import privileged_size
from pomdpbench.harness.stepper import Stepper
from pomdpbench.sweep import SweepRequest, plan

TINY = {
    "hidden_sizes": [8],
    "batch_size": 4,
    "learning_starts": 0,
    "metrics_every": 1,
    "gru_hidden": 4,
    "embedding": 4,
}


def build(agent_id: str, task_id: str, **config: Any) -> tuple[Any, gymnasium.Env]:
    env = gymnasium.make(task_id)
    _, info = env.reset(seed=0)
    ctx = AgentContext(
        task=pomdpbench.get_task(task_id),
        observation_space=env.observation_space,
        action_space=env.action_space,
        privileged_size=privileged_size(info),
        seed=0,
        budget=100,
        tier="custom",
        config={**TINY, **config},
    )
    return build_agent(get_agent_spec(agent_id), ctx), env


def zero_parameters(agent: Any) -> None:
    with torch.no_grad():
        for module in (
            agent.memory,
            agent.actor,
            agent.critic,
            agent.critic_target,
            agent.critic_encoder,
            agent.critic_encoder_target,
            getattr(agent, "actor_target", torch.nn.Identity()),
        ):
            for p in module.parameters():
                p.zero_()


def observe_rewards(agent: Any, env: gymnasium.Env, rewards: list[float], terminated: bool) -> None:
    """Store transitions with the given rewards (through act, so internal states are set)."""
    obs, info = env.reset(seed=1)
    prev = np.zeros(agent.n_actions, np.float32)
    state = agent.initial_state()
    for k, reward in enumerate(rewards):
        from pomdpbench.agents import AgentInput

        priv = info.get("state") if agent.wants_privileged else None
        action, state = agent.act(AgentInput(obs, prev, 0.0, k == 0, priv), state, False)
        agent.observe(Transition(obs, action, reward, obs, terminated, False, k == 0, priv, priv))


@pytest.mark.parametrize("agent_id", ["sac-mlp", "sac-rs", "sac-bptt-5", "sac-window-5", "mf-rnn"])
def test_sac_discrete_losses_by_hand(agent_id: str) -> None:
    """Zero weights: Q = 0 and a uniform policy over n = 4 actions, so the soft target is
    r + gamma * alpha * log n (bootstrapping) and the actor loss is -alpha * log n. The
    critic's rate is 0 so the actor sees the same zero critic."""
    gamma, alpha, n = 0.9, 0.5, 4
    agent, env = build(
        agent_id,
        "TMazePassive-10-v0",
        gamma=gamma,
        initial_alpha=alpha,
        autotune_alpha=False,
        critic_lr=0.0,
    )
    zero_parameters(agent)
    observe_rewards(agent, env, [2.0] * 6, terminated=False)
    metrics = agent.update()
    target = 2.0 + gamma * alpha * math.log(n)
    assert metrics["critic_loss"] == pytest.approx(2 * target**2, rel=1e-5)  # two critics
    # sac-rs adds alpha_z * log pi(z') for its internal state (alpha_z_0 = 0.01)
    z_term = -0.01 * metrics["entropy_z"] if agent_id == "sac-rs" else 0.0
    assert metrics["actor_loss"] == pytest.approx(-alpha * math.log(n) + z_term, rel=1e-5)
    assert metrics["entropy"] == pytest.approx(math.log(n), rel=1e-5)


def test_sac_terminal_transitions_do_not_bootstrap() -> None:
    agent, env = build(
        "sac-mlp", "TMazePassive-10-v0", gamma=0.9, initial_alpha=0.5, autotune_alpha=False
    )
    zero_parameters(agent)
    observe_rewards(agent, env, [3.0] * 6, terminated=True)
    assert agent.update()["critic_loss"] == pytest.approx(2 * 3.0**2, rel=1e-5)


@pytest.mark.parametrize(
    "agent_id", ["td3-mlp", "td3-rs", "td3-bptt-5", "td3-window-5", "mf-rnn-td3"]
)
def test_td3_losses_by_hand(agent_id: str) -> None:
    """Zero weights: every Q is 0, so the critic loss is twice the mean squared reward; the
    delayed actor update runs on the first step, its loss -Q = 0 (the critic's rate is 0)."""
    agent, env = build(agent_id, "Pendulum-V-v0", critic_lr=0.0)
    zero_parameters(agent)
    rewards = [1.0, -2.0, 3.0, 0.5, 1.5, -1.0]
    observe_rewards(agent, env, rewards, terminated=False)
    torch.manual_seed(0)
    metrics = agent.update()
    batch = agent.buffer.reward[: agent.buffer.size]
    assert set(batch.tolist()) == set(rewards)
    assert metrics["actor_loss"] == 0.0
    # the batch is drawn with replacement: recompute it from the sampler's generator
    agent2, env2 = build(agent_id, "Pendulum-V-v0", critic_lr=0.0)
    observe_rewards(agent2, env2, rewards, terminated=False)
    mb = agent2.memory.batch(agent2.buffer, agent2.cfg.batch_size)
    assert metrics["critic_loss"] == pytest.approx(2 * float((mb.reward**2).mean()), rel=1e-5)


def test_sac_rs_refreshes_the_stored_next_internal_state_after_an_actor_update() -> None:
    agent, env = build("sac-rs", "Pendulum-V-v0", batch_size=64)
    observe_rewards(agent, env, [0.0] * 30, terminated=False)
    before = agent.buffer.next_state[:30].copy()
    agent.update()
    changed = np.any(agent.buffer.next_state[:30] != before, axis=1)
    assert changed.sum() > 10  # 64 draws with replacement from 30 rows
    # the next transition starts from the refreshed state (inside the one episode)
    rows = np.flatnonzero(changed[:-1])
    np.testing.assert_array_equal(agent.buffer.state[rows + 1], agent.buffer.next_state[rows])


@pytest.mark.parametrize(
    ("agent_id", "task_id", "expected"),
    [
        ("sac-rs", "TMazePassive-10-v0", True),  # S2PG's privileged critic
        ("sac-bptt-32", "PointMassGoal-v0", True),
        ("td3-window-5", "Hopper-Robust-v0", True),
        ("sac-mlp", "TMazePassive-10-v0", False),  # its diagnostic config keeps the former run
        ("mf-rnn", "TMazePassive-10-v0", False),  # pomdp-baselines has no privileged critic
        ("sac-rs", "Pendulum-V-v0", False),  # nothing to read
    ],
)
def test_privileged_critic_where_the_config_and_task_allow(
    agent_id: str, task_id: str, expected: bool
) -> None:
    from pomdpbench.agents.config import resolve_config

    spec = get_agent_spec(agent_id)
    task = pomdpbench.get_task(task_id)
    config = resolve_config(spec.config_dir or spec.id, task.suite, task_id, "full")
    agent, _ = build(
        agent_id, task_id, **{k: v for k, v in config.items() if k == "privileged_critic"}
    )
    assert agent.wants_privileged is expected
    assert (agent.memory.ctx.privileged_size > 0) is expected


def test_oracle_actor_reads_the_privileged_state() -> None:
    agent, env = build("oracle", "TMazePassive-10-v0")
    assert agent.wants_privileged
    assert agent.memory.actor_input_size == 4  # [x / L, y, goal side, t / (L + 1)]


@pytest.mark.parametrize(
    "agent_id", ["td3-mlp", "td3-rs", "td3-bptt-32", "td3-window-5", "mf-rnn-td3"]
)
def test_td3_refuses_a_discrete_task_before_any_run_naming_the_cont_variant(agent_id: str) -> None:
    with pytest.raises(ConfigError, match="KeyToDoor-60-cont-v0") as error:
        plan(SweepRequest(agent=agent_id, tasks=("KeyToDoor-60-v0",)))
    assert "\n" not in str(error.value)
    assert plan(SweepRequest(agent=agent_id, tasks=("KeyToDoor-60-cont-v0",)))


def test_oracle_refuses_a_partial_task_without_a_state_naming_its_full_twin() -> None:
    with pytest.raises(ConfigError, match="Pendulum-F-v0"):
        plan(SweepRequest(agent="oracle", tasks=("Pendulum-V-v0",)))
    assert plan(SweepRequest(agent="oracle", tasks=("Pendulum-F-v0", "Hopper-Robust-v0")))


@pytest.mark.parametrize(
    "agent_id", ["sac-mlp", "oracle", "sac-rs", "sac-bptt-5", "sac-window-5", "mf-rnn"]
)
def test_training_inputs_rebuild_what_the_policy_acted_on(agent_id: str) -> None:
    """Every actor input of a training batch is one the policy computed while acting: the
    windows, the GRU unrolled from the stored state, z, the previous action and reward."""
    agent, env = build(
        agent_id, "TMazePassive-10-v0", memory_length=16, batch_size=32, learning_starts=10**6
    )
    acted: list[np.ndarray] = []
    original = agent.memory.act_input

    def recording(inp: Any, state: Any) -> Any:
        x, z_mean = original(inp, state)
        acted.append(x[0].detach().numpy().copy())
        return x, z_mean

    agent.memory.act_input = recording
    stepper = Stepper(agent, env, training=True, updates=False)
    for episode in range(4):  # random actions (warm-up): some steps lag and are penalized
        stepper.run_episode(seed=episode)
    assert any(agent.buffer.prev_reward[: agent.buffer.size] != 0)
    with torch.no_grad():
        batch = agent.memory.batch(agent.buffer, 32)
    table = np.stack(acted)
    for row in batch.x.numpy():
        assert np.abs(table - row).max(axis=1).min() < 1e-5, "a training input the policy never saw"


@pytest.mark.parametrize("agent_id", ["sac-rs", "td3-rs", "sac-bptt-5", "mf-rnn"])
def test_the_actor_update_trains_the_memory_part(agent_id: str) -> None:
    """The GRU of the memory part learns from the actor loss (for rs: through the draw of z')."""
    task = (
        "TMazePassive-10-v0"
        if agent_id.startswith("sac") or agent_id == "mf-rnn"
        else "Pendulum-V-v0"
    )
    agent, env = build(agent_id, task, batch_size=16, critic_lr=0.0)
    observe_rewards(agent, env, [1.0, 0.0, -1.0, 0.5] * 5, terminated=False)
    before = [p.detach().clone() for p in agent.memory.parameters()]
    agent.update()
    changed = [
        not torch.equal(b, p) for b, p in zip(before, agent.memory.parameters(), strict=True)
    ]
    assert before and any(changed)
