"""Partial observability by occlusion: keep a fixed list of observation entries.

This is the construction of pomdp-baselines (``envs/pomdp/wrappers.py``, ``POMDPWrapper``),
used by its classic-control and PyBullet "-P"/"-V" tasks and by RESeL: the policy sees
``state[kept]``, and a continuous action in [-1, 1] is clipped and mapped linearly onto the base
environment's bounds. One wrapper does both jobs so a step pays for one Python layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium import spaces

from pomdpbench.envs.base import make_base_env


class MaskedObservation(gymnasium.Wrapper[np.ndarray, Any, np.ndarray, Any]):
    """Expose ``obs[kept]`` and rescale Box actions from [-1, 1] to the base bounds.

    Example:
        >>> import pomdpbench, gymnasium
        >>> env = gymnasium.make("Pendulum-V-v0")
        >>> env.observation_space.shape, env.action_space.low, env.action_space.high
        ((1,), array([-1.], dtype=float32), array([1.], dtype=float32))
    """

    def __init__(self, env: gymnasium.Env[np.ndarray, Any], kept: Sequence[int]) -> None:
        super().__init__(env)
        base_space = env.observation_space
        if not isinstance(base_space, spaces.Box) or len(base_space.shape) != 1:
            raise TypeError(f"masking needs a flat Box observation space, got {base_space}")
        self.kept = np.asarray(kept, dtype=np.int64)
        if self.kept.size == 0 or self.kept.min() < 0 or self.kept.max() >= base_space.shape[0]:
            raise ValueError(f"kept indices {list(kept)} out of range for {base_space}")
        self.observation_space = spaces.Box(
            low=base_space.low[self.kept].astype(np.float32),
            high=base_space.high[self.kept].astype(np.float32),
            dtype=np.float32,
        )
        self._continuous = isinstance(env.action_space, spaces.Box)
        if self._continuous:
            base_action = env.action_space
            assert isinstance(base_action, spaces.Box)
            # clip(a, -1, 1) mapped linearly onto [low, high]; on bounds that already are
            # [-1, 1] the mapping is the identity and only the clip remains (fewer numpy calls
            # per step: this runs once per environment step).
            half_span = 0.5 * (base_action.high - base_action.low)
            self._scale = half_span.astype(np.float32)
            self._offset = (base_action.low + half_span).astype(np.float32)
            unit = np.all(base_action.low == -1.0) and np.all(base_action.high == 1.0)
            self._identity = bool(unit)
            self.action_space = spaces.Box(-1.0, 1.0, shape=base_action.shape, dtype=np.float32)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        # Index, then convert: only the kept entries are cast (Humanoid keeps 45 of 376).
        return np.asarray(obs)[self.kept].astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset the base environment and mask its first observation."""
        obs, info = self.env.reset(seed=seed, options=options)
        return self._observe(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Rescale a continuous action, step the base environment, mask the observation."""
        if self._continuous:
            action = np.minimum(np.maximum(action, -1.0), 1.0)
            if not self._identity:
                action = self._offset + self._scale * action
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._observe(obs), reward, terminated, truncated, info


def make_masked_env(
    base_id: str,
    kept: Sequence[int],
    *,
    requires: str | None = None,
    render_mode: str | None = None,
    base_kwargs: dict[str, Any] | None = None,
) -> MaskedObservation:
    """Entry point of the masked tasks: the base environment seen through ``kept``."""
    base = make_base_env(base_id, requires=requires, render_mode=render_mode, **(base_kwargs or {}))
    return MaskedObservation(base, kept)
