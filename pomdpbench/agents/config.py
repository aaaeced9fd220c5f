"""Agent hyperparameters: per-suite TOML files plus command-line overrides.

A shipped agent's values for a suite live in ``baselines/<agent>/<suite>.toml``, each with a
comment citing its source. Layers, later ones winning:

1. the agent's own dataclass defaults (not read here);
2. top-level keys of the suite file;
3. ``[task."<glob>"]`` tables whose glob matches the task id, in file order;
4. ``[tier.<tier>]`` (e.g. a shorter warm-up for the smoke tier);
5. ``--set key=value`` overrides from the command line.

:func:`build_config` turns the merged mapping into the agent's frozen dataclass and rejects
unknown keys with the list of valid ones, values of the wrong type, and values outside the
range a field declares in its metadata (``field(default=3e-4, metadata=positive())``; see
:class:`Range`). :func:`agent_config` is the one place an agent's config is built: the sweep
calls it for every task before any run starts, so a bad value is a one-line refusal, not a
failed run, and the harness calls it again in the run's process to build the agent (agents
never build their own).
"""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pomdpbench.errors import ConfigError
from pomdpbench.paths import baselines_dir
from pomdpbench.registry.loader import read_toml

T = TypeVar("T")
RANGE_KEY = "pomdpbench_range"


@dataclass(frozen=True)
class Range:
    """The allowed values of a numeric hyperparameter (each element, for a tuple)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    """True: ``low`` itself is not allowed."""
    high_open: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` is allowed (NaN never is)."""
        if value != value:
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.high_open else value > self.high)
        )

    def describe(self) -> str:
        """``"> 0"``, ``">= 1"`` or ``"in [0, 1]"``."""
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return "any number"


def in_range(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> dict[str, Range]:
    """Field metadata of an allowed range: ``field(default=.., metadata=in_range(0, 1))``."""
    return {RANGE_KEY: Range(low, high, low_open, high_open)}


def positive() -> dict[str, Range]:
    """Metadata for a value that must be > 0 (learning rates, temperatures)."""
    return in_range(0, low_open=True)


def at_least(low: float) -> dict[str, Range]:
    """Metadata for a value that must be >= ``low`` (sizes, counts)."""
    return in_range(low)


def fraction() -> dict[str, Range]:
    """Metadata for a value in [0, 1] (discounts, smoothing factors)."""
    return in_range(0, 1)


def agent_config_path(config_dir: str, suite: str) -> Path:
    """Where the config of agent folder ``config_dir`` for ``suite`` lives (may not exist)."""
    return baselines_dir() / config_dir / f"{suite}.toml"


def resolve_config(
    config_dir: str | None,
    suite: str,
    task_id: str,
    tier: str,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the layers above into one flat mapping of hyperparameters."""
    merged: dict[str, Any] = {}
    path = agent_config_path(config_dir, suite) if config_dir else None
    if path is not None and path.exists():
        data = read_toml(path)
        merged.update({k: v for k, v in data.items() if k not in ("task", "tier")})
        for pattern, values in data.get("task", {}).items():
            if fnmatch.fnmatchcase(task_id, pattern):
                merged.update(values)
        merged.update(data.get("tier", {}).get(tier, {}))
    merged.update(overrides or {})
    return merged


def resolve_run_config(
    factory: Any,
    config_dir: str | None,
    suite: str,
    task_id: str,
    tier: str,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The hyperparameters that identify a run: :func:`resolve_config`, then the agent's hook.

    An agent class may define ``finalize_config(values, overrides) -> dict`` for settings derived
    from others or for keys of a shared suite file it does not take (the RESeL family); it sees
    which keys came from ``--set`` so it can refuse rather than drop them.
    """
    values = resolve_config(config_dir, suite, task_id, tier, overrides)
    finalize = getattr(factory, "finalize_config", None)
    return dict(finalize(values, overrides)) if finalize is not None else values


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are Python literals when they parse as one.

    >>> parse_overrides(["lr=1e-3", "hidden_sizes=[64, 64]", "name=gru"])
    {'lr': 0.001, 'hidden_sizes': [64, 64], 'name': 'gru'}
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"malformed override {item!r}: write it as --set key=value")
        try:
            value: Any = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            value = raw.strip()
        parsed[key.strip()] = value
    return parsed


def agent_config(factory: Any, values: Mapping[str, Any], agent_id: str) -> Any:
    """What an agent is built with: its ``Config`` from ``defaults`` under ``values``.

    ``values`` is the run's resolved mapping (what identifies the run); ``factory`` is the agent
    class, whose optional ``defaults`` (the memory part and sizes of a registered id) lie under
    it. A factory without ``Config`` gets ``values`` as a plain dict.
    """
    config_cls = getattr(factory, "Config", None)
    if config_cls is None:
        return dict(values)
    defaults: Mapping[str, Any] = getattr(factory, "defaults", None) or {}
    return build_config(config_cls, {**defaults, **values}, agent_id)


def build_config(cls: type[T], values: Mapping[str, Any], agent_id: str) -> T:
    """Build the frozen config dataclass ``cls`` from ``values``, checking names and types."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown hyperparameter(s) {', '.join(unknown)} for agent {agent_id!r}; "
            f"valid: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    converted = {
        name: _coerce(value, hints[name], name, agent_id) for name, value in values.items()
    }
    config = cls(**converted)
    for name in fields:
        _check_range(cls, name, getattr(config, name), agent_id)
    return config


def _range_of(cls: type, name: str) -> Range | None:
    """The field's declared range, looked up the MRO (a subclass may change only a default)."""
    for klass in cls.__mro__:
        found = getattr(klass, "__dataclass_fields__", {}).get(name)
        if found is not None and RANGE_KEY in found.metadata:
            declared: Range = found.metadata[RANGE_KEY]
            return declared
    return None


def _check_range(cls: type, name: str, value: Any, agent_id: str) -> None:
    allowed = _range_of(cls, name)
    if allowed is None or value is None:
        return
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if isinstance(item, (int, float)) and not allowed.contains(item):
            shown = f"{value!r}" if item is value else f"{value!r} (element {item!r})"
            raise ConfigError(
                f"hyperparameter {name}={shown} of agent {agent_id!r} is out of range: it must "
                f"be {allowed.describe()} (fix --set {name}=... or the agent's config file)"
            )


def _coerce(value: Any, hint: Any, name: str, agent_id: str) -> Any:
    """Accept ints for floats and lists for tuples; reject anything else of the wrong type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if option is type(None) and value is None:
                return None
        for option in args:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, name, agent_id)
            except ConfigError:
                continue
    elif origin is typing.Literal:
        if value in args:
            return value
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            item_type = args[0] if args else Any
            return tuple(_coerce(v, item_type, name, agent_id) for v in value)
    elif hint is Any:
        return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(
        f"hyperparameter {name}={value!r} of agent {agent_id!r} should be of type "
        f"{getattr(hint, '__name__', hint)}"
    )
