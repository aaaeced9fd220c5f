"""The table of shipped learner x memory agents, registered by ``pomdpbench/agents/__init__``.

Entry points are strings, so reading this table imports no torch. Off-policy rows point into
:mod:`pomdpbench.agents.offpolicy_zoo`; other learners (PPO) add their rows to :data:`AGENTS`.
"""

from __future__ import annotations

from pomdpbench.agents.registry import AgentSpec

S2PG = "Al-Hafez et al. 2024 (S2PG) Sec. 4, App. E; robfiras/s2pg"
MF_RNN = "Ni et al. 2022 (pomdp-baselines) MF-RNN; twni2016/pomdp-baselines policies/models"


def _spec(
    entry_point: str, agent_id: str, description: str, source: str, config_dir: str | None = None
) -> AgentSpec:
    """A row: ``entry_point`` is ``module:Class`` under ``pomdpbench.agents``."""
    return AgentSpec(
        id=agent_id,
        entry_point=f"pomdpbench.agents.{entry_point}",
        version="1",
        description=description,
        source=source,
        config_dir=config_dir,
    )


_OFF = "offpolicy_zoo:"
_BPTT = "SAC/TD3, GRU policy by truncated BPTT over {} steps"
_WINDOW = "SAC/TD3, MLP policy on the last {} observations, zero-filled"

AGENTS: list[AgentSpec] = [
    _spec(
        _OFF + "SACMLP",
        "sac-mlp",
        "memoryless SAC (SAC-Discrete for discrete actions)",
        "Haarnoja et al. 2018; Christodoulou 2019; pomdp-baselines Markovian SAC baseline",
    ),
    _spec(_OFF + "TD3MLP", "td3-mlp", "memoryless TD3", "Fujimoto et al. 2018; S2PG 04_Vanilla"),
    _spec(
        _OFF + "Oracle",
        "oracle",
        "SAC reading the full state (privileged or -F observation)",
        "S2PG 05_Oracle; pomdp-baselines Oracle",
    ),
    _spec(
        _OFF + "SACRS", "sac-rs", "SAC-RS: stochastic internal state drawn with the action", S2PG
    ),
    _spec(_OFF + "TD3RS", "td3-rs", "TD3-RS: noisy internal state, no BPTT", S2PG),
    _spec(
        _OFF + "SACBPTT5", "sac-bptt-5", _BPTT.format(5).replace("SAC/TD3", "SAC"), S2PG, "sac-bptt"
    ),
    _spec(
        _OFF + "SACBPTT32",
        "sac-bptt-32",
        _BPTT.format(32).replace("SAC/TD3", "SAC"),
        S2PG,
        "sac-bptt",
    ),
    _spec(
        _OFF + "TD3BPTT5", "td3-bptt-5", _BPTT.format(5).replace("SAC/TD3", "TD3"), S2PG, "td3-bptt"
    ),
    _spec(
        _OFF + "TD3BPTT32",
        "td3-bptt-32",
        _BPTT.format(32).replace("SAC/TD3", "TD3"),
        S2PG,
        "td3-bptt",
    ),
    _spec(
        _OFF + "SACWindow5",
        "sac-window-5",
        _WINDOW.format(5).replace("SAC/TD3", "SAC"),
        S2PG,
        "sac-window",
    ),
    _spec(
        _OFF + "SACWindow32",
        "sac-window-32",
        _WINDOW.format(32).replace("SAC/TD3", "SAC"),
        S2PG,
        "sac-window",
    ),
    _spec(
        _OFF + "TD3Window5",
        "td3-window-5",
        _WINDOW.format(5).replace("SAC/TD3", "TD3"),
        S2PG,
        "td3-window",
    ),
    _spec(
        _OFF + "TD3Window32",
        "td3-window-32",
        _WINDOW.format(32).replace("SAC/TD3", "TD3"),
        S2PG,
        "td3-window",
    ),
    _spec(
        _OFF + "MFRNN",
        "mf-rnn",
        "MF-RNN: SAC, separate GRU actor and critic, 64-step segments",
        MF_RNN,
    ),
    _spec(
        _OFF + "MFRNNTD3", "mf-rnn-td3", "MF-RNN with TD3 (separate GRU actor and critic)", MF_RNN
    ),
]
