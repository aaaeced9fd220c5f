"""Build a registered Gymnasium environment without the wrappers ``gymnasium.make`` adds.

A pomdpbench task registers its own time limit, so its base environment must not bring a
second one (a shorter base limit would silently cut episodes). Building the base from its
registered entry point, as ``gymnasium.make`` does internally, gives the bare environment.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium
from gymnasium.envs.registration import load_env_creator


def make_base_env(
    base_id: str, *, requires: str | None = None, render_mode: str | None = None, **kwargs: Any
) -> gymnasium.Env[Any, Any]:
    """The environment registered as ``base_id``, with no time limit or checker wrappers.

    Args:
        base_id: a Gymnasium id such as ``"Pendulum-v1"``.
        requires: a module to import first when it registers ``base_id`` (e.g. the PyBullet
            port ``"pybullet_envs_gymnasium"``).
        render_mode: passed to the environment.
        **kwargs: overrides of the registered kwargs.
    """
    if requires is not None:
        importlib.import_module(requires)
    spec = gymnasium.spec(base_id)
    entry_point = spec.entry_point
    if entry_point is None:
        raise ValueError(f"{base_id} has no entry point")
    creator = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    options = {**spec.kwargs, **kwargs}
    if render_mode is not None:
        options["render_mode"] = render_mode
    env = creator(**options)
    if not isinstance(env, gymnasium.Env):
        raise TypeError(f"{base_id} builds a {type(env).__name__}, not a single environment")
    return env
