"""Passive T-maze: the smallest task that needs memory (Memory-RL's ``TMazeClassicPassive``).

Source: twni2016/Memory-RL ``envs/tmaze.py`` and ``configs/envs/tmaze_passive.py``, with the
ambiguous-position observation the Memory-RL paper used (its issue #2). The layout::

            g(+1)
    s---------j        s: start, x = 0; j: junction, x = L
            g(-1)

* The goal side ``goal_y`` in {-1, +1} is drawn at reset and shown only in the first
  observation ``[0, goal_y]``. Along the corridor the observation is ``[0, 0]``; at the junction
  and the goal cells it is ``[1, y]``.
* Actions (Discrete(4)): right, up, left, down. Moves into walls leave the agent in place.
* The episode lasts ``L + 1`` steps: L to walk the corridor, one to turn. At the last step the
  reward is 1 if ``y == goal_y`` (and ``info["success"]`` is true), else 0. Before that, every
  step on which the agent lags behind (``x < t``) costs ``-1/L`` (Memory-RL's setting, so a
  dawdling episode sums to -1).

A memoryless policy can at best pick one side at the junction: success 0.5. The end of the
episode is a termination (the task is over), not a time-limit truncation.

``info["state"]`` (privileged state) is ``[x / L, y, goal_y, t / (L + 1)]``.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

_MOVES = ((1, 0), (0, 1), (-1, 0), (0, -1))  # right, up, left, down


class PassiveTMaze(gymnasium.Env[np.ndarray, np.int64]):
    """The passive T-maze with a corridor of ``corridor_length`` cells."""

    metadata = {"render_modes": []}

    def __init__(self, corridor_length: int = 10, penalty: float | None = None) -> None:
        if corridor_length < 1:
            raise ValueError("corridor_length must be at least 1")
        self.length = corridor_length
        self.penalty = -1.0 / corridor_length if penalty is None else penalty
        self.horizon = corridor_length + 1
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self.x = 0
        self.y = 0
        self.t = 0
        self.goal_y = 1

    def _observe(self) -> np.ndarray:
        if self.x == 0 and self.t == 0:
            return np.array([0.0, self.goal_y], dtype=np.float32)
        if self.x < self.length:
            return np.zeros(2, dtype=np.float32)
        return np.array([1.0, self.y], dtype=np.float32)

    def _state(self) -> np.ndarray:
        return np.array(
            [self.x / self.length, self.y, self.goal_y, self.t / self.horizon], dtype=np.float32
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start at the left end of the corridor with a fresh goal side."""
        super().reset(seed=seed)
        self.x, self.y, self.t = 0, 0, 0
        self.goal_y = int(self.np_random.choice((-1, 1)))
        return self._observe(), {"state": self._state()}

    def _free(self, x: int, y: int) -> bool:
        if y == 0:
            return 0 <= x <= self.length
        return x == self.length and y in (-1, 1)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Move one cell if the target cell is free; reward only at the final step."""
        dx, dy = _MOVES[int(action)]
        if self._free(self.x + dx, self.y + dy):
            self.x, self.y = self.x + dx, self.y + dy
        self.t += 1
        info: dict[str, Any] = {}
        if self.t >= self.horizon:
            success = self.y == self.goal_y
            info["success"] = success
            reward = float(success)
            terminated = True
        else:
            reward = self.penalty if self.x < self.t else 0.0
            terminated = False
        info["state"] = self._state()
        return self._observe(), reward, terminated, False, info
