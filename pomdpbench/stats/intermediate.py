"""Scores at intermediate steps (``score_at``), derived from the stored evaluation curves.

A suite may score its runs at steps before the end of the budget as well (the mdp suite: at
300k and 1M steps, RESeL Table 6, besides the final score at 5M). Nothing extra is stored:
the score at step s is :func:`pomdpbench.record.scoring.score_at` of the run's curve (the mean
of the evaluations in the last ``final_fraction`` of the steps up to s), computed when read.
A run is scored at s only if its budget reaches s, so a smoke run has no 300k score rather
than its last evaluation passed off as one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pomdpbench.errors import UnknownIdError
from pomdpbench.record.scoring import score_at
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.registry import get_task

SCORE_COLUMNS = ["run_id", "task", "step", "score"]
STEP_COLUMNS = ["kind", "agent", "task", "step", "mean", "stderr", "runs", "source"]


def step_label(step: int) -> str:
    """``300000`` -> ``300k``, ``1000000`` -> ``1M``, ``1500000`` -> ``1.5M``."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if step >= size:
            return f"{step / size:g}{suffix}"
    return str(step)


def task_steps(task_id: str) -> tuple[tuple[int, ...], float]:
    """The task's ``score_at`` steps and final fraction (none for an unregistered task)."""
    try:
        task = get_task(task_id)
    except UnknownIdError:
        return (), 0.05
    return tuple(task.score_at), task.final_fraction


def run_scores_at(runs: pd.DataFrame, evaluations: pd.DataFrame) -> pd.DataFrame:
    """The score of every finished run at each of its task's ``score_at`` steps.

    Args:
        runs: rows with ``run_id``, ``task``, ``status``, ``metric``, ``budget_steps`` and
            ``env_steps`` (``store.queries.suite_runs``).
        evaluations: rows with ``run_id``, ``env_step``, ``mean_return``, ``success_rate``
            (``store.queries.suite_evaluations`` or ``evaluation_points``).

    Returns:
        One row per run and step (columns ``run_id, task, step, score``); steps beyond a run's
        budget or progress are left out.
    """
    rows: list[tuple[int, str, int, float]] = []
    if runs.empty or evaluations.empty:
        return pd.DataFrame(rows, columns=SCORE_COLUMNS)
    by_run = dict(tuple(evaluations.groupby("run_id", sort=False)))
    for run in runs.itertuples(index=False):
        steps, fraction = task_steps(str(run.task))
        reached = min(int(run.budget_steps), int(run.env_steps))
        wanted = [s for s in steps if s <= reached]
        curve = by_run.get(run.run_id)
        if run.status != RunStatus.FINISHED or not wanted or curve is None:
            continue
        column = "success_rate" if run.metric == "success" else "mean_return"
        points = [
            (int(s), float(v))
            for s, v in zip(curve["env_step"], curve[column], strict=True)
            if v is not None and not pd.isna(v)
        ]
        for step in wanted:
            value = score_at(points, step, fraction)
            if value is not None:
                rows.append((int(run.run_id), str(run.task), step, value))
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def _mean_stderr(values: pd.Series) -> tuple[float, float]:
    n = len(values)
    std = float(values.std(ddof=1)) if n > 1 else float("nan")
    return float(values.mean()), std / np.sqrt(n) if n > 1 else float("nan")


def task_step_table(
    finished: pd.DataFrame,
    scores_at: pd.DataFrame,
    reported: pd.DataFrame,
    task_id: str,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """This project's entries and the reported figures of one task at every scored step.

    The steps are the task's ``score_at`` steps and the end of each entry's budget (its final
    score); reported rows keep the steps they were published at (Table 6: 300k, 1M, 5M).
    Each row: kind (``here`` or ``reported``), agent, task, step, mean, standard error, runs.

    Args:
        finished: finished runs with ``label`` and ``final_score`` (``SuiteScores.finished``).
        scores_at: :func:`run_scores_at` of those runs.
        reported: the task's reported figures (:func:`pomdpbench.stats.reported.reported_for_task`).
        task_id: the task.
        labels: entries to include (default: all).
    """
    rows: list[dict[str, object]] = []
    mine = finished[finished["task"] == task_id]
    if labels is not None:
        mine = mine[mine["label"].isin(labels)]
    at = scores_at.merge(mine[["run_id", "label"]], on="run_id") if len(mine) else None
    for label, group in mine.groupby("label", sort=True):
        per_step = [(int(b), g["final_score"]) for b, g in group.groupby("budget_steps")]
        if at is not None:
            ours = at[at["label"] == label]
            per_step += [(int(s), g["score"]) for s, g in ours.groupby("step")]
        for step, values in per_step:
            mean, stderr = _mean_stderr(values.astype(float))
            rows.append(
                {
                    "kind": "here",
                    "agent": str(label),
                    "task": task_id,
                    "step": step,
                    "mean": mean,
                    "stderr": stderr,
                    "runs": len(values),
                    "source": "",
                }
            )
    for r in reported.itertuples(index=False):
        rows.append(
            {
                "kind": "reported",
                "agent": str(r.agent),
                "task": task_id,
                "step": int(r.env_steps),
                "mean": float(r.mean),
                "stderr": np.nan if r.stderr is None else float(r.stderr),
                "runs": r.n_seeds,
                "source": str(r.source),
            }
        )
    table = pd.DataFrame(rows, columns=STEP_COLUMNS)
    return table.sort_values(["kind", "agent", "step"]).reset_index(drop=True)


def wide_step_table(long: pd.DataFrame) -> pd.DataFrame:
    """:func:`task_step_table` as Table 6 prints it: one row per entry, ``mean ± se`` per step."""
    if long.empty:
        return pd.DataFrame(columns=["kind", "agent"])
    text = long.assign(
        cell=[_cell(m, s) for m, s in zip(long["mean"], long["stderr"], strict=True)]
    )
    wide = text.pivot_table(index=["kind", "agent"], columns="step", values="cell", aggfunc="first")
    wide = wide.reindex(columns=sorted(wide.columns))
    wide.columns = [f"at {step_label(int(s))}" for s in wide.columns]
    wide = wide.reset_index().fillna("-")
    order = wide["kind"].map({"here": 0, "reported": 1})
    return (
        wide.assign(_o=order).sort_values(["_o", "agent"]).drop(columns="_o").reset_index(drop=True)
    )


def _cell(mean: float, stderr: float) -> str:
    if pd.isna(stderr):
        return f"{mean:,.0f}" if abs(mean) >= 10 else f"{mean:.3f}"
    if abs(mean) >= 10:
        return f"{mean:,.0f} ± {stderr:,.0f}"
    return f"{mean:.3f} ± {stderr:.3f}"


def suite_step_tables(
    finished: pd.DataFrame,
    evaluations: pd.DataFrame,
    reported_rows: pd.DataFrame,
    task_ids: Sequence[str],
    labels: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`task_step_table` of every task that names ``score_at`` steps (others are left out).

    Args:
        finished: finished runs with ``label`` (``SuiteScores.finished``).
        evaluations: their evaluation points.
        reported_rows: the suite's reported figures (all tasks; matched per task here).
        task_ids: the suite's tasks.
        labels: entries to include (default: all).
    """
    from pomdpbench.stats.reported import reported_for_task

    scores = run_scores_at(finished, evaluations)
    tables: dict[str, pd.DataFrame] = {}
    for task_id in task_ids:
        if not task_steps(task_id)[0]:
            continue
        reported = reported_for_task(reported_rows, task_id)
        tables[task_id] = task_step_table(finished, scores, reported, task_id, labels)
    return tables
