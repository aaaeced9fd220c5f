"""Every shipped agent honours the protocol: builds, acts, learns, saves and loads exactly.

Each registered agent needs an entry in ``SMALL``: a configuration small enough to update
within a few hundred steps. The test fails for an agent without one, so a new agent cannot
be registered untested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch

import pomdpbench
from pomdpbench.agents import AgentContext, AgentInput, Transition, list_agents
from pomdpbench.agents.config import agent_config_path, build_config, resolve_config
from pomdpbench.agents.registry import build_agent, get_agent_spec, load_factory
from pomdpbench.harness.actions import ActionEncoder

SMALL: dict[str, dict[str, Any]] = {
    "random": {},
    "sac-mlp": {
        "hidden_sizes": [32, 32],
        "batch_size": 32,
        "learning_starts": 64,
        "metrics_every": 10,
    },
}
_RESEL_SMALL: dict[str, Any] = {
    "pre_encoder_size": 8,
    "encoder_hidden": [16],
    "embedding_size": 8,
    "mamba_state": 4,
    "transformer_heads": 2,
    "transformer_layers": 1,
    "head_hidden": [16, 16],
    "ensemble_size": 2,
    "batch_size": 1,
    "learning_starts": 64,
    "metrics_every": 10,
}
SMALL.update({agent: _RESEL_SMALL for agent in ("resel", "resel-gru", "resel-transformer")})
_PPO_SMALL: dict[str, Any] = {
    "rollout_steps": 64,  # four updates in 260 steps; the round trip resumes mid-rollout
    "minibatch_size": 32,
    "epochs": 1,
    "hidden_sizes": [16, 16],
    "gru_size": 8,
    "embedding_size": 8,
    "sequence_length": 16,
}
SMALL.update(
    {
        agent: _PPO_SMALL
        for agent in ("ppo-mlp", "ppo-window-5", "ppo-window-32", "ppo-bptt-5", "ppo-bptt-32",
                      "ppo-rs", "ppo-gru")
    }
)  # fmt: skip
TASKS = ("Pendulum-V-v0", "CartPole-V-v0")  # one Box, one Discrete action space


def shipped() -> list[str]:
    return [spec.id for spec in list_agents() if spec.source != "entry point"]


def test_every_shipped_agent_has_a_contract_configuration() -> None:
    assert set(shipped()) <= set(SMALL), "add the new agent to SMALL"


def build(agent_id: str, task_id: str, seed: int = 0) -> tuple[Any, gymnasium.Env]:
    env = gymnasium.make(task_id)
    ctx = AgentContext(
        task=pomdpbench.get_task(task_id), observation_space=env.observation_space,
        action_space=env.action_space, privileged_size=None, seed=seed, budget=400,
        tier="custom", config=dict(SMALL[agent_id]),
    )  # fmt: skip
    return build_agent(get_agent_spec(agent_id), ctx), env


def drive(agent: Any, env: gymnasium.Env, steps: int, seed: int = 0) -> list[dict[str, float]]:
    """A minimal copy of the harness loop, to exercise the protocol directly."""
    encoder = ActionEncoder(env.action_space)
    obs, _ = env.reset(seed=seed)
    state, prev_action, prev_reward, start = agent.initial_state(), encoder.zero, 0.0, True
    metrics = []
    for _ in range(steps):
        action, state = agent.act(
            AgentInput(obs, prev_action, prev_reward, start, None), state, False
        )
        assert env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        agent.observe(Transition(obs, action, float(reward), next_obs, terminated, truncated,
                                 start, None, None))  # fmt: skip
        metrics.append(agent.update())
        if terminated or truncated:
            obs, _ = env.reset()
            state, prev_action, prev_reward, start = agent.initial_state(), encoder.zero, 0.0, True
        else:
            obs, prev_action, prev_reward, start = (
                next_obs,
                encoder.encode(action),
                float(reward),
                False,
            )
    return metrics


def deterministic_actions(agent: Any, env: gymnasium.Env) -> list[Any]:
    encoder = ActionEncoder(env.action_space)
    obs, _ = env.reset(seed=123)
    state, actions = agent.initial_state(), []
    for _ in range(20):
        action, state = agent.act(
            AgentInput(obs, encoder.zero, 0.0, not actions, None), state, True
        )
        actions.append(np.asarray(action).tolist())
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    return actions


@pytest.mark.parametrize("task_id", TASKS)
@pytest.mark.parametrize("agent_id", sorted(SMALL))
def test_agent_acts_learns_and_round_trips(agent_id: str, task_id: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    agent, env = build(agent_id, task_id)
    # past the first 200-step episode: RESeL warms up on whole episodes
    metrics = drive(agent, env, 260)
    if agent_id != "random":
        assert any(m for m in metrics), "the agent never reported an update"
        assert all(np.isfinite(v) for m in metrics for v in m.values())
    agent.save(tmp_path / "ckpt")

    restored, env2 = build(agent_id, task_id, seed=99)  # different seed: load must override
    restored.load(tmp_path / "ckpt")
    if agent_id != "random":
        assert deterministic_actions(restored, env2) == deterministic_actions(agent, env)
    # after loading, training continues exactly as the original would
    torch.manual_seed(1)
    continued = drive(agent, env, 80, seed=5)
    torch.manual_seed(1)
    continued_restored = drive(restored, env2, 80, seed=5)
    assert continued == continued_restored


@pytest.mark.parametrize("agent_id", sorted(SMALL))
def test_shipped_configs_parse_for_their_suites(agent_id: str) -> None:
    spec = get_agent_spec(agent_id)
    config_cls = getattr(load_factory(spec), "Config", None)
    for suite in pomdpbench.list_suites():
        if not agent_config_path(spec.config_dir or spec.id, suite.id).exists():
            continue
        for task_id in suite.tasks:
            for tier in ("full", "short", "smoke"):
                values = resolve_config(spec.config_dir or spec.id, suite.id, task_id, tier)
                assert config_cls is not None
                build_config(config_cls, values, spec.id)
