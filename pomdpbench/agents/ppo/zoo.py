"""The seven PPO agents: the learner with its memory fixed by the id, and each source's defaults.

Suite files (``baselines/ppo-*/<suite>.toml``) override these defaults; they matter for a suite
without a file.
"""

from __future__ import annotations

from typing import Any

from pomdpbench.agents.ppo.learner import PPO


def _agent(agent_id: str, memory: str, length: int, **defaults: Any) -> type[PPO]:
    doc = f"``{agent_id}``: PPO with the ``{memory}`` memory" + (
        f" (L = {length})." if length > 1 else "."
    )
    attributes = {
        "agent_id": agent_id,
        "memory": memory,
        "length": length,
        "defaults": defaults,
        "__doc__": doc,
    }
    return type(agent_id.replace("-", "_").upper(), (PPO,), attributes)


# S2PG launchers (experiments/01_Reinforcement_Learning/*/01_POMDP/launcher.py): std_0 is 1.0
# for Vanilla and 0.5 for Window, BPTT and RS.
PPOMLP = _agent("ppo-mlp", "mlp", 1)
PPOWindow5 = _agent("ppo-window-5", "window", 5, std_0=0.5)
PPOWindow32 = _agent("ppo-window-32", "window", 32, std_0=0.5)
PPOBPTT5 = _agent("ppo-bptt-5", "bptt", 5, std_0=0.5)
PPOBPTT32 = _agent("ppo-bptt-32", "bptt", 32, std_0=0.5)
PPORS = _agent("ppo-rs", "rs", 1, std_0=0.5, actor_lr=5e-5, critic_lr=5e-5)
# pomdp-baselines PPO/README.md command and PPO/a2c_ppo_acktr/arguments.py defaults: lr 2.5e-4,
# eps 1e-5, 4 epochs, 4 minibatches of 16 processes x 128 steps, clip 0.2 (values too),
# value loss 0.5 * 0.5 * MSE, entropy 0.01, gradient norm 0.5, GRU and tanh MLPs of 64.
PPOGRU = _agent(
    "ppo-gru",
    "gru",
    1,
    rollout_steps=2048,
    epochs=4,
    minibatch_size=512,
    actor_lr=2.5e-4,
    critic_lr=2.5e-4,
    adam_eps=1e-5,
    clip_value_loss=True,
    vf_coef=0.25,
    ent_coef=0.01,
    max_grad_norm=0.5,
    std_0=1.0,
    hidden_sizes=(64, 64),
    activation="tanh",
    gru_size=64,
    sequence_length=128,
)
