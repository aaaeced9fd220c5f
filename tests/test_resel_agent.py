"""The RESeL agents behind the harness protocol: optimizer groups, acting, learning, resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from pomdpbench.agents.protocol import AgentContext, AgentInput
from pomdpbench.agents.registry import build_agent, get_agent_spec
from pomdpbench.agents.resel.optim import ENCODER_GROUP, OTHER_GROUP
from pomdpbench.errors import ConfigError
from pomdpbench.harness.stepper import Stepper
from pomdpbench.registry import get_task, make_env
from pomdpbench.sweep.plan import SweepRequest, plan

AGENTS = ["resel", "resel-gru", "resel-transformer"]
TINY = {
    "pre_encoder_size": 8,
    "encoder_hidden": [16],
    "embedding_size": 8,
    "head_hidden": [16, 16],
    "batch_size": 40,
    "learning_starts": 60,
}
TINY_CORE: dict[str, dict[str, Any]] = {
    "resel": {"mamba_state": 4, "mamba_conv": 4},
    "resel-same-lr": {"mamba_state": 4, "mamba_conv": 4},
    "resel-gru": {},
    "resel-transformer": {"transformer_heads": 2, "transformer_layers": 1},
}
"""Each core's own small settings: a config names only its own core's keys."""


def make_agent(agent_id: str, task: str, **config: Any) -> Any:
    env = make_env(task)
    ctx = AgentContext(
        task=get_task(task),
        observation_space=env.observation_space,
        action_space=env.action_space,
        privileged_size=None,
        seed=0,
        budget=1000,
        tier="custom",
        config={**TINY, **TINY_CORE[agent_id], **config},
    )
    return build_agent(get_agent_spec(agent_id), ctx)


def driver(agent: Any, task: str, seed: int = 0) -> Stepper:
    """The harness's own stepper on a fresh environment: training steps across ``run`` calls."""
    stepper = Stepper(agent, make_env(task), training=True)
    stepper.reset(seed)
    return stepper


def run_steps(agent: Any, task: str, steps: int) -> list[dict[str, float]]:
    """Train ``agent`` for ``steps`` steps from a fresh environment; the non-empty metrics."""
    metrics: list[dict[str, float]] = []
    driver(agent, task).run(steps, metrics_log=metrics)
    return metrics


@pytest.mark.parametrize("agent_id", AGENTS)
def test_optimizers_have_the_two_learning_rate_groups(agent_id: str) -> None:
    agent = make_agent(
        agent_id,
        "Pendulum-V-v0",
        policy_lr=3e-4,
        policy_encoder_lr=1e-5,
        value_lr=1e-3,
        value_encoder_lr=2e-6,
    )
    for net, opt, lr, encoder_lr in (
        (agent.actor, agent.actor_opt, 3e-4, 1e-5),
        (agent.critic, agent.critic_opt, 1e-3, 2e-6),
    ):
        groups = {group["name"]: group for group in opt.param_groups}
        assert set(groups) == {ENCODER_GROUP, OTHER_GROUP}
        assert groups[ENCODER_GROUP]["lr"] == encoder_lr and groups[OTHER_GROUP]["lr"] == lr
        encoder_ids = {id(p) for p in groups[ENCODER_GROUP]["params"]}
        other_ids = {id(p) for p in groups[OTHER_GROUP]["params"]}
        assert not encoder_ids & other_ids, "a parameter in both groups"
        assert encoder_ids | other_ids == {id(p) for p in net.parameters()}, "a parameter in none"
        stack = net.encoder
        expected = {
            id(p) for m in (stack.mlp_in, stack.core, stack.mlp_out) for p in m.parameters()
        }
        assert encoder_ids == expected  # exactly the MLP-core-MLP stack
        assert id(stack.obs_encoder.weight) in other_ids  # pre-encoders at the normal rate
        assert all(group["weight_decay"] == 0.0 for group in opt.param_groups)


