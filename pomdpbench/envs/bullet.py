"""Entry point of the ``classic`` suite: PyBullet locomotion seen through a fixed index list.

The tasks are pomdp-baselines' ``{Ant,HalfCheetah,Hopper,Walker}BLT-{F,P,V}-v0``
(twni2016/pomdp-baselines ``envs/pomdp/__init__.py``), which RESeL reuses unchanged
(FanmingL/Recurrent-Offpolicy-RL ``envs/pomdp/__init__.py``): ``obs[kept]`` of the PyBullet
environment, actions clipped to [-1, 1] and mapped onto the base bounds. That is
:func:`pomdpbench.envs.masked.make_masked_env` on the Gymnasium port ``pybullet-envs-gymnasium``.

PyBullet's C library prints ``argv[0]=`` on standard output whenever an environment connects to
its physics server, which happens at the first reset. The entry point does that first reset
itself with the process's standard output pointed at ``/dev/null``, so tables and JSON printed
by pomdpbench stay clean; the caller's own ``reset(seed=...)`` then restores the saved start
state as every later reset does.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from pomdpbench.envs.masked import MaskedObservation, make_masked_env


@contextlib.contextmanager
def quiet_c_stdout() -> Iterator[None]:
    """Send what C code writes to file descriptor 1 to ``/dev/null`` for the block."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no usable descriptor 1: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def make_bullet_task(
    base_id: str, kept: Sequence[int], *, render_mode: str | None = None
) -> MaskedObservation:
    """``base_id`` (a ``pybullet_envs_gymnasium`` id) seen through ``kept``, already connected."""
    env = make_masked_env(
        base_id, kept, requires="pybullet_envs_gymnasium", render_mode=render_mode
    )
    with quiet_c_stdout():
        env.unwrapped.reset()
    return env
