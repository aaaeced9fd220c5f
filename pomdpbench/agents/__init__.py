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
from pomdpbench.agents.zoo import AGENTS

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
# The learner x memory zoo (SAC, TD3 and, from their own rows, PPO): see agents/zoo.py.
for _spec in AGENTS:
    register_agent(_spec)
for _id, _class, _what in (
    ("resel", "Resel", "Mamba"),
    ("resel-gru", "ReselGRU", "GRU"),
    ("resel-transformer", "ReselTransformer", "causal Transformer"),
    ("resel-same-lr", "ReselSameLR", "Mamba"),
):
    register_agent(
        AgentSpec(
            id=_id,
            entry_point=f"pomdpbench.agents.resel.agent:{_class}",
            version="1",
            description=f"RESeL: SAC + REDQ, {_what} context encoder with its own learning rate"
            if _id != "resel-same-lr"
            else "RESeL with the encoders at the other rates (LR_CE ablation, Fig. 11c)",
            source="Luo et al. 2024 (RESeL) Sec. 4, App. C, D.3; FanmingL/Recurrent-Offpolicy-RL",
            config_dir="resel",
        )
    )
# PPO: one learner (pomdpbench/agents/ppo/learner.py), the memory part fixed by the id.
_S2PG = "Al-Hafez et al. 2024 (S2PG); robfiras/s2pg launcher"
_PB_PPO = "Ni et al. 2022 (pomdp-baselines) PPO/ (ikostrikov/pytorch-a2c-ppo-acktr-gail)"
for _id, _class, _what, _source in (
    ("ppo-mlp", "PPOMLP", "memoryless PPO (observation only)", f"{_S2PG} 04_Vanilla"),
    ("ppo-window-5", "PPOWindow5", "PPO on the last 5 observations", f"{_S2PG} 03_Window"),
    ("ppo-window-32", "PPOWindow32", "PPO on the last 32 observations", f"{_S2PG} 03_Window"),
    ("ppo-bptt-5", "PPOBPTT5", "PPO, GRU actor and critic, BPTT over 5 steps", f"{_S2PG} 01_BPTT"),
    (
        "ppo-bptt-32",
        "PPOBPTT32",
        "PPO, GRU actor and critic, BPTT over 32 steps",
        f"{_S2PG} 01_BPTT",
    ),
    ("ppo-rs", "PPORS", "S2PG PPO-RS: one Gaussian over (action, next state)", f"{_S2PG} 02_RS"),
    ("ppo-gru", "PPOGRU", "PPO-GRU: a GRU shared by actor and critic", _PB_PPO),
):
    register_agent(
        AgentSpec(
            id=_id,
            entry_point=f"pomdpbench.agents.ppo.zoo:{_class}",
            version="1",
            description=_what,
            source=_source,
        )
    )
