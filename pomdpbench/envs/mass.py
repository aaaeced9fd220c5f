"""Per-body mass randomization with the full state as privileged information (S2PG App. E.4).

Definition (robfiras/s2pg ``s2pg/environments/gym_mujoco_pomdp/wrapper.py``,
``RandomizedMassGym``): at every reset each body of the model, the world body included, draws a
relative mass change ``delta`` uniformly from {-0.3, 0, +0.3} (line 13, line 47); its mass
becomes ``m0 * (1 + delta)`` (line 57) and the first size parameter of each of its geoms
(the radius of capsules and spheres) ``s0 * (1 + delta)`` (lines 48-56), both from the nominal
values, so changes never compound. ``delta`` is appended to the full observation (line 60) and
hidden from the policy by its mask; critics see the full observation plus ``delta``.

Here the full observation plus ``delta`` is ``info["state"]`` after ``reset`` and every ``step``
(pomdpbench's privileged channel), and the policy's observation can be cut down in the same
layer (``observed``: the leading entries it sees, S2PG's mask for these tasks), which saves a
wrapper and its numpy calls on every step. Two small differences, neither visible to the policy:

* The masses are set before the base environment resets (S2PG sets them just after), so that
  the first state is computed with the episode's own masses; positions and velocities do not
  depend on them, only Humanoid's ``cinert`` in the privileged state does.
* Geoms are matched to bodies through ``geom_bodyid`` rather than ``body_geomadr`` ranges; the
  two agree for these models, and the former is also right for bodies without geoms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat, cast

import gymnasium
import numpy as np
from gymnasium import spaces

from pomdpbench.envs.seeding import stream_rng

MASS_CHANGES: tuple[float, ...] = (-0.3, 0.0, 0.3)
"""Relative mass changes (s2pg ``wrapper.py`` line 13, ``_allowed_relative_mass_change``)."""


class RandomMass(gymnasium.Wrapper[Any, Any, Any, Any]):
    """Randomize body masses at every reset; ``info["state"]`` = full observation + ``delta``.

    Args:
        env: a Gymnasium MuJoCo environment.
        state_size: how many leading entries of the base observation form the full state
            (None: all of them). The MuJoCo tasks drop trailing contact forces this way.
        observed: how many leading entries of the base observation the policy sees (None: the
            base observation unchanged).
        changes: the relative mass changes to draw from.
    """

    def __init__(
        self,
        env: gymnasium.Env[Any, Any],
        state_size: int | None = None,
        observed: int | None = None,
        changes: Sequence[float] = MASS_CHANGES,
    ) -> None:
        super().__init__(env)
        self._observed = observed
        if observed is not None:
            self.observation_space = spaces.Box(-np.inf, np.inf, (observed,), np.float32)
        model = cast(Any, env.unwrapped).model
        self._body_mass = model.body_mass  # views: writes reach MuJoCo
        self._geom_size = model.geom_size
        self.nominal_mass = np.array(model.body_mass, dtype=np.float64)
        self.nominal_geom_size = np.array(model.geom_size, dtype=np.float64)
        self._geom_body = np.array(model.geom_bodyid, dtype=np.int64)
        self.changes = np.asarray(changes, dtype=np.float64)
        self._state = slice(0, state_size)
        self._rng = stream_rng(None, "mass")
        self.delta = np.zeros(len(self.nominal_mass), dtype=np.float64)
        """Relative mass change of each body in the current episode."""

    def _apply(self, delta: np.ndarray) -> None:
        scale = 1.0 + delta
        self._body_mass[:] = self.nominal_mass * scale
        self._geom_size[:, 0] = self.nominal_geom_size[:, 0] * scale[self._geom_body]
        self.delta = delta

    def restore_nominal(self) -> None:
        """Put the nominal masses and geom sizes back (also done by ``close``)."""
        self._apply(np.zeros_like(self.nominal_mass))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Draw this episode's masses, reset the base environment, add the privileged state."""
        if seed is not None:
            self._rng = stream_rng(seed, "mass")
        self._apply(self._rng.choice(self.changes, size=len(self.nominal_mass)))
        obs, info = self.env.reset(seed=seed, options=options)
        info["state"] = np.concatenate((obs[self._state], self.delta), dtype=np.float32)
        if self._observed is not None:
            obs = obs[: self._observed].astype(np.float32)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the base environment, add the privileged state, cut the policy's view."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["state"] = np.concatenate((obs[self._state], self.delta), dtype=np.float32)
        if self._observed is not None:
            obs = obs[: self._observed].astype(np.float32)
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        """Restore the nominal model, then close the base environment."""
        self.restore_nominal()
        super().close()