@pytest.mark.parametrize("agent_id", AGENTS)
@pytest.mark.parametrize("task", ["Pendulum-V-v0", "TMazePassive-10-v0"])
def test_acts_and_learns_through_the_protocol(agent_id: str, task: str) -> None:
    agent = make_agent(agent_id, task, metrics_every=1)
    torch.manual_seed(0)
    critic_before = [p.detach().clone() for p in agent.critic.parameters()]
    metrics = run_steps(agent, task, 260 if task.startswith("Pendulum") else 120)
    assert not agent.warming_up and agent.updates > 0
    assert metrics and all(np.isfinite(v) for m in metrics for v in m.values())
    assert any("actor_loss" in m for m in metrics)  # the policy steps every second update
    changed = [
        not torch.equal(a, b) for a, b in zip(critic_before, agent.critic.parameters(), strict=True)
    ]
    assert all(changed), "every critic parameter moves (both learning-rate groups train)"


def test_warm_up_finishes_the_episode_in_progress() -> None:
    agent = make_agent("resel", "Pendulum-V-v0", learning_starts=50)
    stepper = driver(agent, "Pendulum-V-v0")
    stepper.run(199)
    assert agent.warming_up and agent.updates == 0  # Pendulum episodes last 200 steps
    stepper.run(1)
    assert not agent.warming_up and agent.updates == 1  # learning starts right after it
    stepper.run(1)
    assert agent.updates == 2


@pytest.mark.parametrize("agent_id", AGENTS)
def test_save_and_load_resume_identically(agent_id: str, tmp_path: Path) -> None:
    task = "TMazePassive-10-v0"
    agent = make_agent(agent_id, task)
    run_steps(agent, task, 100)
    agent.save(tmp_path / "ckpt")
    resumed = make_agent(agent_id, task)
    resumed.load(tmp_path / "ckpt")
    torch.manual_seed(1)
    first = agent.learn(agent.sample())
    torch.manual_seed(1)
    second = resumed.learn(resumed.sample())
    assert {k: float(v) for k, v in first.items()} == {k: float(v) for k, v in second.items()}
    for a, b in zip(agent.actor.parameters(), resumed.actor.parameters(), strict=True):
        assert torch.equal(a, b)


