"""Agents: the protocol, the registry and the shipped agents.

Shipped agents register here by string entry point, so listing them imports no torch.
"""

from __future__ import annotations

from pomdpbench.agents.protocol import Agent, AgentContext, AgentInput, Transition
from pomdpbench.agents.registry import (
    AgentSpec,
    build_agent,
    get_agent_spec,
    list_agents,
    register_agent,
)

__all__ = [
    "Agent",
    "AgentContext",
    "AgentInput",
    "AgentSpec",
    "Transition",
    "build_agent",
    "get_agent_spec",
    "list_agents",
    "register_agent",
]

register_agent(
    AgentSpec(
        id="random",
        entry_point="pomdpbench.agents.random_agent:RandomAgent",
        version="1",
        description="uniform random actions (the 'random' reference score)",
        source="-",
    )
)
register_agent(
    AgentSpec(
        id="sac-mlp",
        entry_point="pomdpbench.agents.sac_mlp:SACMLP",
        version="1",
        description="memoryless SAC (SAC-Discrete for discrete actions)",
        source="Haarnoja et al. 2018; Christodoulou 2019; pomdp-baselines Markovian SAC baseline",
    )
)
for _id, _class, _what in (
    ("resel", "Resel", "Mamba"),
    ("resel-gru", "ReselGRU", "GRU"),
    ("resel-transformer", "ReselTransformer", "causal Transformer"),
):
    register_agent(
        AgentSpec(
            id=_id,
            entry_point=f"pomdpbench.agents.resel.agent:{_class}",
            version="1",
            description=f"RESeL: SAC + REDQ, {_what} context encoder with its own learning rate",
            source="Luo et al. 2024 (RESeL) Sec. 4, App. C, D.3; FanmingL/Recurrent-Offpolicy-RL",
            config_dir="resel",
        )
    )
# PPO: one learner (pomdpbench/agents/ppo/learner.py), the memory part fixed by the id.
_S2PG = "Al-Hafez et al. 2024 (S2PG); robfiras/s2pg experiments/01_Reinforcement_Learning"
for _id, _class, _what, _source in (
    ("ppo-mlp", "PPOMLP", "memoryless PPO (observation only)", f"{_S2PG}/04_Vanilla"),
    ("ppo-window-5", "PPOWindow5", "PPO on the last 5 observations, zero-filled", f"{_S2PG}/03_Window"),
    ("ppo-window-32", "PPOWindow32", "PPO on the last 32 observations, zero-filled", f"{_S2PG}/03_Window"),
    ("ppo-bptt-5", "PPOBPTT5", "PPO, GRU actor and critic, truncated BPTT over 5 steps", f"{_S2PG}/01_BPTT"),
    ("ppo-bptt-32", "PPOBPTT32", "PPO, GRU actor and critic, truncated BPTT over 32 steps", f"{_S2PG}/01_BPTT"),
    ("ppo-rs", "PPORS", "S2PG PPO-RS: one Gaussian over (action, next GRU state), no BPTT", f"{_S2PG}/02_RS"),
    ("ppo-gru", "PPOGRU", "PPO with a GRU shared by actor and critic (PPO-GRU)",
     "Ni et al. 2022 (pomdp-baselines) PPO/, after ikostrikov/pytorch-a2c-ppo-acktr-gail"),
):  # fmt: skip
    register_agent(
        AgentSpec(
            id=_id,
            entry_point=f"pomdpbench.agents.ppo.learner:{_class}",
            version="1",
            description=_what,
            source=_source,
        )
    )
