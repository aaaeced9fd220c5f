"""Small plugin agents for ``pomdpbench check-agent``: one that honours the protocol and one
per broken promise, each failing the check that names it (and perhaps others it entails).

:class:`Tiny` is a linear policy over the observation plus a decaying memory of past
observations (the recurrent state), seeded from ``ctx.seed``, that moves its weights a little
after every ten observed steps; enough to have memory, randomness and learning to get wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition


class Tiny:
    """A protocol-abiding agent (passes every check)."""

    wants_privileged = False
    version = "1"
    description = "linear policy with a decaying observation memory (check-agent tests)"

    def __init__(self, ctx: AgentContext) -> None:
        self.space = ctx.action_space
        self.obs_size = int(np.prod(ctx.observation_space.shape))
        self.rng = self.make_rng(ctx.seed)
        box = isinstance(self.space, gymnasium.spaces.Box)
        outputs = int(np.prod(self.space.shape)) if box else int(self.space.n)  # type: ignore[attr-defined]
        self.weights = self.rng.normal(size=(outputs, 2 * self.obs_size + 1))
        self.rewards: list[float] = []
        self.updates = 0

    def make_rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.obs_size)

    def remember(self, inp: AgentInput, state: np.ndarray) -> np.ndarray:
        return 0.5 * state + np.ravel(inp.obs)

    def act(self, inp: AgentInput, state: np.ndarray, deterministic: bool) -> tuple[Any, Any]:
        memory = self.remember(inp, state)
        scores = self.weights @ np.concatenate([np.ravel(inp.obs), memory, [1.0]])
        if not deterministic:
            scores = scores + self.rng.normal(size=scores.shape)
        if isinstance(self.space, gymnasium.spaces.Box):
            low, high = self.space.low, self.space.high
            action = low + (np.tanh(scores) + 1.0) / 2.0 * (high - low)
            return action.reshape(self.space.shape).astype(self.space.dtype), memory
        return int(np.argmax(scores)), memory

    def observe(self, transition: Transition) -> None:
        self.rewards.append(transition.reward)

    def update(self) -> dict[str, float]:
        if len(self.rewards) < 10:
            return {}
        self.weights += (
            0.01 * float(np.mean(self.rewards)) * self.rng.normal(size=self.weights.shape)
        )
        self.rewards.clear()
        self.updates += 1
        return {"weight_norm": float(np.linalg.norm(self.weights))}

    def save(self, directory: Path) -> None:
        np.save(directory / "weights.npy", self.weights)
        state = {"rng": self.rng.bit_generator.state, "rewards": self.rewards}
        (directory / "state.json").write_text(json.dumps({**state, "updates": self.updates}))

    def load(self, directory: Path) -> None:
        self.weights = np.load(directory / "weights.npy")
        state = json.loads((directory / "state.json").read_text())
        self.rng.bit_generator.state = state["rng"]
        self.rewards, self.updates = list(state["rewards"]), int(state["updates"])


class KeepsMemory(Tiny):
    """Keeps its memory in itself across episodes, ignoring ``episode_start``."""

    def __init__(self, ctx: AgentContext) -> None:
        super().__init__(ctx)
        self.memory = np.zeros(self.obs_size)

    def remember(self, inp: AgentInput, state: np.ndarray) -> np.ndarray:
        self.memory = 0.5 * self.memory + np.ravel(inp.obs)
        return self.memory


class Unseeded(Tiny):
    """Draws its weights and noise from an unseeded generator."""

    def make_rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng()


class ForgetfulLoad(Tiny):
    """Saves, but its ``load`` restores nothing."""

    def load(self, directory: Path) -> None:
        (directory / "weights.npy").read_bytes()


class WrongShape(Tiny):
    """Returns three numbers whatever the action space."""

    def act(self, inp: AgentInput, state: np.ndarray, deterministic: bool) -> tuple[Any, Any]:
        _, memory = super().act(inp, state, deterministic)
        return np.zeros(3, dtype=np.float32), memory


class LearnsFromEvaluation(Tiny):
    """Keeps a running mean of every observation ``act`` sees, evaluation ones included, and
    acts on the observation minus that mean (the classic normalizer bug)."""

    def __init__(self, ctx: AgentContext) -> None:
        super().__init__(ctx)
        self.obs_sum, self.obs_count = np.zeros(self.obs_size), 0

    def act(self, inp: AgentInput, state: np.ndarray, deterministic: bool) -> tuple[Any, Any]:
        self.obs_sum, self.obs_count = self.obs_sum + np.ravel(inp.obs), self.obs_count + 1
        centred = np.ravel(inp.obs) - self.obs_sum / self.obs_count
        return super().act(inp._replace(obs=centred), state, deterministic)
