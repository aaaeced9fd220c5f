"""A run's identity survives refactoring: shipped agents' configs hash as they did before.

The rows below were planned on main at 44e8a1a, before the agent config became typed and the
tier an enum: the resolved config each job stored, its ``config_hash`` and ``run_key``. A
planned job must still give the same config and the same two hashes, or an existing database
would no longer recognise its runs (finished runs would be run again, resumes would be lost).
A change of a shipped suite file changes these on purpose: update the row and say so.

``resel-gru`` and ``resel-transformer`` are left out: their identity changed on purpose when
their configs stopped carrying the Mamba core's keys (docs/resel.md; tests/test_resel_agent.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from pomdpbench.agents import config as config_module
from pomdpbench.agents.registry import get_agent_spec, load_factory
from pomdpbench.harness.loop import build_run
from pomdpbench.record.vocabulary import Tier
from pomdpbench.sweep.plan import SweepRequest, plan

FROZEN: list[tuple[str, str, str, dict[str, Any], str, str]] = [
    ("random", "Pendulum-P-v0", "smoke", {}, "44136fa355b3", "9f8b5ad376c065ac1dad"),
    (
        "sac-mlp",
        "Pendulum-P-v0",
        "smoke",
        {
            "hidden_sizes": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.0003,
            "alpha_lr": 0.0003,
            "tau": 0.005,
            "batch_size": 256,
            "gamma": 0.9,
            "learning_starts": 500,
            "target_entropy_ratio": 1.0,
        },
        "9d2485979e24",
        "7c9c14832405238626af",
    ),
    (
        "sac-mlp",
        "Pendulum-P-v0",
        "full",
        {
            "hidden_sizes": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.0003,
            "alpha_lr": 0.0003,
            "tau": 0.005,
            "batch_size": 256,
            "gamma": 0.9,
            "learning_starts": 1000,
            "target_entropy_ratio": 1.0,
        },
        "4e627fa0ef50",
        "ae0b8e1fb28e49f4ec74",
    ),
    (
        "td3-window-5",
        "Pendulum-V-v0",
        "full",
        {
            "hidden_sizes": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.0003,
            "tau": 0.005,
            "batch_size": 256,
            "learning_starts": 1000,
            "exploration_noise": 0.1,
            "policy_noise": 0.2,
            "noise_clip": 0.5,
            "gamma": 0.9,
            "privileged_critic": True,
            "actor_hidden_sizes": [128, 128],
        },
        "3639cc6124aa",
        "af432d14c22f9601c39f",
    ),
    (
        "mf-rnn",
        "Pendulum-V-v0",
        "smoke",
        {
            "privileged_critic": False,
            "memory_length": 200,
            "gru_hidden": 128,
            "embedding": 32,
            "action_embedding": 16,
            "reward_embedding": 16,
            "hidden_sizes": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.0003,
            "alpha_lr": 0.0003,
            "tau": 0.005,
            "batch_size": 4,
            "learning_starts": 500,
            "target_entropy_ratio": 1.0,
            "gamma": 0.9,
        },
        "ecc5d12d0c50",
        "e4e05dfcfa1c0cf46e34",
    ),
    (
        "ppo-rs",
        "CartPole-P-v0",
        "full",
        {
            "rollout_steps": 512,
            "epochs": 4,
            "minibatch_size": 32,
            "actor_lr": 0.00025,
            "critic_lr": 0.00025,
            "adam_eps": 1e-05,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "clip_eps": 0.2,
            "clip_value_loss": True,
            "vf_coef": 0.25,
            "ent_coef": 0.01,
            "max_grad_norm": 0.5,
            "gru_size": 128,
            "embedding_size": 128,
            "hidden_sizes": [128, 128],
            "std_0": 0.5,
        },
        "c7761cd4edeb",
        "8da5c8e02b383b611d2b",
    ),
    (
        "ppo-gru",
        "CartPole-V-v0",
        "smoke",
        {"rollout_steps": 256, "minibatch_size": 128, "sequence_length": 128},
        "7eae05972f4f",
        "30bf764f15e361b30e1e",
    ),
    (
        "oracle",
        "Pendulum-F-v0",
        "full",
        {
            "hidden_sizes": [128, 128],
            "actor_lr": 0.0003,
            "critic_lr": 0.0003,
            "alpha_lr": 0.0003,
            "tau": 0.005,
            "batch_size": 256,
            "learning_starts": 1000,
            "target_entropy_ratio": 1.0,
            "gamma": 0.9,
            "privileged_critic": True,
        },
        "84d357f17293",
        "7f37ea06ad4bf2bfbbcc",
    ),
    (
        "resel",
        "Pendulum-P-v0",
        "smoke",
        {
            "encoder_hidden": [128],
            "head_hidden": [128, 128],
            "mamba_state": 16,
            "policy_lr": 0.0003,
            "value_lr": 0.001,
            "policy_encoder_lr": 1e-05,
            "value_encoder_lr": 1e-05,
            "learning_starts": 1500,
            "gamma": 0.9,
            "batch_size": 1,
        },
        "b2f303a9e92e",
        "b81f3c9665924b2160e7",
    ),
]


def main_config_hash(config: dict[str, Any]) -> str:
    """``JobSpec.config_hash`` as main computed it (written out here, not imported)."""
    canonical = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


@pytest.mark.parametrize("row", FROZEN, ids=[f"{r[0]}-{r[2]}" for r in FROZEN])
def test_the_frozen_rows_are_mains_hashes_of_their_configs(row: tuple[Any, ...]) -> None:
    """The pins are what they say: main's hash of the frozen config (guards against typos)."""
    *_, config, config_hash, _ = row
    assert main_config_hash(config) == config_hash


