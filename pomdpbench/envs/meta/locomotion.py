"""AntDir, CheetahDir and HalfCheetahVel: MuJoCo robots whose reward depends on a hidden task.

The originals (varibad's, shipped unchanged by pomdp-baselines and RESeL) are thin subclasses of
gym 0.21's mujoco-py environments. Here the same models run on Gymnasium's MuJoCo environments
(``Ant-v5``, ``HalfCheetah-v5``; official ``mujoco`` bindings) and only their simulator is used:
observation and reward are computed as in the originals (paths in
FanmingL/Recurrent-Offpolicy-RL):

* **AntDir** (``envs/meta/mujoco/ant_dir.py:25-44``, ``ant.py:48-64``): observation
  ``qpos[2:] + qvel`` (27); reward ``v_xy . (cos g, sin g) - 0.5 |a|^2
  - 0.5e-3 sum(clip(cfrc_ext, -1, 1)^2) + 1`` with the torso velocity from its position
  before and after the frame skip; terminates when the state is not finite or the torso height
  leaves [0.2, 1.0]. The goal g is an *angle in radians*; the original draws it from
  {-1, +1} (``ant_dir.py:66``, "not 180 degree"), see ``ANT_DIR_GOALS``.
* **CheetahDir** (``half_cheetah_dir.py:33-46``): reward ``d * v_x - 0.05 |a|^2``, d in {-1, +1}.
* **HalfCheetahVel** (``half_cheetah_vel.py:32-47``): reward ``-|v_x - v*| - 0.05 |a|^2``.
* Both cheetahs observe ``qpos[1:] + qvel + torso position`` (20; ``half_cheetah.py:10-21``)
  and never terminate.

Reset noise is that of the originals and of Gymnasium alike: ``qpos + U(-0.1, 0.1)``,
``qvel + 0.1 N(0, 1)`` (``ant.py:58-64``; gym's half_cheetah.py). Frame skip 5, dt 0.05.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from pomdpbench.envs.base import make_base_env

ANT_DIR_GOALS = (-1.0, 1.0)
"""AntDir goal angles in radians, as the original draws them (``ant_dir.py:66``). The angle
reading is a quirk of varibad's code (the intent was forward/backward, i.e. 0 and pi) that every
published AntDir number ran with; it is kept so that scores stay comparable."""
CHEETAH_DIRECTIONS = (-1.0, 1.0)
"""CheetahDir directions, backward or forward (``half_cheetah_dir.py:54``)."""


class _MujocoRobot:
    """A Gymnasium MuJoCo environment used as a bare simulator."""

    observation_size = 0
    can_render = True

    def __init__(self, base_id: str, render_mode: str | None) -> None:
        # The MuJoCo env's own API (data, do_simulation, dt) is what is used: typed Any.
        self.sim: Any = cast(Any, make_base_env(base_id, render_mode=render_mode))
        box: Any = self.sim.action_space
        self.action_low = np.asarray(box.low, dtype=np.float64)
        self.action_high = np.asarray(box.high, dtype=np.float64)
        self.dt = float(self.sim.unwrapped.dt)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Reset the robot with the trial's generator (the simulator's own noise)."""
        self.sim.np_random = rng
        self.sim.reset()
        return self._observe()

    def _observe(self) -> np.ndarray:
        raise NotImplementedError

    def render(self) -> np.ndarray | None:
        """The simulator's RGB frame."""
        frame = self.sim.render()
        return None if frame is None else np.asarray(frame)

    def close(self) -> None:
        """Free the MuJoCo renderer."""
        self.sim.close()


class AntDirMDP(_MujocoRobot):
    """The ant rewarded for its torso velocity along the direction at angle ``task[0]``."""

    observation_size = 27

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__("Ant-v5", render_mode)

    def _observe(self) -> np.ndarray:
        data = self.sim.data
        return np.concatenate([data.qpos.flat[2:], data.qvel.flat])

    def step(
        self, action: np.ndarray, task: np.ndarray
    ) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """Simulate one frame skip and score it."""
        data = self.sim.data
        before = data.body("torso").xpos.copy()
        self.sim.do_simulation(action, self.sim.frame_skip)
        velocity = (data.body("torso").xpos - before)[:2] / self.dt
        angle = float(task[0])
        forward = float(velocity @ np.array([np.cos(angle), np.sin(angle)]))
        ctrl_cost = 0.5 * float(np.square(action).sum())
        contact_cost = 0.5e-3 * float(np.square(np.clip(data.cfrc_ext, -1.0, 1.0)).sum())
        reward = forward - ctrl_cost - contact_cost + 1.0
        state = np.concatenate([data.qpos.flat, data.qvel.flat])
        healthy = bool(np.isfinite(state).all()) and 0.2 <= state[2] <= 1.0
        return self._observe(), reward, not healthy, {"reward_forward": forward}


class _Cheetah(_MujocoRobot):
    observation_size = 20

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__("HalfCheetah-v5", render_mode)

    def _observe(self) -> np.ndarray:
        data = self.sim.data
        return np.concatenate([data.qpos.flat[1:], data.qvel.flat, data.body("torso").xpos])

    def _forward_velocity(self, action: np.ndarray) -> float:
        before = float(self.sim.data.qpos[0])
        self.sim.do_simulation(action, self.sim.frame_skip)
        return (float(self.sim.data.qpos[0]) - before) / self.dt


class CheetahDirMDP(_Cheetah):
    """The half-cheetah rewarded for running in direction ``task[0]`` (-1 back, +1 forward)."""

    def step(
        self, action: np.ndarray, task: np.ndarray
    ) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """Simulate one frame skip and score it."""
        forward = float(task[0]) * self._forward_velocity(action)
        reward = forward - 0.05 * float(np.square(action).sum())
        return self._observe(), reward, False, {"reward_forward": forward}


class CheetahVelMDP(_Cheetah):
    """The half-cheetah rewarded for running at the target velocity ``task[0]``."""

    def step(
        self, action: np.ndarray, task: np.ndarray
    ) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """Simulate one frame skip and score it."""
        forward = -abs(self._forward_velocity(action) - float(task[0]))
        reward = forward - 0.05 * float(np.square(action).sum())
        return self._observe(), reward, False, {"reward_forward": forward}
