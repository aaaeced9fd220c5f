"""Wind: a point robot pushed by a hidden constant wind must reach and hold a fixed goal.

Source: FanmingL/Recurrent-Offpolicy-RL ``envs/meta/toy_navigation/wind.py`` (the same file as
pomdp-baselines'). The robot starts at (0, 0) (line 63); each step ``s <- s + a + wind`` with
``a`` in [-0.1, 0.1]^2 (lines 39, 74); the reward is 1 while ``|s - (0, 1)| <= 0.03``, else 0
(lines 32-33, 77-80, 99-103); 75 steps (line 15). The position is observed, the wind is not.
The winds are drawn once with ``RandomState(1337)``, x then y per task (lines 25-29), so every
run and every paper faces the same 60 winds; ``wind_tasks`` reproduces those draws.

``info["success"]`` says whether the robot has been inside the goal radius at some step of the
episode, pomdp-baselines' success rate for this task (``policies/learner.py`` ``evaluate``,
"ever once reach").
"""

from __future__ import annotations

from typing import Any

import numpy as np

GOAL = np.array([0.0, 1.0])
GOAL_RADIUS = 0.03
MAX_SPEED = 0.1
WIND_LIMIT = 0.08
WIND_SEED = 1337


def wind_tasks(count: int = 60) -> np.ndarray:
    """The original's winds: ``count`` rows of (x, y) drawn from U[-0.08, 0.08] with seed 1337."""
    rng = np.random.RandomState(WIND_SEED)
    return np.array(
        [
            [rng.uniform(-WIND_LIMIT, WIND_LIMIT), rng.uniform(-WIND_LIMIT, WIND_LIMIT)]
            for _ in range(count)
        ]
    )


class WindMDP:
    """Position control on the plane with an additive wind ``task`` (2-d)."""

    observation_size = 2
    action_low = np.full(2, -MAX_SPEED)
    action_high = np.full(2, MAX_SPEED)
    can_render = False

    def __init__(self) -> None:
        self.position = np.zeros(2)
        self.reached = False

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Back to the origin (the start is fixed)."""
        self.position = np.zeros(2)
        self.reached = False
        return self.position.copy()

    def step(
        self, action: np.ndarray, task: np.ndarray
    ) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """Move by action plus wind; reward 1 inside the goal radius."""
        self.position = self.position + action + task
        in_goal = bool(np.linalg.norm(self.position - GOAL) <= GOAL_RADIUS)
        self.reached = self.reached or in_goal
        return self.position.copy(), float(in_goal), False, {"success": self.reached}

    def render(self) -> np.ndarray | None:
        """No picture of the plane (the original has none either)."""
        return None

    def close(self) -> None:
        """Nothing to release."""
