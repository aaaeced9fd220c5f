"""Random streams of task-randomizing wrappers, reproducible from the reset seed.

A wrapper that draws a task at reset (a gravity, a set of masses) needs its own generator: the
base environment's ``np_random`` is reseeded inside the base ``reset``, after the wrapper must
already have set the task, and sharing one stream would tie the task to the initial-state noise.
Each wrapper therefore derives a generator from the reset seed and its own stream name, so
``reset(seed=s)`` always gives the same task and the same initial state.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_rng(seed: int | None, stream: str) -> np.random.Generator:
    """A generator for ``stream`` seeded from ``seed`` (fresh entropy when ``seed`` is None)."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed) % 2**32, zlib.crc32(stream.encode())])
