"""Find agents by id: shipped ones, the ``pomdpbench.agents`` entry-point group, or a module path.

An agent is anything callable as ``factory(ctx: AgentContext) -> Agent``, usually a class.
Three ways to name one:

* a registered id (``random``, ``sac-mlp``; see :func:`register_agent`);
* an entry point of another package in the group ``pomdpbench.agents``::

      [project.entry-points."pomdpbench.agents"]
      my-agent = "my_package.agent:MyAgent"

* ``--agent package.module:Name`` on the command line, with no registration at all; the class
  may declare ``version`` and ``description`` attributes (strings), stored with its runs;
* ``--agent sb3:<Algorithm>``: any Stable-Baselines3 or sb3-contrib algorithm class through
  :mod:`pomdpbench.adapters.sb3`.

Entry points are strings, so finding an agent imports nothing heavy (Gymnasium's idea).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Any

from pomdpbench.agents.config import agent_config
from pomdpbench.agents.protocol import Agent, AgentContext
from pomdpbench.errors import ConfigError, UnknownIdError

AgentFactory = Callable[[AgentContext[Any]], Agent]
_PROTOCOL_METHODS = ("initial_state", "act", "observe", "update", "save", "load")


class AgentKind(Enum):
    """How an agent was named, which decides where its hyperparameters come from."""

    REGISTERED = "registered"
    """Registered with :func:`register_agent` (the shipped agents): configs in baselines/."""
    ENTRY_POINT = "entry point"
    """Offered by another package's ``pomdpbench.agents`` entry point: ``--set`` only."""
    PATH = "path"
    """``--agent package.module:Name``, not registered: ``--set`` only."""
    SB3 = "sb3"
    """``--agent sb3:<Algorithm>`` through the shipped adapter: ``baselines/sb3-<Algorithm>/``."""


@dataclass(frozen=True)
class AgentSpec:
    """A named agent and where its code lives."""

    id: str
    entry_point: str
    """``"module:attribute"`` of the factory."""
    version: str
    """Bump when a change can alter results; runs of different versions never mix."""
    description: str = ""
    source: str = ""
    """Paper or repository the agent reproduces (free text, shown by ``pomdpbench list``)."""
    config_dir: str | None = None
    """Folder under baselines/ holding per-suite configs (defaults to a registered id)."""
    kind: AgentKind = AgentKind.REGISTERED

    @property
    def baselines_folder(self) -> str | None:
        """The folder under baselines/ whose ``<suite>.toml`` files configure this agent.

        ``config_dir`` when set, else a registered agent's id; an agent from an entry point or a
        module path brings no files of ours (its hyperparameters come from ``--set``).
        """
        if self.config_dir:
            return self.config_dir
        return self.id if self.kind is AgentKind.REGISTERED else None


_AGENTS: dict[str, AgentSpec] = {}


def register_agent(spec: AgentSpec) -> AgentSpec:
    """Register a shipped or plugin agent under ``spec.id``.

    Raises:
        ConfigError: if the id is taken.
    """
    if spec.id in _AGENTS:
        raise ConfigError(f"agent id {spec.id!r} is already registered: choose another id")
    _AGENTS[spec.id] = spec
    return spec


def list_agents() -> list[AgentSpec]:
    """Registered agents plus those offered by installed packages' entry points."""
    found = dict(_AGENTS)
    for entry in entry_points(group="pomdpbench.agents"):
        found.setdefault(entry.name, _entry_point_spec(entry.name, entry.value, entry.dist))
    return list(found.values())


def get_agent_spec(name: str) -> AgentSpec:
    """Resolve an agent id, entry-point name or ``module:Name`` path to its spec."""
    if name in _AGENTS:
        return _AGENTS[name]
    for entry in entry_points(group="pomdpbench.agents", name=name):
        return _entry_point_spec(entry.name, entry.value, entry.dist)
    if name.startswith("sb3:"):
        return _sb3_spec(name)
    if ":" in name:
        return _path_spec(name)
    known = [spec.id for spec in list_agents()]
    raise UnknownIdError(
        "agent", name, known, hint="use a registered id or a path such as `my_package.module:Name`"
    )


