"""Entry point of the ``dmc`` suite: a DeepMind Control task through Shimmy, partly observed.

The base environment is Farama Shimmy's Gymnasium port of a dm_control suite task
(``dm_control/<domain>-<task>-v0``, Shimmy's ``DmControlCompatibilityV0``),
which returns dm_control's dict of named arrays, ends episodes at dm_control's own time limit as
a truncation and seeds the task's random state from ``reset(seed=...)``. On top of it one layer,
:class:`DmControlTask`, does what RESeL's tasks get from ``dmc2gym`` (the fork of
zhihanyang2022/dmc2gym that ``envs/yang_domains`` of FanmingL/Recurrent-Offpolicy-RL calls,
``dmc2gym/wrappers.py`` ``DMCWrapper``):

* flattens the observation in dm_control's key order and keeps the entries of the groups the
  policy sees (:mod:`pomdpbench.envs.dmc_layout`);
* repeats each action ``frame_skip`` times and sums the rewards (``DMCWrapper.step``), stopping
  early at the episode's end;
* optionally appends the previous action to the observation, zeros after reset
  (``track_prev_action=True``; the appended action is the one sent to dm_control);
* maps actions from [-1, 1] linearly onto the base bounds after clipping (``_convert_action``;
  the original asserts instead of clipping). Actions reach dm_control as float32 when the
  bounds are [-1, 1], as ``_convert_action`` hands them over; MuJoCo stores controls as float64,
  so the values are the same.

Shimmy builds the environment (its registered ids), gives the Gymnasium spaces, seeds and
resets it, renders and closes it. Steps go straight to the dm_control environment Shimmy wraps,
read with Shimmy's own rule (``shimmy.utils.dm_env.dm_env_step2gym_step``: the reward, 0 when
dm_control gives None; at the last step ``truncated`` when the discount is positive, else
``terminated``; the same two ``info`` entries). Shimmy's step would first copy dm_control's
observation into a new dict of arrays, which this layer then reads once more; skipping that copy
costs less per step than Shimmy's own step does (``benchmarks/task_throughput.py``). With
``render_mode="human"`` the steps go through Shimmy, which draws its viewer there.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from pomdpbench.envs.base import make_base_env
from pomdpbench.envs.dmc_layout import flat_size, groups_of, observation_indices
from pomdpbench.errors import ConfigError


class DmControlTask(gymnasium.Wrapper[np.ndarray, np.ndarray, Any, Any]):
    """Flat, masked, frame-skipped view of a Shimmy dm_control environment.

    Args:
        env: a Shimmy ``DmControlCompatibilityV0`` environment (dict observations).
        keys: dm_control's observation keys in its own order (the flattening order).
        kept: indices of the flat observation the policy sees, ascending.
        frame_skip: how many times each action is repeated (rewards summed).
        previous_action: append the previous action to the observation.
    """

    def __init__(
        self,
        env: gymnasium.Env[Any, Any],
        keys: Sequence[str],
        kept: Sequence[int],
        *,
        frame_skip: int = 1,
        previous_action: bool = False,
    ) -> None:
        super().__init__(env)
        if frame_skip < 1:
            raise ConfigError(f"frame_skip must be at least 1, got {frame_skip}")
        base_action = env.action_space
        if not isinstance(base_action, spaces.Box):
            raise TypeError(f"dm_control tasks have Box actions, got {base_action}")
        self.frame_skip = frame_skip
        shimmy_env: Any = env.unwrapped
        self._base: Any = env  # Shimmy's env: dict observations
        self._dm_env: Any = shimmy_env._env  # the dm_control environment it wraps
        self._through_shimmy = getattr(env, "render_mode", None) == "human"
        self.previous_action = previous_action
        self.kept = np.asarray(kept, dtype=np.int64)
        self._parts = _key_parts(env, keys, self.kept)
        half_span = 0.5 * (base_action.high.astype(np.float64) - base_action.low)
        self._scale = half_span
        self._offset = base_action.low + half_span
        self._identity = bool(np.all(base_action.low == -1.0) and np.all(base_action.high == 1.0))
        self._last_action: np.ndarray = np.zeros(base_action.shape, dtype=np.float32)
        size = len(self.kept) + (base_action.shape[0] if previous_action else 0)
        self._buffer = np.zeros(size, dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=base_action.shape, dtype=np.float32)

    def _observe(self, obs: dict[str, Any]) -> np.ndarray:
        # Slice assignments into one float32 buffer, then one copy: fewer numpy calls per step
        # than concatenating pieces (this runs once per environment step).
        buffer = self._buffer
        for key, index, start, stop in self._parts:
            buffer[start:stop] = obs[key] if index is None else obs[key][index]
        if self.previous_action:
            buffer[len(self.kept) :] = self._last_action
        return buffer.copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset dm_control (seeded) and return the first masked observation."""
        obs, info = self._base.reset(seed=seed, options=options)
        self._last_action = np.zeros_like(self._last_action)
        return self._observe(obs), info

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply ``action`` ``frame_skip`` times; the reward is the sum over the repeats."""
        command = np.minimum(np.maximum(action, -1.0), 1.0)
        if not self._identity:
            command = self._offset + self._scale * command
        self._last_action = command
        if self._through_shimmy:
            return self._step_through_shimmy(command)
        step = self._dm_env.step
        total = 0.0
        for _ in range(self.frame_skip):
            timestep = step(command)
            total += timestep.reward or 0.0
            if timestep.last():
                break
        terminated = truncated = False
        if timestep.last():
            truncated = timestep.discount > 0
            terminated = not truncated
        info = {"timestep.discount": timestep.discount, "timestep.step_type": timestep.step_type}
        return self._observe(timestep.observation), total, terminated, truncated, info

    def _step_through_shimmy(
        self, command: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        total = 0.0
        for _ in range(self.frame_skip):
            obs, reward, terminated, truncated, info = self._base.step(command)
            total += float(reward)
            if terminated or truncated:
                break
        return self._observe(obs), total, terminated, truncated, info


def _key_parts(
    env: gymnasium.Env[Any, Any], keys: Sequence[str], kept: np.ndarray
) -> list[tuple[str, np.ndarray | None, int, int]]:
    """Where each dm_control key's kept entries come from and go.

    Returns one ``(key, local indices or None for all, start, stop)`` per key with kept
    entries, ``[start, stop)`` being the slice they fill in the policy's observation.
    """
    space = env.observation_space
    assert isinstance(space, spaces.Dict)
    if kept.size == 0 or len(np.unique(kept)) != kept.size or np.any(np.diff(kept) < 0):
        raise ConfigError(f"kept indices {kept.tolist()} must be distinct and ascending")
    parts: list[tuple[str, np.ndarray | None, int, int]] = []
    start = filled = 0
    for key in keys:
        size = int(np.prod(space[key].shape or ()))
        local = kept[(kept >= start) & (kept < start + size)] - start
        if local.size:
            index = None if local.size == size else local
            parts.append((key, index, filled, filled + local.size))
            filled += local.size
        start += size
    if kept.max() >= start:
        raise ConfigError(f"kept indices {kept.tolist()} do not fit a {start}-entry observation")
    return parts


@contextlib.contextmanager
def _quiet_dm_control() -> Iterator[None]:
    """Hide import-time noise: GLFW's "no DISPLAY" warning and absl's deprecation lines.

    dm_control picks a renderer when imported and GLFW warns on a headless machine although
    nothing is rendered; MuJoCo 3.x logs an absl warning about cheetah's ``settotalmass``.
    """
    from absl import logging as absl_logging

    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        absl_logging.set_verbosity(verbosity)


def make_dmc_task(
    domain_task: str,
    *,
    observe: Sequence[str] | None = None,
    frame_skip: int = 1,
    previous_action: bool = False,
    render_mode: str | None = None,
) -> DmControlTask:
    """Build one ``dmc`` task.

    Args:
        domain_task: ``"<domain>-<task>"`` of dm_control's suite, e.g. ``"walker-walk"``.
        observe: observation groups the policy sees (None: all of them).
        frame_skip: action repeat (RESeL's cartpole and acrobot POMDPs use 5).
        previous_action: append the previous action to the observation.
        render_mode: passed to Shimmy (``"rgb_array"`` needs an OpenGL backend).
    """
    groups_of(domain_task)  # a clear error for an unknown task before dm_control loads
    kept = (
        list(range(flat_size(domain_task)))
        if observe is None
        else observation_indices(domain_task, observe)
    )
    with _quiet_dm_control():
        import shimmy  # noqa: F401  (registers the dm_control/... ids with Gymnasium)

        base = make_base_env(f"dm_control/{domain_task}-v0", render_mode=render_mode)
    dm_env: Any = base.unwrapped
    spec = dm_env._env.observation_spec()  # an ordered dict: dm_control's own order
    size = sum(int(np.prod(array.shape)) for array in spec.values())
    if size != flat_size(domain_task):
        raise ConfigError(
            f"dm_control's {domain_task} observation has {size} entries, the layout in "
            f"pomdpbench/envs/dmc_layout.py {flat_size(domain_task)}: update the layout"
        )
    return DmControlTask(
        base, list(spec), kept, frame_skip=frame_skip, previous_action=previous_action
    )
