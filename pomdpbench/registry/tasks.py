"""The task and suite registry: the one place that knows which tasks exist.

``register_task`` registers a :class:`TaskSpec` here and with Gymnasium, so
``gymnasium.make(spec.id)`` works. Duplicate ids are an error (Gymnasium only warns), and an
unknown id gets "did you mean" suggestions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gymnasium

from pomdpbench.errors import ConfigError, UnknownIdError
from pomdpbench.registry.specs import TIERS, SuiteSpec, TaskSpec

_TASKS: dict[str, TaskSpec] = {}
_SUITES: dict[str, SuiteSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Register ``spec`` with pomdpbench and Gymnasium.

    Raises:
        ConfigError: if the id is already registered (by pomdpbench or Gymnasium).
    """
    if spec.id in _TASKS or spec.id in gymnasium.registry:
        raise ConfigError(f"task id {spec.id!r} is already registered: give the new task a new id")
    missing = [tier for tier in TIERS if tier not in spec.tiers]
    if missing:
        raise ConfigError(f"task {spec.id!r} has no protocol for tier(s) {', '.join(missing)}")
    gymnasium.register(
        id=spec.id,
        entry_point=spec.entry_point,
        max_episode_steps=spec.max_episode_steps,
        kwargs=dict(spec.kwargs),
    )
    _TASKS[spec.id] = spec
    return spec


def register_suite(suite: SuiteSpec) -> SuiteSpec:
    """Register a suite whose tasks are already registered."""
    if suite.id in _SUITES:
        raise ConfigError(f"suite {suite.id!r} is already registered: give the new suite a new id")
    for task_id in suite.tasks:
        if task_id not in _TASKS:
            raise ConfigError(f"suite {suite.id!r} names unregistered task {task_id!r}")
    _SUITES[suite.id] = suite
    return suite


def get_task(task_id: str) -> TaskSpec:
    """The spec of ``task_id``; raises :class:`UnknownIdError` with suggestions."""
    try:
        return _TASKS[task_id]
    except KeyError:
        raise UnknownIdError("task", task_id, _TASKS) from None


def get_suite(suite_id: str) -> SuiteSpec:
    """The spec of ``suite_id``; raises :class:`UnknownIdError` with suggestions."""
    try:
        return _SUITES[suite_id]
    except KeyError:
        raise UnknownIdError("suite", suite_id, _SUITES) from None


def list_tasks(suite: str | None = None) -> list[TaskSpec]:
    """All registered tasks, or those of one suite, in suite order."""
    if suite is None:
        return list(_TASKS.values())
    return [_TASKS[task_id] for task_id in get_suite(suite).tasks]


def list_suites() -> list[SuiteSpec]:
    """All registered suites."""
    return list(_SUITES.values())


def make_env(task_id: str, **kwargs: Any) -> gymnasium.Env[Any, Any]:
    """Build a task's environment (``gymnasium.make`` with the registered time limit)."""
    get_task(task_id)
    return gymnasium.make(task_id, **kwargs)


def resolve_tasks(task_ids: Iterable[str]) -> list[TaskSpec]:
    """Look up several task ids at once, failing on the first unknown one."""
    return [get_task(task_id) for task_id in task_ids]