def load_factory(spec: AgentSpec) -> AgentFactory:
    """Import the agent's factory (this is where torch gets imported)."""
    module_name, _, attribute = spec.entry_point.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"malformed agent path {spec.entry_point!r}: write it as `package.module:Name`"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"agent {spec.id!r}: cannot import module {module_name!r} ({exc}): "
            "check the spelling or install the package that provides it"
        ) from None
    except SyntaxError as exc:
        raise ConfigError(
            f"agent {spec.id!r}: module {module_name!r} has a syntax error at "
            f"{exc.filename}:{exc.lineno} ({exc.msg}): fix the file"
        ) from None
    except Exception as exc:  # the plugin's own code failed while importing
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ConfigError(
            f"agent {spec.id!r}: importing module {module_name!r} raised "
            f"{type(exc).__name__}: {first}: fix the module (python -c 'import {module_name}' "
            "shows the traceback)"
        ) from None
    try:
        factory = getattr(module, attribute)
    except AttributeError:
        raise ConfigError(
            f"agent {spec.id!r}: module {module_name!r} has no attribute {attribute!r}: "
            "check the name after the colon"
        ) from None
    if not callable(factory):
        raise ConfigError(f"agent {spec.id!r}: {spec.entry_point} is not callable")
    missing = [name for name in _PROTOCOL_METHODS if not hasattr(factory, name)]
    if isinstance(factory, type) and missing:
        raise ConfigError(
            f"agent {spec.id!r}: {spec.entry_point} lacks {', '.join(missing)} of the "
            "pomdpbench Agent protocol (see pomdpbench/agents/protocol.py)"
        )
    return factory


def build_agent(spec: AgentSpec, ctx: AgentContext[Any]) -> Agent:
    """Build the agent from the run's resolved hyperparameters and check its protocol.

    ``ctx.config`` is the resolved mapping (what a job stores); the agent's typed ``Config`` is
    built from it here, once (:func:`~pomdpbench.agents.config.agent_config`), and the agent
    gets the same context with that instance as ``ctx.config``.
    """
    factory = load_factory(spec)
    agent = factory(replace(ctx, config=agent_config(factory, ctx.config, spec.id)))
    if not isinstance(agent, Agent):
        missing = [name for name in _PROTOCOL_METHODS if not hasattr(agent, name)]
        missing += [] if hasattr(agent, "wants_privileged") else ["wants_privileged"]
        raise ConfigError(
            f"agent {spec.id!r} built an object lacking {', '.join(missing)} of the "
            "pomdpbench Agent protocol (see pomdpbench/agents/protocol.py)"
        )
    return agent


def _entry_point_spec(name: str, value: str, dist: Any) -> AgentSpec:
    dist_version = getattr(dist, "version", None) or "unknown"
    return AgentSpec(
        id=name,
        entry_point=value,
        version=str(dist_version),
        source="entry point",
        kind=AgentKind.ENTRY_POINT,
    )


def _path_spec(path: str) -> AgentSpec:
    module_name, _, attribute = path.partition(":")
    if (
        not module_name
        or not attribute
        or not all(part.isidentifier() for part in [*module_name.split("."), attribute])
    ):
        raise ConfigError(f"malformed agent path {path!r}: write it as `package.module:Name`")
    declared = _declared_attributes(module_name, attribute)
    return AgentSpec(
        id=path,
        entry_point=path,
        version=declared.get("version") or _package_version(module_name),
        description=declared.get("description", ""),
        kind=AgentKind.PATH,
    )


def _declared_attributes(module_name: str, attribute: str) -> dict[str, str]:
    """The ``version``/``description`` strings a ``module:Class`` agent declares, if any.

    An import error is left for :func:`load_factory` to report with its hint.
    """
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except Exception:  # noqa: BLE001 - reported with its hint by load_factory
        return {}
    found = {key: getattr(factory, key, None) for key in ("version", "description")}
    return {key: str(value) for key, value in found.items() if isinstance(value, (str, int))}


def _sb3_spec(name: str) -> AgentSpec:
    """``sb3:<Algorithm>``: an SB3/sb3-contrib class through the adapter (imports SB3 lazily)."""
    algorithm = name.partition(":")[2]
    if not algorithm.isidentifier():
        raise ConfigError(f"malformed agent {name!r}: write it as `sb3:RecurrentPPO`")
    from pomdpbench.adapters.sb3 import library_versions

    return AgentSpec(
        id=name,
        entry_point=f"pomdpbench.adapters.sb3:{algorithm}",
        version=library_versions(),
        description=f"Stable-Baselines3 {algorithm} driven step by step by the harness",
        source="stable-baselines3 / sb3-contrib",
        config_dir=f"sb3-{algorithm}",  # baselines/sb3-<Algorithm>/<suite>.toml when shipped
        kind=AgentKind.SB3,
    )


def _package_version(module_name: str) -> str:
    top = module_name.split(".")[0]
    try:
        return version(top)
    except PackageNotFoundError:
        pass
    try:
        return str(getattr(importlib.import_module(top), "__version__", "unknown"))
    except Exception:  # a broken module is reported, in one line, by load_factory
        return "unknown"
