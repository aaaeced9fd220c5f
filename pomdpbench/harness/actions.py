"""Encode the previous action as the float vector agents receive.

Box actions pass through as float32 vectors; a Discrete action becomes a one-hot row of a
preallocated, read-only identity matrix; an episode start gets zeros. ``encode`` is chosen once
per space so the per-step call is a list lookup (Discrete) or a type check (Box): it runs on
every step of every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.agents.protocol import action_size


class ActionEncoder:
    """Maps actions of one space to float32 vectors of fixed length."""

    def __init__(self, space: gymnasium.spaces.Space[Any]) -> None:
        self.size = action_size(space)
        self.discrete = isinstance(space, gymnasium.spaces.Discrete)
        self.zero = np.zeros(self.size, dtype=np.float32)
        self.zero.flags.writeable = False
        self.encode: Callable[[Any], np.ndarray]
        if self.discrete:
            one_hot = np.eye(self.size, dtype=np.float32)
            one_hot.flags.writeable = False
            self.encode = list(one_hot).__getitem__  # int-like actions index the rows
        else:
            self.encode = self._encode_box

    def _encode_box(self, action: Any) -> np.ndarray:
        if type(action) is np.ndarray and action.dtype == np.float32 and action.ndim == 1:
            return action
        return np.asarray(action, dtype=np.float32).reshape(self.size)
