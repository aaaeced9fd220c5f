"""One suite and tier as the leaderboard and the report show it: tables and messages.

The Streamlit app and ``pomdpbench report`` both build a :class:`Board` from the same runs, so
the page and the files show the same numbers (same bootstrap seed, same replications). Every
situation without numbers (an empty database, a suite without runs, runs still running, an
incomplete agent) becomes a sentence in :attr:`Board.messages`, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry.specs import TIERS
from pomdpbench.stats.aggregate import (
    DEFAULT_REPS,
    DEFAULT_SEED,
    METRIC_NAMES,
    Interval,
    aggregates,
    interval_estimates,
)
from pomdpbench.stats.scores import EntryScores, SuiteScores, build_suite_scores

TIER_ORDER = (*TIERS, Tier.CUSTOM)
FEW_RUNS = 3
"""Below this many runs per task an entry's interval gets a warning."""
HEADLINE_COLUMNS = [
    "agent",
    "IQM",
    "IQM low",
    "IQM high",
    "median",
    "mean",
    "optimality gap",
    "runs",
    "tasks covered",
    "task versions",
    "agent version",
    "status",
]
NO_RUNS_AT_ALL = (
    "The database holds no runs yet: start one with "
    "`pomdpbench run --agent random --suite sanity --budget smoke`."
)


def no_runs_message(suite: str, tier: str) -> str:
    """The sentence for a suite and tier without any stored run."""
    return (
        f"No runs of suite {suite} in tier {tier} yet: start one with "
        f"`pomdpbench run --agent random --suite {suite} --budget {tier}`."
    )


def tiers_with_runs(counts: pd.DataFrame, suite: str) -> list[str]:
    """Tiers of ``suite`` that have runs, full first (the papers' budgets), then short, smoke."""
    present = set(counts.loc[counts["suite"] == suite, "tier"])
    ordered = [t for t in TIER_ORDER if t in present]
    return ordered + sorted(present - set(ordered))


@dataclass(frozen=True)
class Board:
    """Headline table and messages of one suite and tier."""

    suite: str
    tier: str
    scores: SuiteScores
    intervals: dict[str, dict[str, Interval]]
    """The IQM interval of each complete entry (:func:`all_intervals` has all four)."""
    headline: pd.DataFrame
    messages: tuple[str, ...]
    reps: int
    seed: int

    def all_intervals(self) -> dict[str, dict[str, Interval]]:
        """IQM, median, mean and optimality gap with intervals (for the interval plot)."""
        matrices = self.scores.matrices(self.complete_labels)
        return interval_estimates(matrices, reps=self.reps, seed=self.seed)

    @property
    def complete_labels(self) -> list[str]:
        """Entries in the headline that have an aggregate, best IQM first."""
        rows = self.headline[self.headline["status"] == "complete"]
        return [str(label) for label in rows["agent"]]


