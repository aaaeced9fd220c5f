"""The off-policy agents of the zoo: a learner (SAC, TD3) with a memory part and its sizes.

Each class is one registered id (see :mod:`pomdpbench.agents.zoo`); its ``defaults`` name the
memory part and lie under the suite file's values, so a ``--set memory_length=8`` still works.
"""

from __future__ import annotations

import re

from pomdpbench.agents.sac import SAC
from pomdpbench.agents.td3 import TD3
from pomdpbench.registry.specs import TaskSpec


class SACMLP(SAC):
    """``sac-mlp``: memoryless SAC (SAC-Discrete for discrete actions)."""

    agent_id = "sac-mlp"


class Oracle(SAC):
    """``oracle``: SAC whose actor and critic read the full state (see docs/agents.md).

    On a task with a privileged state both read ``info["state"]``; on a task without one the
    observation must already be the full state, so the -P and -V tasks of the sanity and
    classic suites are refused with their -F twin named.
    """

    agent_id = "oracle"
    defaults = {"memory": "oracle"}

    @classmethod
    def check_task(cls, task: TaskSpec) -> str | None:
        """Refuse a partially observed task that has no privileged state."""
        if task.privileged is not None:
            return None
        twin = re.sub(r"-[PV]-", "-F-", task.id)
        if twin == task.id:
            return None
        return (
            f"oracle needs the full state and {task.id} exposes none: run it on the "
            f"full-observation twin {twin} (--task {twin}), whose score is this task's oracle"
        )


class SACRS(SAC):
    """``sac-rs``: S2PG's SAC-RS, a stochastic internal state z of 32 drawn with the action."""

    agent_id = "sac-rs"
    defaults = {"memory": "rs", "privileged_critic": True}


class SACBPTT5(SAC):
    """``sac-bptt-5``: SAC with the ``bptt-5`` memory (S2PG baseline)."""

    agent_id = "sac-bptt-5"
    defaults = {"memory": "bptt", "memory_length": 5, "privileged_critic": True}


class SACBPTT32(SAC):
    """``sac-bptt-32``: SAC with the ``bptt-32`` memory (S2PG baseline)."""

    agent_id = "sac-bptt-32"
    defaults = {"memory": "bptt", "memory_length": 32, "privileged_critic": True}


class SACWindow5(SAC):
    """``sac-window-5``: SAC with the ``window-5`` memory (S2PG baseline)."""

    agent_id = "sac-window-5"
    defaults = {"memory": "window", "memory_length": 5, "privileged_critic": True}


class SACWindow32(SAC):
    """``sac-window-32``: SAC with the ``window-32`` memory (S2PG baseline)."""

    agent_id = "sac-window-32"
    defaults = {"memory": "window", "memory_length": 32, "privileged_critic": True}


class TD3BPTT5(TD3):
    """``td3-bptt-5``: TD3 with the ``bptt-5`` memory (S2PG baseline)."""

    agent_id = "td3-bptt-5"
    defaults = {"memory": "bptt", "memory_length": 5, "privileged_critic": True}


class TD3BPTT32(TD3):
    """``td3-bptt-32``: TD3 with the ``bptt-32`` memory (S2PG baseline)."""

    agent_id = "td3-bptt-32"
    defaults = {"memory": "bptt", "memory_length": 32, "privileged_critic": True}


class TD3Window5(TD3):
    """``td3-window-5``: TD3 with the ``window-5`` memory (S2PG baseline)."""

    agent_id = "td3-window-5"
    defaults = {"memory": "window", "memory_length": 5, "privileged_critic": True}


class TD3Window32(TD3):
    """``td3-window-32``: TD3 with the ``window-32`` memory (S2PG baseline)."""

    agent_id = "td3-window-32"
    defaults = {"memory": "window", "memory_length": 32, "privileged_critic": True}


class TD3MLP(TD3):
    """``td3-mlp``: memoryless TD3."""

    agent_id = "td3-mlp"


class TD3RS(TD3):
    """``td3-rs``: S2PG's TD3-RS, deterministic z' = GRU output explored with noise."""

    agent_id = "td3-rs"
    defaults = {"memory": "rs", "privileged_critic": True}


_MF_RNN = {"memory": "gru-seq", "memory_length": 64, "gru_hidden": 128, "embedding": 32}


class MFRNN(SAC):
    """``mf-rnn``: pomdp-baselines' recurrent model-free SAC, separate GRU actor and critic."""

    agent_id = "mf-rnn"
    defaults = _MF_RNN


class MFRNNTD3(TD3):
    """``mf-rnn-td3``: the TD3 variant (pomdp-baselines' best on PyBullet)."""

    agent_id = "mf-rnn-td3"
    defaults = _MF_RNN
