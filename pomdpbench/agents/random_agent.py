"""The ``random`` agent: uniform actions, nothing learned.

It defines the ``random`` reference score of every task and measures the harness's own cost
(benchmarks/harness_overhead.py), so it does as little as possible per step.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition

_NO_METRICS: dict[str, float] = {}


@dataclass(frozen=True)
class RandomConfig:
    """The random agent has no hyperparameters."""


class RandomAgent:
    """Samples every action uniformly from the action space, seeded by the run's seed."""

    wants_privileged = False
    Config = RandomConfig

    def __init__(self, ctx: AgentContext[RandomConfig]) -> None:
        self.action_space = ctx.action_space
        self.action_space.seed(ctx.seed)
        self._sample = self.action_space.sample

    def initial_state(self) -> None:
        """Memoryless: no state."""
        return None

    def act(self, inp: AgentInput, state: None, deterministic: bool) -> tuple[Any, None]:
        """A uniform sample, even when ``deterministic`` (the random policy has no mode)."""
        return self._sample(), None

    def observe(self, transition: Transition) -> None:
        """Nothing to remember."""

    def update(self) -> dict[str, float]:
        """Nothing to learn."""
        return _NO_METRICS

    def save(self, directory: Path) -> None:
        """Save the sampler's generator so a resumed run draws the same actions."""
        directory.mkdir(parents=True, exist_ok=True)
        state = self.action_space.np_random.bit_generator.state
        (directory / "rng.pkl").write_bytes(pickle.dumps(state))

    def load(self, directory: Path) -> None:
        """Restore the sampler's generator."""
        state = pickle.loads((directory / "rng.pkl").read_bytes())
        self.action_space.np_random.bit_generator.state = state
