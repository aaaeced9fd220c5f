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
