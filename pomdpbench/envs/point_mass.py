"""S2PG's point-mass memory tasks: remember a goal, or remember two doors of a maze.

Source: robfiras/s2pg ``s2pg/environments/point_mass/point_mass_v3.py`` (the goal task, the
variant ``s2pg/environments/__init__.py`` exports) and ``point_mass_door.py``; S2PG App. E.1.

Shared dynamics (both files, ``__init__`` and ``step``): a 150 x 150 field; the action, one
number in [-1, 1], is a heading ``phi = (a + 1) pi``; one step is 3 Euler sub-steps of
``pos += 3 * 0.2 * (cos phi, sin phi)``, i.e. 1.8 units. The reward is computed at each sub-step
and the last one counts. An episode lasts at most 1000 steps (the original's ``horizon``).

**Goal memory** (``PointMassPOMDP_v3``): the goal is one of (25|57|88|120, 130), the start one
of (25|57|88|120, 15), both uniform. The policy sees the goal only while the point is within
``observable_radius = 30`` of its start; elsewhere the goal slots are zero. Reward
``exp(-0.1 |goal - pos|)``. Leaving the field clips the position, gives -2 and is absorbing.

**Door maze** (``PointMassDoor``): start (75, 10), goal (75, 140); walls at y = 60 and y = 90,
each with a 40-wide door whose left edge is drawn from U(10, 100) per episode. A sub-step starting
within 2.5 of a wall's height and not strictly inside ``(door + 2, door + 38)`` (point radius 2)
hits the wall: -2, absorbing. As in the original, the test uses the position *before* the
sub-step. The field border only clips. Reward ``10 exp(-0.03 |goal - pos|)``. Within
``observable_radius = 20`` of the start the policy sees both door positions, elsewhere -1.

"Absorbing" ends the episode (MushroomRL resets on absorbing states; S2PG App. E.1: "an
absorbing state is reached, and the environment is reset"): ``terminated=True``.

Privileged state ``info["state"]`` is the critic's view of the original
(``critic_state_mask``): position and the true goal or door positions. ``info["success"]`` is
true once the point has been within 5 of the goal (``calculate_success_rate``).
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

FIELD = 150.0
SPEED, DT, SUB_STEPS = 3.0, 0.2, 3
GOAL_RADIUS = 5.0
ABSORBING_REWARD = -2.0
GOALS = np.array([[25.0, 130.0], [57.0, 130.0], [88.0, 130.0], [120.0, 130.0]])
STARTS = np.array([[25.0, 15.0], [57.0, 15.0], [88.0, 15.0], [120.0, 15.0]])
DOOR_START, DOOR_GOAL = np.array([75.0, 10.0]), np.array([75.0, 140.0])
WALL_HEIGHTS = (60.0, 90.0)
WALL_HALF_THICKNESS, POINT_RADIUS, DOOR_WIDTH = 2.5, 2.0, 40.0
DOOR_RANGE = (10.0, 100.0)


def heading_delta(action: Any) -> tuple[float, float]:
    """Displacement of one sub-step for an action in [-1, 1] (clipped)."""
    a = min(max(float(np.asarray(action, dtype=np.float64).reshape(-1)[0]), -1.0), 1.0)
    phi = (a + 1.0) * math.pi
    return math.cos(phi) * SPEED * DT, math.sin(phi) * SPEED * DT


class _PointMass(gymnasium.Env[np.ndarray, np.ndarray]):
    """What both tasks share: the action, the success flag and the Gymnasium plumbing."""

    metadata = {"render_modes": []}
    goal = DOOR_GOAL

    def __init__(self, observable_radius: float) -> None:
        self.observable_radius = observable_radius
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.position = np.zeros(2)
        self.start = np.zeros(2)
        self.reached = False

    def in_observable_area(self) -> bool:
        """Whether the point is close enough to its start for the policy to see the hints."""
        (x, y), (sx, sy) = self.position, self.start
        return math.hypot(x - sx, y - sy) <= self.observable_radius

    def _outcome(
        self, reward: float, absorbing: bool
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        (x, y), (gx, gy) = self.position, self.goal
        self.reached = self.reached or math.hypot(gx - x, gy - y) <= GOAL_RADIUS
        info = {"state": self._state(), "success": self.reached}
        return self._observe(), reward, absorbing, False, info

    def _begin(self) -> tuple[np.ndarray, dict[str, Any]]:
        self.reached = False
        return self._observe(), {"state": self._state(), "success": False}

    def _observe(self) -> np.ndarray:
        raise NotImplementedError

    def _state(self) -> np.ndarray:
        raise NotImplementedError


class PointMassGoal(_PointMass):
    """Reach a goal that is visible only near the start (S2PG ``PointMassPOMDP_v3``)."""

    def __init__(self, observable_radius: float = 30.0) -> None:
        super().__init__(observable_radius)
        self.observation_space = spaces.Box(0.0, FIELD, shape=(4,), dtype=np.float32)
        self.goal = GOALS[0]

    def _observe(self) -> np.ndarray:
        shown = self.goal if self.in_observable_area() else np.zeros(2)
        return np.concatenate([self.position, shown]).astype(np.float32)

    def _state(self) -> np.ndarray:
        return np.concatenate([self.position, self.goal]).astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw a goal and a start among the four of each."""
        super().reset(seed=seed)
        self.goal = GOALS[int(self.np_random.integers(len(GOALS)))]
        self.start = STARTS[int(self.np_random.integers(len(STARTS)))].copy()
        self.position = self.start.copy()
        return self._begin()

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Three sub-steps; leaving the field is absorbing with reward -2."""
        dx, dy = heading_delta(action)
        x, y = float(self.position[0]), float(self.position[1])
        gx, gy = float(self.goal[0]), float(self.goal[1])
        reward, absorbing = 0.0, False
        for _ in range(SUB_STEPS):
            x, y = x + dx, y + dy
            if not (0.0 <= x <= FIELD and 0.0 <= y <= FIELD):
                x, y = min(max(x, 0.0), FIELD), min(max(y, 0.0), FIELD)
                reward, absorbing = ABSORBING_REWARD, True
                break
            reward = math.exp(-0.1 * math.hypot(gx - x, gy - y))
        self.position = np.array([x, y])
        return self._outcome(reward, absorbing)


class PointMassDoors(_PointMass):
    """Cross two walls through doors that are visible only near the start (``PointMassDoor``)."""

    def __init__(self, observable_radius: float = 20.0) -> None:
        super().__init__(observable_radius)
        low = np.array([0.0, 0.0, -1.0, -1.0], dtype=np.float32)
        high = np.array([FIELD, FIELD, DOOR_RANGE[1], DOOR_RANGE[1]], dtype=np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.doors = np.array(DOOR_RANGE, dtype=np.float64)

    def _observe(self) -> np.ndarray:
        shown = self.doors if self.in_observable_area() else np.full(2, -1.0)
        return np.concatenate([self.position, shown]).astype(np.float32)

    def _state(self) -> np.ndarray:
        return np.concatenate([self.position, self.doors]).astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw the left edges of both doors from U(10, 100); start at (75, 10)."""
        super().reset(seed=seed)
        self.doors = self.np_random.uniform(*DOOR_RANGE, size=2)
        self.start = DOOR_START.copy()
        self.position = DOOR_START.copy()
        return self._begin()

    def hits_wall(self, x: float, y: float) -> bool:
        """Whether a sub-step starting at ``(x, y)`` touches a wall outside its door."""
        for height, door in zip(WALL_HEIGHTS, self.doors, strict=True):
            near = height - WALL_HALF_THICKNESS < y < height + WALL_HALF_THICKNESS
            through = door + POINT_RADIUS < x < door + DOOR_WIDTH - POINT_RADIUS
            if near and not through:
                return True
        return False

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Three sub-steps; touching a wall is absorbing with reward -2."""
        dx, dy = heading_delta(action)
        x, y = float(self.position[0]), float(self.position[1])
        gx, gy = float(self.goal[0]), float(self.goal[1])
        reward, absorbing = 0.0, False
        for _ in range(SUB_STEPS):
            before_x, before_y = x, y
            x, y = min(max(x + dx, 0.0), FIELD), min(max(y + dy, 0.0), FIELD)
            if self.hits_wall(before_x, before_y):
                reward, absorbing = ABSORBING_REWARD, True
                break
            reward = 10.0 * math.exp(-0.03 * math.hypot(gx - x, gy - y))
        self.position = np.array([x, y])
        return self._outcome(reward, absorbing)
