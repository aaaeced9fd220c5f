"""pomdpbench: a benchmark suite and leaderboard for RL under partial observability.

Importing the package registers every shipped task with Gymnasium, so that after
``import pomdpbench`` a call such as ``gymnasium.make("CartPole-V-v0")`` works. Outside packages
add tasks through :func:`register_task` (or a suite file through :func:`register_suite_file`),
or from an entry point in the ``pomdpbench.tasks`` group whose target is called once at import.
Agents are registered in :mod:`pomdpbench.agents`; torch is imported only when an agent is built.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from pomdpbench.paths import tasks_dir
from pomdpbench.registry import (
    get_suite,
    get_task,
    list_suites,
    list_tasks,
    make_env,
    register_suite,
    register_suite_file,
    register_task,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "get_suite",
    "get_task",
    "list_suites",
    "list_tasks",
    "make_env",
    "register_suite",
    "register_suite_file",
    "register_task",
]


def _register_builtin_suites() -> None:
    for path in sorted(tasks_dir().glob("*.toml")):
        register_suite_file(path)


def _register_plugin_tasks() -> None:
    for entry in entry_points(group="pomdpbench.tasks"):
        try:
            entry.load()()
        except Exception as exc:  # a broken plugin must not break the benchmark
            warnings.warn(f"pomdpbench.tasks plugin {entry.name!r} failed: {exc}", stacklevel=2)


_register_builtin_suites()
_register_plugin_tasks()
