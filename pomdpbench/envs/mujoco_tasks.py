"""Entry point of the MuJoCo suites (``mdp``, ``gravity``, ``robust``): compose one task.

A task is a Gymnasium ``-v4`` MuJoCo environment (no time limit of its own: the task registers
the horizon) with, in this order,

1. optionally :class:`~pomdpbench.envs.gravity.RandomGravity` (``gravity=`` a task set table),
2. optionally :class:`~pomdpbench.envs.mass.RandomMass` (``randomize_mass=true``), which puts
   the full observation plus the mass changes in ``info["state"]``,
3. :class:`~pomdpbench.envs.masked.MaskedObservation` keeping the observation groups the
   policy sees (``observe=``, default: everything but the contact forces, see
   :mod:`pomdpbench.envs.mujoco_layout`) and mapping actions from [-1, 1] onto the base bounds.
   When the policy sees the whole base observation and the base bounds already are [-1, 1],
   this layer is left out, as in the papers' plain ``gym.make`` tasks (RESeL) and MushroomRL's
   ``Gym`` wrapper (S2PG): MuJoCo clamps each control to its ``ctrlrange`` itself, and only the
   control cost of an action outside [-1, 1] (which no squashed policy emits) sees it unclipped.
   A policy view that is a leading slice of the observation (the positions) on [-1, 1] bounds
   is cut by :class:`~pomdpbench.envs.mass.RandomMass` itself under mass randomization, and
   otherwise by :class:`ObservationPrefix`, which does only that (actions pass untouched, as
   in the robust suite): on the fastest base environments (HalfCheetah, 80 us a step) the
   clip and the index copy of the masking layer cost over 5 % per step.

Why ``-v4``: its observations have exactly the layout of gym's mujoco-py ``-v2``/``-v3`` tasks
the papers ran (RESeL: ``-v2``; S2PG: ``-v3``), on the same model files; ``-v5`` drops the world
body's entries from Humanoid's observation (348 instead of 376), excludes Ant's world-body
contact forces (105 instead of 111), and gives Walker2d's right foot the left foot's friction
(1.9 instead of 0.9).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from pomdpbench.envs.base import make_base_env
from pomdpbench.envs.gravity import GravityTaskSet, RandomGravity, Split
from pomdpbench.envs.masked import MaskedObservation
from pomdpbench.envs.mass import RandomMass
from pomdpbench.envs.mujoco_layout import default_groups, observation_indices
from pomdpbench.errors import ConfigError


def make_mujoco_task(
    base_id: str,
    *,
    observe: Sequence[str] | None = None,
    base_kwargs: Mapping[str, Any] | None = None,
    gravity: Mapping[str, Any] | None = None,
    split: Split = "train",
    randomize_mass: bool = False,
    render_mode: str | None = None,
) -> gymnasium.Env[Any, Any]:
    """Build one MuJoCo task.

    Args:
        base_id: a Gymnasium MuJoCo id with a known layout, e.g. ``"Hopper-v4"``.
        observe: observation groups the policy sees (None: all but the contact forces).
        base_kwargs: keyword arguments of the base environment.
        gravity: fields of a :class:`GravityTaskSet`; None keeps the nominal gravity.
        split: which gravity tasks to draw from, ``"train"`` or ``"test"`` (evaluation).
        randomize_mass: draw per-body mass changes at every reset and expose the full state.
        render_mode: passed to the base environment.
    """
    if split not in ("train", "test"):
        raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
    env = make_base_env(base_id, render_mode=render_mode, **dict(base_kwargs or {}))
    full = observation_indices(base_id, default_groups(base_id))
    if gravity is not None:
        env = RandomGravity(env, gravity_task_set(gravity), split)
    kept = full if observe is None else observation_indices(base_id, observe)
    if randomize_mass and kept == list(range(len(kept))):
        # The policy's view is a leading slice: cut it in the same layer (one wrapper less).
        env = RandomMass(env, state_size=len(full), observed=len(kept))
        kept = list(range(len(kept)))
    elif randomize_mass:
        env = RandomMass(env, state_size=len(full))
    base_shape = env.observation_space.shape
    base_size = base_shape[0] if base_shape else 0
    action = env.action_space
    unit_actions = (
        isinstance(action, spaces.Box)
        and bool(np.all(action.low == -1.0))
        and bool(np.all(action.high == 1.0))
    )
    if kept == list(range(base_size)) and unit_actions:
        return env
    if kept == list(range(len(kept))) and unit_actions:
        return ObservationPrefix(env, len(kept))
    return MaskedObservation(env, kept)


class ObservationPrefix(gymnasium.Wrapper[np.ndarray, Any, np.ndarray, Any]):
    """The first ``size`` entries of the observation as float32; actions pass untouched."""

    def __init__(self, env: gymnasium.Env[np.ndarray, Any], size: int) -> None:
        super().__init__(env)
        base = env.observation_space
        assert isinstance(base, spaces.Box) and 0 < size <= base.shape[0]
        self.size = size
        self.observation_space = spaces.Box(
            base.low[:size].astype(np.float32), base.high[:size].astype(np.float32)
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the base environment and cut its first observation."""
        obs, info = self.env.reset(seed=seed, options=options)
        return obs[: self.size].astype(np.float32), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the base environment and cut its observation."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs[: self.size].astype(np.float32), reward, terminated, truncated, info


def gravity_task_set(fields: Mapping[str, Any]) -> GravityTaskSet:
    """The task set a suite file describes, or a one-line :class:`ConfigError`."""
    try:
        return GravityTaskSet(**fields)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"gravity = {dict(fields)}: {exc}; give log_scale_limit and optionally n_tasks, "
            "n_train and seed"
        ) from None
