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
    """What both tasks share: the heading action, the sub-steps, the hidden hint, success.

    A task defines the hint (goal or doors) and the value shown in its place far from the
    start, how an episode is drawn, and one Euler sub-step (its reward and absorbing test).
    """

    metadata = {"render_modes": []}
    hidden_value = 0.0
    goal = DOOR_GOAL

    def __init__(self, observable_radius: float) -> None:
        self.observable_radius = observable_radius
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.position = np.zeros(2)
        self.start = np.zeros(2)
        self.reached = False

    def in_observable_area(self) -> bool:
        """Whether the point is close enough to its start for the policy to see the hint."""
        (x, y), (sx, sy) = self.position, self.start
        return math.hypot(x - sx, y - sy) <= self.observable_radius

    def _hint(self) -> np.ndarray:
        raise NotImplementedError

    def _draw_episode(self) -> None:
        raise NotImplementedError

    def _sub_step(
        self, x: float, y: float, dx: float, dy: float
    ) -> tuple[float, float, float, bool]:
        raise NotImplementedError

    def _observe(self) -> np.ndarray:
        shown = self._hint() if self.in_observable_area() else np.full(2, self.hidden_value)
        return np.concatenate([self.position, shown]).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        state = np.concatenate([self.position, self._hint()]).astype(np.float32)
        return {"state": state, "success": self.reached}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw the episode's hint and start; the point starts at its start."""
        super().reset(seed=seed)
        self._draw_episode()
        self.position = self.start.copy()
        self.reached = False
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Three sub-steps along the heading; the last sub-step's reward counts."""
        dx, dy = heading_delta(action)
        x, y = float(self.position[0]), float(self.position[1])
        reward, absorbing = 0.0, False
        for _ in range(SUB_STEPS):
            x, y, reward, absorbing = self._sub_step(x, y, dx, dy)
            if absorbing:
                break
        self.position = np.array([x, y])
        gx, gy = float(self.goal[0]), float(self.goal[1])
        self.reached = self.reached or math.hypot(gx - x, gy - y) <= GOAL_RADIUS
        return self._observe(), reward, absorbing, False, self._info()


class PointMassGoal(_PointMass):
    """Reach a goal that is visible only near the start (S2PG ``PointMassPOMDP_v3``)."""

    def __init__(self, observable_radius: float = 30.0) -> None:
        super().__init__(observable_radius)
        self.observation_space = spaces.Box(0.0, FIELD, shape=(4,), dtype=np.float32)
        self.goal = GOALS[0]

    def _hint(self) -> np.ndarray:
        return self.goal

    def _draw_episode(self) -> None:
        """A goal and a start among the four of each, uniformly."""
        self.goal = GOALS[int(self.np_random.integers(len(GOALS)))]
        self.start = STARTS[int(self.np_random.integers(len(STARTS)))].copy()

    def _sub_step(
        self, x: float, y: float, dx: float, dy: float
    ) -> tuple[float, float, float, bool]:
        """Leaving the field clips the position and is absorbing with reward -2."""
        x, y = x + dx, y + dy
        if not (0.0 <= x <= FIELD and 0.0 <= y <= FIELD):
            return min(max(x, 0.0), FIELD), min(max(y, 0.0), FIELD), ABSORBING_REWARD, True
        gx, gy = float(self.goal[0]), float(self.goal[1])
        return x, y, math.exp(-0.1 * math.hypot(gx - x, gy - y)), False


class PointMassDoors(_PointMass):
    """Cross two walls through doors that are visible only near the start (``PointMassDoor``)."""

    hidden_value = -1.0

    def __init__(self, observable_radius: float = 20.0) -> None:
        super().__init__(observable_radius)
        low = np.array([0.0, 0.0, -1.0, -1.0], dtype=np.float32)
        high = np.array([FIELD, FIELD, DOOR_RANGE[1], DOOR_RANGE[1]], dtype=np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.doors = np.array(DOOR_RANGE, dtype=np.float64)

    def _hint(self) -> np.ndarray:
        return self.doors

    def _draw_episode(self) -> None:
        """The left edges of both doors from U(10, 100); the start is fixed at (75, 10)."""
        self.doors = self.np_random.uniform(*DOOR_RANGE, size=2)
        self.start = DOOR_START.copy()

    def hits_wall(self, x: float, y: float) -> bool:
        """Whether a sub-step starting at ``(x, y)`` touches a wall outside its door."""
        for height, door in zip(WALL_HEIGHTS, self.doors, strict=True):
            near = height - WALL_HALF_THICKNESS < y < height + WALL_HALF_THICKNESS
            through = door + POINT_RADIUS < x < door + DOOR_WIDTH - POINT_RADIUS
            if near and not through:
                return True
        return False

    def _sub_step(
        self, x: float, y: float, dx: float, dy: float
    ) -> tuple[float, float, float, bool]:
        """The border clips; a wall hit, tested where the sub-step started, is absorbing."""
        moved_x, moved_y = min(max(x + dx, 0.0), FIELD), min(max(y + dy, 0.0), FIELD)
        if self.hits_wall(x, y):
            return moved_x, moved_y, ABSORBING_REWARD, True
        distance = math.hypot(DOOR_GOAL[0] - moved_x, DOOR_GOAL[1] - moved_y)
        return moved_x, moved_y, 10.0 * math.exp(-0.03 * distance), False
