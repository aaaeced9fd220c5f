"""What the agent checks record, compare and say: the pieces under :mod:`agent_checks`.

:mod:`pomdpbench.harness.agent_checks` decides which agents to build and drive and what each
check concludes; this module holds what those checks are made of, none of it specific to one
check: a check's outcome and the exception that fails it, the trace of one stretch of training
steps and where two traces part, the recorder of an agent's raw ``act`` outputs, and the test
of one action against the action space (with the words of the protocol's requirements).
Kept apart so that the checks module reads as the checks themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.agents.protocol import Agent


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``status`` is ``pass``, ``fail`` or ``skip`` (not run)."""

    name: str
    status: str
    reason: str

    def line(self) -> str:
        """``PASS  determinism           <reason>``, as the command prints it."""
        return f"{self.status.upper():<5} {self.name:<21} {self.reason}"


class CheckFailed(Exception):
    """A check failed: carries its name and reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name, self.reason = name, reason


@dataclass
class Trace:
    """What one stretch of steps showed: the actions and each step's update metrics."""

    actions: list[Any]
    metrics: list[dict[str, float]]

    def first_difference(self, other: Trace) -> str | None:
        """Where two traces part, in words, or None when they are equal."""
        for k, (a, b) in enumerate(zip(self.actions, other.actions, strict=False)):
            if not np.array_equal(np.asarray(a), np.asarray(b)):
                return f"step {k + 1}: action {short(a)} vs {short(b)}"
        for k, (a, b) in enumerate(zip(self.metrics, other.metrics, strict=False)):
            if a != b:
                return f"step {k + 1}: update metrics {short(a)} vs {short(b)}"
        if len(self.actions) != len(other.actions):
            return f"{len(self.actions)} vs {len(other.actions)} steps"
        return None


class RawActions:
    """Wraps an agent's ``act`` to keep what it returned before the harness's conversion."""

    def __init__(self, agent: Agent) -> None:
        self.act, self.seen = agent.act, []  # type: ignore[var-annotated]

    def __call__(self, inp: Any, state: Any, deterministic: bool) -> Any:
        """The agent's own ``act``, its action kept (the first 10,000) for the spaces check."""
        out = self.act(inp, state, deterministic)
        if len(self.seen) < 10_000:
            self.seen.append(out[0] if isinstance(out, tuple) and len(out) == 2 else out)
        return out


def action_problem(space: gymnasium.spaces.Space[Any], action: Any) -> str | None:
    """Why ``action`` is not one of ``space`` as the protocol wants it, or None."""
    if isinstance(space, gymnasium.spaces.Box):
        if not isinstance(action, np.ndarray):
            return (
                f"act returned a {type(action).__name__} ({short(action)}); return a numpy "
                f"array of shape {space.shape} and a float dtype"
            )
        if action.shape != space.shape or action.dtype.kind != "f":
            return (
                f"act returned an array of shape {action.shape} and dtype {action.dtype}; "
                f"{space} needs shape {space.shape} and a float dtype"
            )
        inside = np.all(action >= space.low) and np.all(action <= space.high)
        if not (np.isfinite(action).all() and inside):
            return f"act returned {short(action)}, not finite or outside the bounds of {space}"
        return None
    if isinstance(space, gymnasium.spaces.Discrete):
        integer = isinstance(action, (int, np.integer)) and not isinstance(action, bool)
        scalar = isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"
        if not (integer or scalar) or not space.start <= int(action) < space.start + space.n:
            return f"act returned {short(action)} ({type(action).__name__}); {space} needs an int"
        return None
    return None if space.contains(action) else f"act returned {short(action)}, not in {space}"


def describe(exc: BaseException) -> str:
    """An exception as one line of a check's reason: its type and the start of its message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def short(value: Any, limit: int = 50) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
