"""From a suite's stored runs to one (runs x tasks) matrix of normalized scores per agent.

rliable takes, for each method, a matrix of ``num_runs x num_tasks`` (rliable/library.py,
``get_interval_estimates``). Building it honestly takes a few rules, all applied here:

* only finished runs count; running, failed and interrupted runs are named in a note;
* the columns are the tasks of the suite's current definition (task ids carry their version,
  so runs of another task version never mix in) that have both reference scores here;
* an agent lacking a finished run on any of those tasks is *incomplete*: it is listed with its
  coverage but gets no aggregate, rather than an average over the tasks it happened to run;
* an agent with different numbers of runs per task keeps, on every task, the runs with the
  lowest seeds up to the smallest count (rliable needs a rectangular matrix); what was left
  out is counted and shown. Different agents may have different numbers of runs;
* an agent run under several versions becomes one entry per version;
* hyperparameters may differ between tasks by design (``baselines/<agent>/<suite>.toml`` has
  per-task sections), so the config is compared per task: where one task has runs under
  several configs (``--set`` overrides), the config with the most runs on that task is used
  (ties: the one run last) and the other runs are counted as left out, never pooled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pomdpbench.errors import UnknownIdError
from pomdpbench.record.vocabulary import NOT_FINISHED, RunStatus
from pomdpbench.registry import get_suite
from pomdpbench.stats.normalize import normalize_scores, task_norm


@dataclass(frozen=True)
class EntryScores:
    """One leaderboard entry (an agent at one version and config) on one suite and tier."""

    label: str
    agent: str
    agent_version: str
    runs_per_task: Mapping[str, int]
    """Finished runs per aggregated task, before balancing."""
    missing: tuple[str, ...]
    """Aggregated tasks without a finished run (non-empty means incomplete)."""
    matrix: np.ndarray | None
    """Normalized scores, shape (runs, tasks) in the order of ``SuiteScores.tasks``."""
    left_out: int
    """Finished runs not used because other tasks of this entry have fewer runs."""
    other_configs: int
    """Finished runs not used because their task has more runs under another config."""
    run_ids: np.ndarray | None
    """Ids of the runs behind each cell of ``matrix`` (same shape)."""
    task_versions: tuple[int, ...]

    @property
    def complete(self) -> bool:
        """True when the entry has runs on every aggregated task."""
        return self.matrix is not None

    @property
    def runs_used(self) -> int:
        """Runs that enter the statistics."""
        return 0 if self.matrix is None else int(self.matrix.size)


@dataclass(frozen=True)
class SuiteScores:
    """The score matrices of every entry of a suite and tier, and what was left out."""

    suite: str
    tier: str
    tasks: tuple[str, ...]
    """The aggregated tasks (columns of every matrix)."""
    suite_tasks: tuple[str, ...]
    """Every task the suite defines (or, for an unregistered suite, that its runs name)."""
    entries: Mapping[str, EntryScores]
    finished: pd.DataFrame
    """Finished runs with a ``normalized`` column (NaN where a task cannot be normalized)."""
    notes: tuple[str, ...] = field(default=())

    def matrices(self, labels: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Matrices of the complete entries (all of them, or those named)."""
        chosen = self.entries.keys() if labels is None else labels
        out: dict[str, np.ndarray] = {}
        for label in chosen:
            matrix = self.entries[label].matrix
            if matrix is not None:
                out[label] = matrix
        return out


def suite_task_ids(suite: str, runs: pd.DataFrame) -> tuple[tuple[str, ...], str | None]:
    """The suite's tasks from the registry, or from the runs if the suite is unknown here."""
    try:
        return tuple(get_suite(suite).tasks), None
    except UnknownIdError:
        seen = tuple(sorted(pd.unique(runs["task"]))) if len(runs) else ()
        return seen, (
            f"suite {suite} is not registered in this installation: its tasks are taken from "
            "the stored runs and none of them can be normalized here"
        )


def status_note(runs: pd.DataFrame) -> str | None:
    """A sentence on runs that are stored but not counted, or None if all finished."""
    counts = runs["status"].value_counts()
    parts = [f"{int(counts[s])} {s}" for s in NOT_FINISHED if s in counts and counts[s] > 0]
    if not parts:
        return None
    return f"{', '.join(parts)} run(s) are not counted: statistics use finished runs only"


def entry_label(agent: str, version: str, several: bool) -> str:
    """The agent id, qualified by its version only when the agent has runs of several."""
    return f"{agent} (v{version})" if several else agent


