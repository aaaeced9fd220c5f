"""Evaluate an agent on its own environment, apart from training.

Each episode starts from the agent's initial recurrent state and a reset seeded by
:func:`pomdpbench.harness.seeding.eval_episode_seed`; actions are deterministic unless the task
says otherwise; nothing is passed to ``observe``, so evaluation never trains the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.agents.protocol import Agent
from pomdpbench.harness.actions import ActionEncoder
from pomdpbench.harness.seeding import eval_episode_seed
from pomdpbench.harness.stepper import Stepper
from pomdpbench.harness.validation import action_guard


@dataclass(frozen=True)
class EvalResult:
    """The outcome of one evaluation round."""

    env_step: int
    """Training steps done when the evaluation ran."""
    returns: tuple[float, ...]
    lengths: tuple[int, ...]
    successes: tuple[bool, ...] | None
    """Per episode, when the task reports ``info["success"]``."""

    @property
    def mean_return(self) -> float:
        """Mean undiscounted return over the episodes."""
        return float(np.mean(self.returns))

    @property
    def std_return(self) -> float:
        """Standard deviation of the returns (population)."""
        return float(np.std(self.returns))

    @property
    def success_rate(self) -> float | None:
        """Fraction of successful episodes, or None when the task has no success signal."""
        return None if self.successes is None else float(np.mean(self.successes))

    @property
    def mean_length(self) -> float:
        """Mean episode length."""
        return float(np.mean(self.lengths))

    def metric(self, name: str) -> float:
        """The value of ``name`` ("return" or "success") for this round."""
        if name == "success":
            return float("nan") if self.success_rate is None else self.success_rate
        return self.mean_return


def evaluate(
    agent: Agent,
    env: gymnasium.Env[Any, Any],
    *,
    env_step: int,
    episodes: int,
    seed: int,
    eval_index: int,
    deterministic: bool,
    encoder: ActionEncoder,
    privileged: bool,
) -> EvalResult:
    """Run ``episodes`` evaluation episodes and collect returns, lengths and successes."""
    returns: list[float] = []
    lengths: list[int] = []
    successes: list[bool] = []
    has_success = True
    guard = action_guard(env.action_space, where=f" of the evaluation after {env_step} steps")
    stepper = Stepper(
        agent,
        env,
        training=False,
        deterministic=deterministic,
        encoder=encoder,
        privileged=privileged,
        guard=guard,
    )
    for episode in range(episodes):
        total, length, info = stepper.run_episode(eval_episode_seed(seed, eval_index, episode))
        returns.append(total)
        lengths.append(length)
        if "success" in info:
            successes.append(bool(info["success"]))
        else:
            has_success = False
    return EvalResult(
        env_step=env_step,
        returns=tuple(returns),
        lengths=tuple(lengths),
        successes=tuple(successes) if has_success else None,
    )
