"""Check what an agent returns before a run that used it can be stored as ``finished``.

An action of the wrong shape, NaN, or outside the action space would otherwise be broadcast,
clipped or stepped by the environment without a word (Pendulum takes the first element of a
(3,) action and clips 1e6 to 2), and the run would be scored as if the agent had been right.

The check runs on every step of every run, so it is split in two:

* per action, what costs next to nothing: the type and shape of a Box action (a numpy array of
  exactly the space's shape; anything else goes through a careful conversion), or an integer in
  range for a Discrete one; the Box action is copied into a preallocated block;
* per block of :data:`BLOCK` actions (and before every evaluation is reported, and when the run
  ends or fails), one vectorised test that the block is finite and inside the bounds.

So no evaluation is ever reported after an invalid action. A failure raises
:class:`InvalidAgentOutput` with one line naming the step, the value and the space.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.errors import PomdpbenchError

BLOCK = 256
"""Box actions checked together (a multiple of the loop's 256-step heartbeat)."""


class InvalidAgentOutput(PomdpbenchError):
    """The agent returned an action (or the run produced a result) the protocol rejects."""


class BoxGuard:
    """Checks the actions of one Box space."""

    def __init__(self, space: gymnasium.spaces.Box, first_step: int = 0, where: str = "") -> None:
        self.space = space
        self.shape = tuple(space.shape)
        self.dtype = space.dtype
        self.low = np.asarray(space.low, dtype=np.float64)
        self.high = np.asarray(space.high, dtype=np.float64)
        self.block = np.zeros((BLOCK, *self.shape), dtype=np.float64)
        self.filled = 0
        self.base = first_step
        """Step of the block's first row."""
        self.where = where

    def accept(self, action: Any) -> Any:
        """The action to step with (converted if it was a list or scalar of the right shape).

        The training loop inlines these lines (its hottest path) with its own row counter.
        """
        if type(action) is not np.ndarray or action.shape != self.shape:
            action = self.convert(action, self.filled)
        i = self.filled
        self.block[i] = action
        self.filled = i + 1
        if i + 1 == BLOCK:
            self.check()
        return action

    def check(self, filled: int | None = None) -> None:
        """Test the pending rows; raise :class:`InvalidAgentOutput` on the first bad one.

        ``filled`` is the number of pending rows when the caller counts them (the loop does).
        """
        n = self.filled if filled is None else filled
        rows = self.block[:n]
        if n and not self._rows_ok(rows):
            bad = next(i for i, row in enumerate(rows) if not self._rows_ok(row))
            value = rows[bad]
            if not np.isfinite(value).all():
                problem = "is not finite"
            else:
                problem = f"is outside low={_short(self.low)}, high={_short(self.high)}"
            raise InvalidAgentOutput(
                f"the agent's action {_short(value)} (step {self.base + bad}{self.where}) "
                f"{problem} of {self.space}"
            )
        self.base += n
        self.filled = 0

    def _rows_ok(self, rows: np.ndarray) -> bool:
        # NaN fails both comparisons; the isfinite test catches infinities inside infinite bounds
        inside = bool((rows >= self.low).all() and (rows <= self.high).all())
        return inside and bool(np.isfinite(rows).all())

    def convert(self, action: Any, row: int) -> np.ndarray:
        """A non-array (or odd-shaped) action as an array of the space, or a one-line error."""
        step = self.base + row
        try:
            array = np.asarray(action)
        except (ValueError, TypeError):
            array = np.asarray(None)
        if array.shape != self.shape or array.dtype.kind not in "fiu":
            described = f"shape {array.shape}" if array.dtype.kind in "fiub" else "a value"
            raise InvalidAgentOutput(
                f"the agent returned {described} ({_short(action)}, {type(action).__name__}) "
                f"at step {step}{self.where}; {self.space} needs a float array of shape "
                f"{self.shape}"
            )
        return array.astype(self.dtype)


class DiscreteGuard:
    """Checks the actions of one Discrete space: an integer in range, nothing else."""

    def __init__(
        self, space: gymnasium.spaces.Discrete, first_step: int = 0, where: str = ""
    ) -> None:
        self.space = space
        self.low = int(space.start)
        self.high = int(space.start + space.n)
        self.int_types = (int, np.int64, np.int32, np.int16, np.int8, np.uint8, np.intp)
        self.step = first_step
        self.where = where

    def accept(self, action: Any) -> Any:
        """The action, if it is an integer inside the space."""
        self.step += 1
        if type(action) in self.int_types and self.low <= action < self.high:
            return action
        scalar = isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"
        if scalar and self.low <= int(action) < self.high:
            return int(action)
        raise InvalidAgentOutput(
            f"the agent returned {_short(action)} ({type(action).__name__}) at step "
            f"{self.step - 1}{self.where}; {self.space} needs an integer from {self.low} to "
            f"{self.high - 1}"
        )

    def check(self, filled: int | None = None) -> None:
        """Every Discrete action is checked when it is accepted."""


class SpaceGuard:
    """Any other space: ``space.contains`` on every action (no task uses one today)."""

    def __init__(self, space: gymnasium.spaces.Space[Any], first_step: int = 0, where: str = ""):
        self.space = space
        self.step = first_step
        self.where = where

    def accept(self, action: Any) -> Any:
        """The action, if the space contains it."""
        self.step += 1
        if not self.space.contains(action):
            raise InvalidAgentOutput(
                f"the agent returned {_short(action)} at step {self.step - 1}{self.where}, "
                f"which is not in {self.space}"
            )
        return action

    def check(self, filled: int | None = None) -> None:
        """Checked when accepted."""


Guard = BoxGuard | DiscreteGuard | SpaceGuard


def action_guard(space: gymnasium.spaces.Space[Any], first_step: int = 0, where: str = "") -> Guard:
    """The guard for ``space``; ``where`` follows the step number in messages.

    ``where`` is empty for training and e.g. " of the evaluation after 1000 training steps"
    for an evaluation.
    """
    if isinstance(space, gymnasium.spaces.Box):
        return BoxGuard(space, first_step, where)
    if isinstance(space, gymnasium.spaces.Discrete):
        return DiscreteGuard(space, first_step, where)
    return SpaceGuard(space, first_step, where)


def check_finite_returns(returns: Iterable[float], env_step: int) -> None:
    """Raise if an evaluation produced a NaN or infinite return."""
    values = list(returns)
    if not all(math.isfinite(v) for v in values):
        raise InvalidAgentOutput(
            f"the evaluation at step {env_step} produced non-finite returns "
            f"({_short(values)}): the run cannot be scored"
        )


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=6)
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