def build_suite_scores(
    runs: pd.DataFrame, suite: str, tier: str, tasks: Sequence[str] | None = None
) -> SuiteScores:
    """Group the runs of one suite and tier into per-entry normalized score matrices.

    Args:
        runs: rows of :func:`pomdpbench.store.queries.suite_runs` (any status).
        suite: the suite id.
        tier: the budget tier.
        tasks: aggregate over these tasks only (default: every task of the suite).
    """
    notes: list[str] = []
    suite_tasks, suite_note = suite_task_ids(suite, runs)
    if suite_note:
        notes.append(suite_note)
    note = status_note(runs) if len(runs) else None
    if note:
        notes.append(note)
    finished = runs[(runs["status"] == RunStatus.FINISHED) & runs["final_score"].notna()].copy()
    finished["normalized"] = normalize_scores(finished["final_score"], finished["task"])
    finished["label"] = label_runs(finished)
    stray = sorted(set(finished["task"]) - set(suite_tasks))
    if stray:
        notes.append(
            f"runs of {', '.join(stray)} are left out: not in the suite's current definition "
            "(another task version, or a task the suite no longer lists)"
        )
    chosen = [t for t in suite_tasks if tasks is None or t in tasks]
    aggregated = []
    for task_id in chosen:
        norm = task_norm(task_id)
        if norm.ok:
            aggregated.append(task_id)
        elif suite_note is None:  # for an unknown suite, its note already says why
            notes.append(norm.problem or "")
    if tasks is not None and len(chosen) < len(suite_tasks):
        notes.append(
            f"aggregated over {len(aggregated)} chosen task(s) of the suite's {len(suite_tasks)}"
        )
    entries = _entries(finished, tuple(aggregated))
    return SuiteScores(
        suite=suite,
        tier=tier,
        tasks=tuple(aggregated),
        suite_tasks=suite_tasks,
        entries=entries,
        finished=finished,
        notes=tuple(n for n in notes if n),
    )


def _entries(finished: pd.DataFrame, tasks: tuple[str, ...]) -> dict[str, EntryScores]:
    entries: dict[str, EntryScores] = {}
    for label, group in finished.groupby("label", sort=True):
        first = group.iloc[0]
        entries[str(label)] = _entry(
            str(label), first["agent"], first["agent_version"], group, tasks
        )
    return entries


def label_runs(runs: pd.DataFrame) -> pd.Series:
    """The entry label of each run (see :func:`entry_label`)."""
    keys = ["agent", "agent_version"]
    if runs.empty:
        return pd.Series([], index=runs.index, dtype=str, name="label")
    per_agent = runs.drop_duplicates(keys)["agent"].value_counts()
    return pd.Series(
        [entry_label(a, v, bool(per_agent[a] > 1)) for a, v in runs[keys].itertuples(False)],
        index=runs.index,
        name="label",
    )


def _entry(
    label: str, agent: str, version: str, runs: pd.DataFrame, tasks: tuple[str, ...]
) -> EntryScores:
    in_suite, other_configs = _one_config_per_task(runs[runs["task"].isin(tasks)])
    counts = {t: int((in_suite["task"] == t).sum()) for t in tasks}
    missing = tuple(t for t in tasks if counts[t] == 0)
    matrix: np.ndarray | None = None
    run_ids: np.ndarray | None = None
    left_out = 0
    if tasks and not missing:
        n = min(counts.values())
        chosen = [
            in_suite[in_suite["task"] == task_id].sort_values(["seed", "run_id"]).iloc[:n]
            for task_id in tasks
        ]
        matrix = np.stack([c["normalized"].to_numpy(dtype=np.float64) for c in chosen], axis=1)
        run_ids = np.stack([c["run_id"].to_numpy(dtype=np.int64) for c in chosen], axis=1)
        left_out = sum(counts.values()) - n * len(tasks)
    return EntryScores(
        label=label,
        agent=agent,
        agent_version=str(version),
        runs_per_task=counts,
        missing=missing,
        matrix=matrix,
        left_out=left_out,
        other_configs=other_configs,
        run_ids=run_ids,
        task_versions=tuple(sorted({int(v) for v in in_suite["task_version"]})),
    )


def _one_config_per_task(runs: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep, per task, the runs of the config with the most runs (ties: the latest run)."""
    kept = []
    for _, task_runs in runs.groupby("task", sort=False):
        by_config = task_runs.groupby("config_hash")["run_id"].agg(["count", "max"])
        best = by_config.sort_values(["count", "max"], ascending=False).index[0]
        kept.append(task_runs[task_runs["config_hash"] == best])
    if not kept:
        return runs, 0
    chosen = pd.concat(kept)
    return chosen, len(runs) - len(chosen)
