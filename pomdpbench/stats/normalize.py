"""Normalized scores from each task's fixed reference scores.

normalized = (score - random) / (target - random), with the ``random`` and ``target``
references that the task's suite file fixes (SPEC §1; :meth:`TaskSpec.normalize`). The
references never come from the runs being compared: normalizing by the observed minimum and
maximum changes every score when an agent is added (the pitfall of Open RL Benchmark's
``maxmin``, reference/notes-leaderboards.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pomdpbench.errors import UnknownIdError
from pomdpbench.registry import get_task
from pomdpbench.registry.specs import TaskSpec


@dataclass(frozen=True)
class TaskNorm:
    """Whether a task's scores can be normalized here, and if not, why in words."""

    task: str
    spec: TaskSpec | None
    problem: str | None
    """None when the task is registered with both references; else the sentence to show."""

    @property
    def ok(self) -> bool:
        """True when scores of this task can be normalized."""
        return self.problem is None


def task_norm(task_id: str) -> TaskNorm:
    """Look the task up in this installation's registry and check its references."""
    try:
        spec = get_task(task_id)
    except UnknownIdError:
        return TaskNorm(
            task_id,
            None,
            f"task {task_id} is not registered in this installation (its suite file or plugin "
            "is missing), so it has no reference scores: its runs are shown raw and left out "
            "of normalized statistics",
        )
    missing = [name for name in ("random", "target") if name not in spec.references]
    if missing:
        return TaskNorm(
            task_id,
            spec,
            f"task {task_id} has no {' or '.join(missing)} reference score in its suite file: "
            "its runs are shown raw and left out of normalized statistics",
        )
    if spec.normalize(0.0) is None:
        return TaskNorm(
            task_id,
            spec,
            f"task {task_id} has equal random and target reference scores: it cannot be "
            "normalized and is left out of normalized statistics",
        )
    return TaskNorm(task_id, spec, None)


def normalize_scores(scores: pd.Series, tasks: pd.Series) -> pd.Series:
    """Normalized score of each run (NaN where its task cannot be normalized).

    Args:
        scores: raw final scores (return or success rate).
        tasks: the task id of each score, aligned with ``scores``.
    """
    out = np.full(len(scores), np.nan)
    raw = scores.to_numpy(dtype=np.float64)
    task_ids = tasks.to_numpy()
    for task_id in pd.unique(task_ids):
        norm = task_norm(str(task_id))
        if norm.spec is None or not norm.ok:
            continue
        mask = task_ids == task_id
        out[mask] = [norm.spec.normalize(float(value)) for value in raw[mask]]
    return pd.Series(out, index=scores.index, name="normalized")


def normalize_one(task_id: str, score: float) -> float | None:
    """Normalized value of one raw score, or None where the task has no references here."""
    norm = task_norm(task_id)
    return None if norm.spec is None or not norm.ok else norm.spec.normalize(score)
