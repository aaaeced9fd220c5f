"""Agents used by the tests: they record what the harness gives them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition


class Recorder:
    """Plays uniform actions (seeded) and records every call of the protocol."""

    wants_privileged = False
    instances: ClassVar[list[Recorder]] = []

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx
        self.space = ctx.action_space
        self.space.seed(ctx.seed)
        self.inputs: list[tuple[AgentInput, bool]] = []
        self.transitions: list[Transition] = []
        self.initial_states = 0
        self.updates = 0
        self.fail_at: int | None = ctx.config.get("fail_at")
        self.interrupt_at: int | None = ctx.config.get("interrupt_at")
        Recorder.instances.append(self)

    def initial_state(self) -> int:
        self.initial_states += 1
        return 0

    def act(self, inp: AgentInput, state: int, deterministic: bool) -> tuple[Any, int]:
        self.inputs.append((inp, deterministic))
        return self.space.sample(), state + 1

    def observe(self, transition: Transition) -> None:
        self.transitions.append(transition)

    def update(self) -> dict[str, float]:
        self.updates += 1
        if self.fail_at is not None and self.updates == self.fail_at:
            raise ValueError("planted failure")
        if self.interrupt_at is not None and self.updates == self.interrupt_at:
            raise KeyboardInterrupt
        return {"updates": float(self.updates)}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        state = {"updates": self.updates, "rng": self.space.np_random.bit_generator.state}
        (directory / "recorder.json").write_text(json.dumps(state))

    def load(self, directory: Path) -> None:
        state = json.loads((directory / "recorder.json").read_text())
        self.updates = state["updates"]
        self.space.np_random.bit_generator.state = state["rng"]


class PrivilegedRecorder(Recorder):
    """The same, asking for the privileged state."""

    wants_privileged = True


class NotAnAgent:
    """Lacks the protocol's methods."""

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx


def one_hot(index: int, size: int) -> np.ndarray:
    vector = np.zeros(size, dtype=np.float32)
    vector[index] = 1.0
    return vector


class Misbehaving(Recorder):
    """Returns the wrong thing on purpose: ``bad`` names what, ``bad_seed`` limits it to a seed.

    bad: "shape" (a (3,) array), "huge" (1e6), "nan", "eval_nan" (NaN only when evaluating),
    "list" (a Python list of the right length: accepted), "index" (Discrete n),
    "negative" (Discrete -1), "float" (Discrete 1.5).
    """

    def __init__(self, ctx: AgentContext) -> None:
        super().__init__(ctx)
        self.bad = (
            ctx.config.get("bad") if ctx.config.get("bad_seed", ctx.seed) == ctx.seed else None
        )

    def act(self, inp: AgentInput, state: int, deterministic: bool) -> tuple[Any, int]:
        action, state = super().act(inp, state, deterministic)
        shape = getattr(self.space, "shape", ())
        if self.bad == "shape":
            return np.zeros(3, dtype=np.float32), state
        if self.bad == "huge":
            return np.full(shape, 1e6, dtype=np.float32), state
        if self.bad == "nan" or (self.bad == "eval_nan" and deterministic):
            return np.full(shape, np.nan, dtype=np.float32), state
        if self.bad == "list":
            return [float(v) for v in action], state
        if self.bad == "index":
            return int(self.space.n), state  # type: ignore[attr-defined]
        if self.bad == "negative":
            return -1, state
        if self.bad == "float":
            return 1.5, state
        return action, state
