"""Unobserved gravity, drawn from a fixed set of tasks at every reset (RESeL App. D.1.2).

Definition (RESeL paper App. D.1.2, eq. 21; FanmingL/Recurrent-Offpolicy-RL
``envs/meta/dynamics_meta_env_wrapper.py`` ``sample_tasks``, lines 217 and 250-252): draw
``a ~ U[-L, L]`` and set ``g = 1.5**a * g_origin``. The public code draws one multiplier per
axis, but MuJoCo's nominal gravity is ``(0, 0, -9.81)``, so only the vertical one matters and a
single exponent per task is the same distribution. ``L = 3``, except 2 for Humanoid
(``envs/meta/__init__.py`` line 59): 1.5**3 = 3.4 g, where a humanoid cannot stand up.

Task set. The paper samples 60 tasks (40 train / 20 test); the public code's
``envs/pomdp_config.py`` (lines 13-14 and the other ``DM_*_gravity-v2`` entries) uses 120
(100 train / 20 test), and it draws them per training seed, so no two runs faced the same
tasks. Here a suite fixes one :class:`GravityTaskSet` for every agent and seed so that scores
compare; the suite file says which and why.

Per episode (``SAC.env_reset`` and ``policy_eval`` in the public code): a training task drawn
uniformly at every reset; an evaluation episode draws uniformly among the held-out tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import gymnasium
import numpy as np

from pomdpbench.envs.seeding import stream_rng

Split = Literal["train", "test"]

GRAVITY_BASE = 1.5
"""``g = GRAVITY_BASE ** a * g_origin`` (RESeL eq. 21)."""


@dataclass(frozen=True)
class GravityTaskSet:
    """A fixed set of gravity exponents ``a``, split into training and held-out tasks.

    The exponents are ``log_scale_limit * u`` with ``u ~ U[-1, 1]`` drawn by numpy's PCG64 from
    ``seed``; the first ``n_train`` are the training tasks and the rest the test tasks (the
    public code shuffles task indices before splitting, which for i.i.d. draws is the same).
    Scaling one ``u`` per task by the limit keeps the tasks of all five robots at the same
    quantiles, Humanoid's limit of 2 included.
    """

    log_scale_limit: float
    n_tasks: int = 120
    n_train: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.n_train < self.n_tasks:
            raise ValueError(f"need 0 < n_train < n_tasks, got {self.n_train}/{self.n_tasks}")
        if self.log_scale_limit <= 0:
            raise ValueError(f"log_scale_limit must be positive, got {self.log_scale_limit}")

    def exponents(self, split: Split | None = None) -> np.ndarray:
        """The exponents ``a`` of every task, or of the ``"train"`` or ``"test"`` split."""
        unit = np.random.default_rng(self.seed).uniform(-1.0, 1.0, size=self.n_tasks)
        every = self.log_scale_limit * unit
        if split is None:
            return every
        if split == "train":
            return every[: self.n_train]
        if split == "test":
            return every[self.n_train :]
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


class RandomGravity(gymnasium.Wrapper[Any, Any, Any, Any]):
    """Set ``model.opt.gravity`` to a task of one split at every reset; the policy never sees it.

    The task is drawn before the base environment resets, from a stream derived from the reset
    seed, so ``reset(seed=s)`` always gives the same gravity and the same initial state. Steps
    pass straight through: the wrapper costs nothing per step.
    """

    def __init__(self, env: gymnasium.Env[Any, Any], tasks: GravityTaskSet, split: Split) -> None:
        super().__init__(env)
        self.tasks = tasks
        self.split = split
        self.task_exponents = tasks.exponents(split)
        self._gravity = cast(Any, env.unwrapped).model.opt.gravity  # a view: writes reach MuJoCo
        self.nominal_gravity = np.array(self._gravity, dtype=np.float64)
        self._rng = stream_rng(None, "gravity")
        self.exponent = 0.0
        """Exponent ``a`` of the current episode's task."""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Draw this episode's gravity, then reset the base environment."""
        if seed is not None:
            self._rng = stream_rng(seed, "gravity")
        self.exponent = float(self.task_exponents[self._rng.integers(len(self.task_exponents))])
        self._gravity[:] = self.nominal_gravity * GRAVITY_BASE**self.exponent
        return self.env.reset(seed=seed, options=options)

    def close(self) -> None:
        """Put the nominal gravity back, then close the base environment."""
        self._gravity[:] = self.nominal_gravity
        super().close()