def test_acting_uses_the_carried_state_as_the_parallel_pass_does() -> None:
    """The actions of act() match the policy evaluated over the whole episode at once."""
    from pomdpbench.agents.resel.encoders import Layout
    from pomdpbench.agents.resel.networks import Tokens, gaussian_sample

    agent = make_agent("resel", "Pendulum-V-v0", learning_starts=0)
    agent.warming_up = False
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(12, 1)).astype(np.float32)
    actions, rewards = [], []
    state, prev_action, prev_reward = agent.initial_state(), np.zeros(1, np.float32), 0.0
    for t in range(12):
        action, state = agent.act(
            AgentInput(obs[t], prev_action, prev_reward, t == 0, None), state, True
        )
        actions.append(action)
        prev_action, prev_reward = action.astype(np.float32), float(t)
        rewards.append(prev_reward)
    o = torch.tensor(obs).unsqueeze(0)
    last_obs = torch.cat([torch.zeros(1, 1, 1), o[:, :-1]], dim=1)
    last_action = torch.cat([torch.zeros(1, 1, 1), torch.tensor(np.array(actions[:-1]))[None]], 1)
    last_reward = torch.tensor([0.0, *rewards[:-1]]).view(1, -1, 1)
    with torch.no_grad():
        out = agent.actor(Tokens(o, last_obs, last_action, last_reward), Layout.single(1, 12))
    expected, _ = gaussian_sample(out[0], deterministic=True)
    np.testing.assert_allclose(np.array(actions), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_bad_settings_fail_with_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown hyperparameter"):
        make_agent("resel", "Pendulum-V-v0", mamba_size=3)
    with pytest.raises(ConfigError, match="random_initial_hidden"):
        make_agent("resel-transformer", "Pendulum-V-v0", random_initial_hidden=True)


@pytest.mark.parametrize("suite", ["classic", "gravity", "meta", "mdp", "sanity", "diagnostic"])
@pytest.mark.parametrize("tier", ["full", "smoke"])
def test_every_suite_file_gives_valid_settings(suite: str, tier: str) -> None:
    """baselines/resel/<suite>.toml resolves for each agent (task tables included)."""
    from pomdpbench.agents.config import agent_config, agent_config_path, resolve_run_config
    from pomdpbench.agents.registry import load_factory

    assert agent_config_path("resel", suite).exists()
    for agent_id in AGENTS:
        factory = load_factory(get_agent_spec(agent_id))
        for task in ("AntBLT-V-v0", "WalkerBLT-P-v0", "Hopper-v5", "HalfCheetah-v5", "X-v0"):
            values = resolve_run_config(factory, "resel", suite, task, tier)
            config = agent_config(factory, values, agent_id)
            assert config.policy_encoder_lr < config.policy_lr  # the encoder learns slower
            assert config.value_encoder_lr < config.value_lr
            own = {"resel": "mamba_", "resel-gru": "-", "resel-transformer": "transformer_"}
            cores = {k for k in values if k.startswith(("mamba_", "transformer_"))}
            assert all(k.startswith(own[agent_id]) for k in cores), (agent_id, cores)


def test_an_encoder_config_names_only_its_own_core() -> None:
    """resel-gru's identity carries no Mamba setting; resel's none of the Transformer's."""
    from dataclasses import fields

    from pomdpbench.agents.resel.config import ReselGRUConfig, ReselMambaConfig

    names = {f.name for f in fields(ReselGRUConfig)}
    assert not {n for n in names if n.startswith(("mamba_", "transformer_"))}
    assert not {f.name for f in fields(ReselMambaConfig) if f.name.startswith("transformer_")}
    tasks = ("Pendulum-P-v0",)  # baselines/resel/sanity.toml sets mamba_state = 16
    (mamba,) = plan(SweepRequest(agent="resel", tasks=tasks, seeds=[0]))
    (gru,) = plan(SweepRequest(agent="resel-gru", tasks=tasks, seeds=[0]))
    assert mamba.config["mamba_state"] == 16
    assert "mamba_state" not in gru.config
    assert gru.config == {k: v for k, v in mamba.config.items() if k != "mamba_state"}
    assert gru.config_hash != mamba.config_hash


def test_another_cores_setting_on_the_command_line_is_refused_naming_the_valid_keys() -> None:
    with pytest.raises(ConfigError) as refused:
        plan(
            SweepRequest(agent="resel-gru", tasks=("Pendulum-P-v0",), overrides={"mamba_state": 8})
        )
    message = str(refused.value)
    assert "\n" not in message
    assert "unknown hyperparameter(s) mamba_state for agent 'resel-gru'" in message
    valid = message.partition("valid: ")[2].split(", ")
    assert "encoder_hidden" in valid and "policy_encoder_lr" in valid
    assert not [name for name in valid if name.startswith(("mamba_", "transformer_"))]
    with pytest.raises(ConfigError, match="transformer_heads for agent 'resel'"):
        plan(
            SweepRequest(
                agent="resel", tasks=("Pendulum-P-v0",), overrides={"transformer_heads": 2}
            )
        )


def test_same_lr_ablation_ties_each_encoder_rate_to_its_network_rate() -> None:
    """``resel-same-lr`` (Fig. 11c): encoders at the other rates, the stored config says so."""
    agent = make_agent(
        "resel-same-lr",
        "Pendulum-V-v0",
        policy_lr=3e-4,
        policy_encoder_lr=1e-5,
        value_lr=1e-3,
        value_encoder_lr=2e-6,
    )
    for opt, lr in ((agent.actor_opt, 3e-4), (agent.critic_opt, 1e-3)):
        groups = {group["name"]: group for group in opt.param_groups}
        assert groups[ENCODER_GROUP]["lr"] == groups[OTHER_GROUP]["lr"] == lr
    tasks = ("TMazePassive-10-v0",)
    resel = {job.agent: job.config for job in plan(SweepRequest(agent="resel", tasks=tasks))}
    same = {job.agent: job.config for job in plan(SweepRequest(agent="resel-same-lr", tasks=tasks))}
    ours, theirs = same["resel-same-lr"], resel["resel"]
    assert theirs["policy_encoder_lr"] < theirs["policy_lr"]  # RESeL's own two rates differ
    assert ours["policy_encoder_lr"] == ours["policy_lr"] == theirs["policy_lr"]
    assert ours["value_encoder_lr"] == ours["value_lr"] == theirs["value_lr"]
    untied = {k: v for k, v in ours.items() if not k.endswith("encoder_lr")}
    assert untied == {k: v for k, v in theirs.items() if not k.endswith("encoder_lr")}
    with pytest.raises(ConfigError, match="set policy_lr instead"):
        plan(
            SweepRequest(agent="resel-same-lr", tasks=tasks, overrides={"policy_encoder_lr": 1e-4})
        )
