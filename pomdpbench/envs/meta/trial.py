"""A meta-RL trial: k episodes of one hidden task form one Gymnasium episode.

This is the behaviour of varibad's ``VariBadWrapper`` as pomdp-baselines and RESeL use it
(FanmingL/Recurrent-Offpolicy-RL ``envs/meta/wrappers.py:18-153``; twni2016/pomdp-baselines
``envs/meta/wrappers.py``), written for Gymnasium:

* at ``reset`` a task is drawn uniformly from the task set of the chosen split, then the MDP is
  reset; the task stays fixed for the whole trial;
* when an inner episode ends (the MDP terminates or reaches its horizon H) and it was not the
  k-th, the MDP is reset and the trial goes on: the task is kept (``reset_mdp``, lines 120-124);
* with k > 1 a ``done_mdp`` flag is appended to the observation (lines 55-66, 92-93): 1 on the
  step an inner episode ended, else 0;
* the trial ends with the k-th inner episode: ``terminated`` if the MDP terminated, else
  ``truncated`` (its horizon, a time limit);
* actions in [-1, 1] are clipped and rescaled to the MDP's bounds (lines 128-133).

One deliberate difference (``stale_observation=False``, the default): when an inner episode
ends inside a trial, the original returns the *terminal* observation of that episode (flag 1),
and the agents (pomdp-baselines' and RESeL's loops ignore ``info["start_state"]``) act on it
while the MDP has already been reset. Here the step returns the first observation of the next
inner episode (flag 1), so the observation always matches the state. ``stale_observation=True``
restores the original behaviour.

``info["task"]`` is the task vector and ``info["state"]`` (privileged state) the observation
followed by the task vector, what pomdp-baselines' ``--oracle`` appends (lines 44-53, 88-91).
"""

from __future__ import annotations

from typing import Any, Protocol, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces


class TaskMDP(Protocol):
    """One MDP family whose reward or dynamics depend on a task vector."""

    observation_size: int
    action_low: np.ndarray
    action_high: np.ndarray
    can_render: bool

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Reset the MDP state (not the task); return the first observation."""
        ...

    def step(
        self, action: np.ndarray, task: np.ndarray
    ) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """Apply a (rescaled) action under ``task``: observation, reward, terminated, info."""
        ...

    def render(self) -> np.ndarray | None:
        """An RGB frame of the MDP, or None."""
        ...

    def close(self) -> None:
        """Release simulator resources."""
        ...


class MetaTrialEnv(gymnasium.Env[np.ndarray, np.ndarray]):
    """k inner episodes of horizon H on one task drawn from ``tasks`` per trial."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        mdp: TaskMDP,
        tasks: np.ndarray,
        *,
        episodes_per_task: int,
        horizon: int,
        stale_observation: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if episodes_per_task < 1 or horizon < 1:
            raise ValueError("episodes_per_task and horizon must be positive")
        self.mdp = mdp
        self.tasks = np.atleast_2d(np.asarray(tasks, dtype=np.float64))
        if len(self.tasks) == 0:
            raise ValueError("the task set is empty")
        self.episodes_per_task = episodes_per_task
        self.horizon = horizon
        self.stale_observation = stale_observation
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_modes": ["rgb_array"] if mdp.can_render else []}
        self.add_done_flag = episodes_per_task > 1
        size = mdp.observation_size + int(self.add_done_flag)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
        dim = len(mdp.action_low)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(dim,), dtype=np.float32)
        self._low = np.asarray(mdp.action_low, dtype=np.float64)
        self._span = np.asarray(mdp.action_high, dtype=np.float64) - self._low
        self.task = self.tasks[0]
        self.episode_index = 0
        self.inner_step = 0

    def _observe(self, obs: np.ndarray, done_mdp: bool) -> np.ndarray:
        if self.add_done_flag:
            obs = np.append(obs, float(done_mdp))
        return np.asarray(obs, dtype=np.float32)

    def _info(self, obs: np.ndarray, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        task = self.task.astype(np.float32)
        info = {"task": task, "state": np.concatenate([obs, task])}
        if extra:
            info.update(extra)
        return info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw a task of the split and start its first inner episode."""
        super().reset(seed=seed)
        self.task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        self.episode_index = 0
        self.inner_step = 0
        obs = self._observe(self.mdp.reset(self.np_random), False)
        return obs, self._info(obs)

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """One MDP step; resets the MDP (not the task) between inner episodes."""
        clipped = np.clip(np.asarray(action, dtype=np.float64).reshape(-1), -1.0, 1.0)
        scaled = self._low + (clipped + 1.0) * 0.5 * self._span
        mdp_obs, reward, mdp_terminated, extra = self.mdp.step(scaled, self.task)
        self.inner_step += 1
        done_mdp = mdp_terminated or self.inner_step >= self.horizon
        terminated = truncated = False
        if done_mdp:
            self.episode_index += 1
            extra = {**extra, "done_mdp": True}
            if self.episode_index >= self.episodes_per_task:
                terminated, truncated = mdp_terminated, not mdp_terminated
            else:
                self.inner_step = 0
                start = self.mdp.reset(self.np_random)
                if not self.stale_observation:
                    mdp_obs = start
        obs = self._observe(mdp_obs, done_mdp)
        return obs, float(reward), terminated, truncated, self._info(obs, extra)

    def render(self) -> np.ndarray | None:
        """The MDP's frame when ``render_mode="rgb_array"``."""
        return self.mdp.render() if self.render_mode == "rgb_array" else None

    def close(self) -> None:
        """Close the simulator."""
        self.mdp.close()
