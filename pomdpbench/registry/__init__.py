"""Task and suite registry: specs, the TOML loader and registration with Gymnasium."""

from __future__ import annotations

from pathlib import Path

from pomdpbench.registry.loader import load_suite_file
from pomdpbench.registry.specs import (
    TIERS,
    ReferenceScore,
    SuiteSpec,
    TaskSpec,
    TierProtocol,
    split_version,
)
from pomdpbench.registry.tasks import (
    get_suite,
    get_task,
    list_suites,
    list_tasks,
    make_env,
    register_suite,
    register_task,
    resolve_tasks,
)

__all__ = [
    "TIERS",
    "ReferenceScore",
    "SuiteSpec",
    "TaskSpec",
    "TierProtocol",
    "get_suite",
    "get_task",
    "list_suites",
    "list_tasks",
    "load_suite_file",
    "make_env",
    "register_suite",
    "register_suite_file",
    "register_task",
    "resolve_tasks",
    "split_version",
]


def register_suite_file(path: Path) -> SuiteSpec:
    """Load a suite TOML file and register its tasks and the suite itself."""
    suite, tasks = load_suite_file(path)
    for task in tasks:
        register_task(task)
    return register_suite(suite)
