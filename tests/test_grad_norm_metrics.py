"""The gradient norms agents report for the training-stability plots (RESeL Fig. 4).

Each learner reports the norm of the gradients its last backward pass left in its optimizers
(before any clipping), and RESeL reports its policy metrics at all (they were never among the
metrics when counted on a critic-only update).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from test_offpolicy_learners import build, observe_rewards
from test_ppo import make as make_ppo
from test_resel_agent import make_agent as make_resel
from test_resel_agent import run_steps

from pomdpbench.agents import AgentInput, Transition


def norm_of(optimizer: torch.optim.Optimizer) -> float:
    grads = [
        p.grad.flatten() for g in optimizer.param_groups for p in g["params"] if p.grad is not None
    ]
    return float(torch.linalg.vector_norm(torch.cat(grads)))


@pytest.mark.parametrize("agent_id", ["sac-mlp", "td3-mlp", "sac-bptt-5"])
def test_off_policy_learners_report_the_norms_their_gradients_have(agent_id: str) -> None:
    extra = {"policy_delay": 1} if agent_id.startswith("td3") else {}
    agent, env = build(agent_id, "Pendulum-V-v0", **extra)
    observe_rewards(agent, env, [1.0, -2.0, 0.5, 3.0, 0.0, 1.0], terminated=False)
    metrics = agent.update()
    assert metrics["policy_grad_norm"] == pytest.approx(norm_of(agent.actor_opt), rel=1e-5)
    assert metrics["critic_grad_norm"] == pytest.approx(norm_of(agent.critic_opt), rel=1e-5)
    assert metrics["critic_grad_norm"] > 0.0 and metrics["policy_grad_norm"] > 0.0


def test_td3_reports_its_actor_loss_when_the_delay_divides_metrics_every() -> None:
    """With policy_delay 2 and an even metrics_every, the reporting update has no actor step."""
    agent, env = build("td3-mlp", "Pendulum-V-v0", policy_delay=2, metrics_every=2)
    observe_rewards(agent, env, [1.0, -2.0, 0.5, 3.0, 0.0, 1.0], terminated=False)
    reports = [m for m in (agent.update() for _ in range(6)) if m]
    assert len(reports) == 3
    for reported in reports:  # the latest delayed actor step's loss, finite
        assert "actor_loss" in reported and np.isfinite(reported["actor_loss"])


def test_resel_reports_policy_metrics_when_metrics_every_is_even() -> None:
    agent = make_resel("resel-gru", "TMazePassive-10-v0", metrics_every=4)
    metrics = run_steps(agent, "TMazePassive-10-v0", 120)
    assert metrics, "no metrics were reported"
    for reported in metrics:  # every report is on a policy step, so it has the policy's
        assert {
            "actor_loss",
            "entropy",
            "critic_loss",
            "policy_grad_norm",
            "critic_grad_norm",
        } <= set(reported)
        assert all(np.isfinite(v) for v in reported.values())
    while not (reported := agent.update()):  # more updates on the same buffer, to a report
        pass
    assert reported["policy_grad_norm"] == pytest.approx(norm_of(agent.actor_opt), rel=1e-5)
    assert reported["critic_grad_norm"] == pytest.approx(norm_of(agent.critic_opt), rel=1e-5)


def ppo_update(agent: Any, env: Any) -> dict[str, float]:
    """Fill one rollout with random transitions through act/observe and update."""
    obs, _ = env.reset(seed=0)
    state, prev = agent.initial_state(), np.zeros(env.action_space.shape, np.float32)
    while True:
        action, state = agent.act(AgentInput(obs, prev, 0.0, False, None), state, False)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        agent.observe(
            Transition(
                obs, action, float(reward), next_obs, terminated, truncated, False, None, None
            )
        )
        if metrics := agent.update():
            return metrics
        obs = next_obs


@pytest.mark.parametrize("max_grad_norm", [1e-6, 0.0])
def test_ppo_reports_the_norm_before_clipping(max_grad_norm: float) -> None:
    agent, env = make_ppo("ppo-mlp", max_grad_norm=max_grad_norm)
    metrics = ppo_update(agent, env)
    assert metrics["grad_norm"] > 1e-3  # clipped to 1e-6, the norm after clipping would be tiny