@pytest.mark.parametrize("row", FROZEN, ids=[f"{r[0]}-{r[2]}" for r in FROZEN])
def test_a_shipped_agents_run_keeps_its_identity(row: tuple[Any, ...]) -> None:
    agent, task, tier, config, config_hash, run_key = row
    (job,) = plan(SweepRequest(agent=agent, tasks=[task], tier=tier, seeds=[0]))
    assert job.config == config
    assert job.config_hash == config_hash
    assert job.run_key == run_key
    assert job.tier is Tier(tier)


def test_a_custom_tier_with_an_override_keeps_its_identity() -> None:
    """The ``custom`` tier (now an enum member) hashes as the string did."""
    request = SweepRequest(
        agent="sac-mlp", tasks=["Pendulum-P-v0"], steps=300, seeds=[1], eval_episodes=2
    )
    (job,) = plan(request)
    assert job.tier is Tier.CUSTOM
    assert job.identity["protocol_override"] == "eval_episodes=2"
    assert job.run_key == "d2f8db2c006f4694ce08"
    assert dataclasses.replace(job, tier="custom").run_key == job.run_key  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "agent", ["random", "sac-mlp", "td3-rs", "ppo-mlp", "resel-gru", "resel-same-lr"]
)
def test_the_harness_builds_the_typed_config_once_and_the_agent_keeps_it(
    agent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (job,) = plan(SweepRequest(agent=agent, tasks=["Pendulum-V-v0"], steps=50, seeds=[0]))
    built: list[Any] = []
    original = config_module.build_config

    def counting(cls: type[Any], values: Any, agent_id: str) -> Any:
        built.append(original(cls, values, agent_id))
        return built[-1]

    monkeypatch.setattr(config_module, "build_config", counting)
    run = build_run(job)
    config_cls = load_factory(get_agent_spec(agent)).Config
    assert len(built) == 1 and isinstance(built[0], config_cls)
    assert built[0].__class__ is config_cls  # not a subclass chosen by the constructor
    kept = getattr(run[0], "cfg", built[0])  # the random agent keeps no config
    if agent == "resel-same-lr":  # the ablation ties its encoder rates on the built config
        assert kept == dataclasses.replace(
            built[0], policy_encoder_lr=built[0].policy_lr, value_encoder_lr=built[0].value_lr
        )
    else:
        assert kept is built[0]
    for env in run[1:]:
        env.close()
