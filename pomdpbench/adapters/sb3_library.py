"""What the SB3 adapter knows about the library itself, apart from driving an algorithm.

Finding an algorithm class by name in Stable-Baselines3 or sb3-contrib, the library versions a
run records, an algorithm's constructor arguments as the typed config the sweep checks
``--set`` against, which action spaces each algorithm supports (so a sweep refuses a task
before any run), and the training statistics SB3 logs. :mod:`pomdpbench.adapters.sb3` builds
the harness agent on these.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Any

import numpy as np

from pomdpbench.errors import ConfigError

ADAPTER_VERSION = "1"
"""Bump when a change to the adapter can alter results."""
_LIBRARIES = ("stable_baselines3", "sb3_contrib")
_INSTALL_HINT = "install the extra: pip install 'pomdpbench[sb3]'"


def algorithm_class(name: str) -> type[Any]:
    """The SB3 or sb3-contrib algorithm class called ``name``."""
    modules = []
    for library in _LIBRARIES:
        try:
            modules.append(importlib.import_module(library))
        except ImportError:
            continue
    if not modules:
        raise ConfigError(f"agent sb3:{name} needs stable-baselines3: {_INSTALL_HINT}")
    from stable_baselines3.common.base_class import BaseAlgorithm

    for module in modules:
        found = getattr(module, name, None)
        if isinstance(found, type) and issubclass(found, BaseAlgorithm):
            return found
    known = sorted(
        attr
        for module in modules
        for attr in dir(module)
        if isinstance(getattr(module, attr), type)
        and issubclass(getattr(module, attr), BaseAlgorithm)
    )
    raise ConfigError(f"no SB3 algorithm named {name!r}; known: {', '.join(known)}")


def library_versions() -> str:
    """Versions of SB3, sb3-contrib and this adapter, for the run's agent version."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("stable-baselines3", "sb3-contrib"):
        try:
            parts.append(f"{dist}-{version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist}-missing")
    return "+".join([*parts, f"adapter-{ADAPTER_VERSION}"])


def constructor_arguments(algorithm: type[Any]) -> set[str]:
    """Names the algorithm's constructor takes (a subclass's ``**kwargs`` reach its parent's)."""
    accepted: set[str] = set()
    for cls in algorithm.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters
        accepted |= {n for n, p in parameters.items() if p.kind != p.VAR_KEYWORD}
        if not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
            break
    return accepted - {"self", "env", "seed", "device", "verbose", "_init_setup_model"}


class _Unset:
    """The default of every constructor argument: left to the algorithm's own default."""

    def __repr__(self) -> str:
        return "unset"


UNSET: Any = _Unset()


def constructor_config(algorithm: type[Any]) -> type[Any]:
    """A dataclass of the constructor's arguments (values unchecked: SB3 checks them).

    Every field defaults to :data:`UNSET`, so only the arguments a suite file or ``--set``
    names reach the constructor (:func:`given_arguments`).
    """
    names = sorted(constructor_arguments(algorithm))
    fields = [(name, Any, dataclasses.field(default=UNSET)) for name in names]
    return dataclasses.make_dataclass(f"{algorithm.__name__}Arguments", fields, frozen=True)


def given_arguments(config: Any) -> dict[str, Any]:
    """The arguments ``config`` sets: the typed config's non-:data:`UNSET` fields, or a mapping."""
    if not dataclasses.is_dataclass(config):
        return dict(config)
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    return {name: value for name, value in values.items() if value is not UNSET}


def training_statistics(model: Any) -> dict[str, float]:
    """The library's latest training statistics (``train/value_loss``...) as metrics.

    Without the ``train/`` prefix, so the stability plots show them: SB3's names for the value
    loss match the shipped agents' (``value_loss`` for PPO, ``critic_loss`` for SAC/TD3). SB3
    records them in its logger at every ``train``; the silenced logger is never dumped,
    so it holds the latest value of each.
    """
    values = model.logger.name_to_value
    return {
        key.removeprefix("train/"): float(value)
        for key, value in values.items()
        if key.startswith("train/") and isinstance(value, (int, float, np.number))
    }


ACTION_SPACES: dict[str, tuple[str, ...]] = {
    # Which of the benchmark's two action-space kinds each algorithm supports (SB3 docs, "RL
    # Algorithms" table; sb3-contrib docs, the same table). PPO, A2C, RecurrentPPO, TRPO and ARS
    # take both.
    "SAC": ("Box",),
    "TD3": ("Box",),
    "DDPG": ("Box",),
    "TQC": ("Box",),
    "CrossQ": ("Box",),
    "DQN": ("Discrete",),
    "QRDQN": ("Discrete",),
    "MaskablePPO": ("Discrete",),
    "PPO": ("Box", "Discrete"),
    "A2C": ("Box", "Discrete"),
    "RecurrentPPO": ("Box", "Discrete"),
    "TRPO": ("Box", "Discrete"),
    "ARS": ("Box", "Discrete"),
}
