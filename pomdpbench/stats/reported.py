"""Figures reported in papers beside reproduced runs: which task a figure belongs to.

The figures themselves (RESeL paper, Tables 4-6) are loaded into their own table by
:mod:`pomdpbench.store.reported`; this module works on the frames it returns. They are not
runs: they have no per-run scores, ran on older simulators, and so never enter the bootstrap
statistics. The leaderboard and the report show them per task, marked "reported", with the
environment the paper ran on next to the one this project's task runs on.

A reported row belongs to a task of this project when the suite is the same and either the
task's ``metadata.reported_as`` names the reported id, or both ids are equal once the
version suffix, case and punctuation are dropped (``Ant-gravity-v2`` ~ ``AntGravity-v0``).
"""

from __future__ import annotations

import re

import pandas as pd

from pomdpbench.errors import UnknownIdError
from pomdpbench.registry import get_task


def _base_name(task_id: str) -> str:
    return re.sub(r"[^a-z0-9]", "", re.sub(r"-v\d+$", "", task_id).lower())


def matches_task(reported_task: str, task_id: str) -> bool:
    """True when a reported figure's task is this project's ``task_id`` (see module doc)."""
    try:
        named = get_task(task_id).metadata.get("reported_as")
    except UnknownIdError:
        named = None
    if named is not None:
        return bool(named == reported_task)
    return _base_name(reported_task) == _base_name(task_id)


def here_environment(task_id: str, simulator_versions: list[str]) -> str:
    """The environment this project's task runs on, in words."""
    try:
        spec = get_task(task_id)
    except UnknownIdError:
        return f"{task_id} (not registered in this installation)"
    versions = ", ".join(simulator_versions) if simulator_versions else "version not recorded"
    return f"{task_id} on {spec.simulator} ({spec.simulator_package} {versions})"


def reported_for_task(
    reported: pd.DataFrame, task_id: str, simulator_versions: list[str] | None = None
) -> pd.DataFrame:
    """The reported figures of ``task_id``, each with the environment difference named."""
    if reported.empty:
        return reported.assign(here=pd.Series(dtype=str))
    rows = reported[[matches_task(str(t), task_id) for t in reported["task"]]].copy()
    rows["here"] = here_environment(task_id, simulator_versions or [])
    return rows.sort_values(["env_steps", "mean"], ascending=[True, False])