def build_board(
    runs: pd.DataFrame,
    suite: str,
    tier: str,
    agents: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
) -> Board:
    """Score matrices, intervals and the headline table of the chosen entries.

    Args:
        runs: every run of the suite and tier (:func:`pomdpbench.store.queries.suite_runs`).
        suite: the suite id.
        tier: the budget tier.
        agents: entry labels to show (default: all).
        tasks: aggregate over these tasks only (default: the whole suite).
        reps: bootstrap replications.
        seed: bootstrap seed (the same data and seed give the same intervals).
    """
    scores = build_suite_scores(runs, suite, tier, tasks)
    messages = list(scores.notes)
    if runs.empty:
        messages.insert(0, no_runs_message(suite, tier))
    elif scores.finished.empty:
        messages.insert(0, f"No run of suite {suite} in tier {tier} has finished yet.")
    if not scores.tasks and not scores.finished.empty:
        messages.append("No task of this suite can be normalized here, so there is no aggregate.")
    chosen = [label for label in scores.entries if agents is None or label in agents]
    entries = [scores.entries[label] for label in chosen]
    incomplete = [e for e in entries if not e.complete and scores.tasks]
    if incomplete:
        messages.append(
            "Incomplete (no aggregate, never averaged over a subset): "
            + "; ".join(f"{e.label} lacks {', '.join(e.missing)}" for e in incomplete)
        )
    few = [e for e in entries if e.matrix is not None and e.matrix.shape[0] < FEW_RUNS]
    if few:
        messages.append(
            f"Fewer than {FEW_RUNS} runs per task, so the intervals say little about "
            "seed-to-seed variation (with one run they have zero width): "
            + "; ".join(f"{e.label} has {e.matrix.shape[0]}" for e in few if e.matrix is not None)
        )
    mixed = [e for e in entries if e.other_configs]
    if mixed:
        messages.append(
            "Runs under a second config of the same task (changed hyperparameters) are not "
            "pooled; the config with the most runs is used: "
            + "; ".join(f"{e.label} leaves out {e.other_configs}" for e in mixed)
        )
    balanced = [e for e in entries if e.left_out]
    if balanced:
        messages.append(
            "Runs per task differ, so the runs with the lowest seeds are used on every task: "
            + "; ".join(f"{e.label} leaves out {e.left_out}" for e in balanced)
        )
    matrices = scores.matrices(chosen)
    # the headline needs the IQM interval only; the others are point estimates here and get
    # their intervals in the interval plot (all_intervals), from the same resampled indices
    intervals = interval_estimates(matrices, reps=reps, seed=seed, names=("IQM",))
    points = {
        label: dict(zip(METRIC_NAMES, aggregates(m), strict=True)) for label, m in matrices.items()
    }
    headline = headline_table(entries, intervals, points, len(scores.tasks))
    return Board(suite, tier, scores, intervals, headline, tuple(messages), reps, seed)


def headline_table(
    entries: Sequence[EntryScores],
    intervals: dict[str, dict[str, Interval]],
    points: dict[str, dict[str, float]],
    n_tasks: int,
) -> pd.DataFrame:
    """One row per entry: aggregates with the IQM interval, coverage, versions, status."""
    rows = []
    for entry in entries:
        found = intervals.get(entry.label)
        covered = n_tasks - len(entry.missing)
        point = {name: points[entry.label][name] if found else np.nan for name in METRIC_NAMES}
        rows.append(
            {
                "agent": entry.label,
                "IQM": point["IQM"],
                "IQM low": found["IQM"].lower if found else np.nan,
                "IQM high": found["IQM"].upper if found else np.nan,
                "median": point["Median"],
                "mean": point["Mean"],
                "optimality gap": point["Optimality gap"],
                "runs": entry.runs_used if found else sum(entry.runs_per_task.values()),
                "tasks covered": f"{covered}/{n_tasks}",
                "task versions": ", ".join(f"v{v}" for v in entry.task_versions) or "-",
                "agent version": entry.agent_version,
                "status": "complete" if found else _status(entry, n_tasks),
            }
        )
    table = pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
    order = table.assign(_done=table["status"] != "complete").sort_values(
        ["_done", "IQM", "agent"], ascending=[True, False, True]
    )
    return order.drop(columns="_done").reset_index(drop=True)


def _status(entry: EntryScores, n_tasks: int) -> str:
    if n_tasks == 0:
        return "no normalizable task"
    return f"incomplete: lacks {', '.join(entry.missing)}"


def task_table(
    finished: pd.DataFrame, task_id: str, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per entry on one task: runs, mean raw score, its standard error, mean normalized score.

    The normalized column is NaN where the task has no reference scores here.
    """
    rows = finished[finished["task"] == task_id]
    if labels is not None:
        rows = rows[rows["label"].isin(labels)]
    columns = ["task", "agent", "runs", "score", "stderr", "normalized", "metric"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby("label", sort=True)
    table = grouped.agg(
        runs=("run_id", "count"),
        score=("final_score", "mean"),
        std=("final_score", "std"),
        normalized=("normalized", "mean"),
        metric=("metric", "first"),
    ).reset_index()
    table["stderr"] = table["std"] / np.sqrt(table["runs"])
    table = table.rename(columns={"label": "agent"}).assign(task=task_id)
    return table[columns].sort_values("score", ascending=False).reset_index(drop=True)


def per_task_table(scores: SuiteScores, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`task_table` of every task of the suite, one after the other."""
    tables = [task_table(scores.finished, t, labels) for t in scores.suite_tasks]
    tables = [t for t in tables if not t.empty]
    if not tables:
        return task_table(scores.finished, "", labels)
    return pd.concat(tables, ignore_index=True)
