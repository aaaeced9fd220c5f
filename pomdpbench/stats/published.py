"""The published figures as leaderboards, with this project's runs beside them.

A results database holds, from the day it is created, the figures RESeL's paper reports
(Table 4: classic at 1.5M steps; Table 5: gravity at 2M; Table 6: mdp at 300k, 1M and 5M,
whose 5M column is Table 1). This module turns them into one leaderboard per suite and
published step: per task the published mean ± standard error, normalized with the same fixed
reference scores as this project's runs, and their mean over the suite's tasks.

The papers publish per-task means and standard errors, not per-run scores, so there is no
bootstrap here: an entry's aggregate is the mean of its per-task normalized means, and its
standard error ``sqrt(sum se_t^2) / n_tasks`` treats the tasks as independent. This project's
runs (kind ``here``) get the same treatment so both sit in one table: at a step the suite
scores at (``score_at``) from their curves, and in the table of the suite's final step from
their final scores, whatever their budget (labelled with tier and steps, so a smoke run lands
beside the papers' figures without passing for a full one). These rows never enter the
bootstrap statistics of the other views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.registry import get_suite
from pomdpbench.stats.intermediate import step_label
from pomdpbench.stats.normalize import normalize_one
from pomdpbench.stats.reported import here_environment, reported_for_task

LONG_COLUMNS = [
    "kind",
    "agent",
    "task",
    "reported_as",
    "step",
    "mean",
    "stderr",
    "runs",
    "normalized",
    "normalized_stderr",
    "source",
]
AGGREGATE = "normalized mean"


@dataclass(frozen=True)
class PublishedTable:
    """One suite's leaderboard at one published step."""

    suite: str
    step: int
    title: str
    long: pd.DataFrame
    """One row per entry and task (columns :data:`LONG_COLUMNS`)."""
    table: pd.DataFrame
    """One row per entry: kind, agent, normalized mean ± se, tasks, then ``mean ± se`` per task."""
    environments: pd.DataFrame
    """Per task: the paper's id and environment, and this project's task and simulator."""


def published_steps(reported: pd.DataFrame) -> list[int]:
    """The steps a suite's figures were published at, the last (the final score) first."""
    return sorted({int(s) for s in reported["env_steps"]}, reverse=True) if len(reported) else []


def here_rows(
    finished: pd.DataFrame, scores_at: pd.DataFrame, step: int, final_step: int
) -> pd.DataFrame:
    """This project's entries at ``step``, one row per entry (label and tier) and task.

    Args:
        finished: finished runs with ``label``, ``tier``, ``task``, ``final_score`` and
            ``budget_steps`` (any tiers).
        scores_at: :func:`pomdpbench.stats.intermediate.run_scores_at` of those runs.
        step: the published step of the table.
        final_step: the suite's last published step (where final scores are shown).
    """
    rows: list[dict[str, object]] = []
    if finished.empty:
        return pd.DataFrame(rows, columns=["agent", "task", "step", "mean", "stderr", "runs"])
    at = scores_at[scores_at["step"] == step].set_index("run_id")["score"]
    for (label, tier, task), group in finished.groupby(["label", "tier", "task"], sort=True):
        budgets = sorted({int(b) for b in group["budget_steps"]})
        if step == final_step:
            values = group["final_score"].astype(float)
            steps = "/".join(f"{b:,}" for b in budgets)
        else:
            values = at.reindex(group["run_id"]).dropna().astype(float)
            steps = f"{step:,}"
        if values.empty:
            continue
        n = len(values)
        stderr = float(values.std(ddof=1)) / np.sqrt(n) if n > 1 else np.nan
        rows.append(
            {
                "agent": f"{label} · {tier} ({steps} steps)",
                "task": str(task),
                "step": step,
                "mean": float(values.mean()),
                "stderr": stderr,
                "runs": n,
            }
        )
    return pd.DataFrame(rows)


def published_table(
    reported: pd.DataFrame,
    suite: str,
    step: int,
    here: pd.DataFrame | None = None,
    task_ids: Sequence[str] | None = None,
) -> PublishedTable:
    """The leaderboard of ``suite`` at ``step`` from its reported figures and ``here`` rows.

    Args:
        reported: the suite's reported figures (``store.reported.reported_for_suite``).
        suite: the suite id.
        step: one of :func:`published_steps`.
        here: :func:`here_rows` for this step (none: the published figures alone).
        task_ids: the suite's tasks (default: from the registry).
    """
    tasks = list(task_ids) if task_ids is not None else list(get_suite(suite).tasks)
    at_step = reported[reported["env_steps"] == step]
    rows: list[dict[str, object]] = []
    environments: list[dict[str, str]] = []
    sources: set[str] = set()
    for task_id in tasks:
        matched = reported_for_task(at_step, task_id)
        if matched.empty:
            continue
        first = matched.iloc[0]
        environments.append(
            {
                "task": task_id,
                "reported as": str(first["task"]),
                "paper ran on": str(first["environment"]),
                "runs here on": here_environment(task_id, _installed(task_id)),
            }
        )
        for r in matched.itertuples(index=False):
            sources.add(str(r.source))
            stderr = np.nan if r.stderr is None or pd.isna(r.stderr) else float(r.stderr)
            rows.append(
                _row(
                    "reported",
                    str(r.agent),
                    task_id,
                    str(r.task),
                    step,
                    float(r.mean),
                    stderr,
                    r.n_seeds,
                    str(r.source),
                )
            )
        if here is not None and not here.empty:
            for h in here[here["task"] == task_id].itertuples(index=False):
                rows.append(
                    _row(
                        "here",
                        str(h.agent),
                        task_id,
                        str(first["task"]),
                        step,
                        float(h.mean),
                        float(h.stderr),
                        h.runs,
                        "this database",
                    )
                )
    long = pd.DataFrame(rows, columns=LONG_COLUMNS)
    covered = [t for t in tasks if t in set(long["task"])]
    title = f"{'; '.join(sorted(sources)) or 'no reported figures'} · {step_label(step)} steps"
    return PublishedTable(
        suite, step, title, long, _wide(long, covered), pd.DataFrame(environments)
    )


def suite_published(
    reported: pd.DataFrame,
    suite: str,
    runs: pd.DataFrame,
    evaluations: pd.DataFrame,
) -> list[PublishedTable]:
    """Every published table of ``suite``, final step first, with this project's runs in them.

    Args:
        reported: the suite's reported figures.
        suite: the suite id.
        runs: the suite's runs of any tiers and statuses (``store.queries.suite_runs`` per tier).
        evaluations: their evaluation points (for the scores at intermediate steps).
    """
    from pomdpbench.stats.intermediate import run_scores_at
    from pomdpbench.stats.scores import label_runs

    steps = published_steps(reported)
    finished = runs[(runs["status"] == RunStatus.FINISHED) & runs["final_score"].notna()].copy()
    finished["label"] = label_runs(finished)
    scores = run_scores_at(finished, evaluations)
    return [
        published_table(reported, suite, step, here_rows(finished, scores, step, steps[0]))
        for step in steps
    ]


def _installed(task_id: str) -> list[str]:
    """The installed version of the task's simulator package (what a run here would use)."""
    from importlib.metadata import PackageNotFoundError, version

    from pomdpbench.errors import UnknownIdError
    from pomdpbench.registry import get_task

    try:
        return [version(get_task(task_id).simulator_package)]
    except (UnknownIdError, PackageNotFoundError):
        return []


def _row(
    kind: str,
    agent: str,
    task: str,
    reported_as: str,
    step: int,
    mean: float,
    stderr: float,
    runs: object,
    source: str,
) -> dict[str, object]:
    normalized = normalize_one(task, mean)
    upper = normalize_one(task, mean + stderr) if np.isfinite(stderr) else None
    return {
        "kind": kind,
        "agent": agent,
        "task": task,
        "reported_as": reported_as,
        "step": step,
        "mean": mean,
        "stderr": stderr,
        "runs": runs,
        "normalized": np.nan if normalized is None else normalized,
        "normalized_stderr": np.nan
        if upper is None or normalized is None
        else abs(upper - normalized),
        "source": source,
    }


def aggregate(long: pd.DataFrame, tasks: Sequence[str]) -> pd.DataFrame:
    """Per entry: mean of the per-task normalized means and its standard error (module doc).

    An entry lacking a task, or a task without references here, gets no aggregate (NaN), as
    the bootstrap statistics never average over a subset of a suite.
    """
    out = []
    for (kind, agent), group in long.groupby(["kind", "agent"], sort=False):
        values = group.set_index("task")["normalized"].reindex(list(tasks))
        errors = group.set_index("task")["normalized_stderr"].reindex(list(tasks))
        complete = bool(len(tasks)) and bool(values.notna().all())
        mean = float(values.mean()) if complete else np.nan
        stderr = float(np.sqrt((errors**2).sum())) / len(tasks) if complete else np.nan
        if complete and errors.isna().any():
            stderr = np.nan  # one task without a published error: no error for the mean
        out.append(
            {
                "kind": kind,
                "agent": agent,
                AGGREGATE: mean,
                "se": stderr,
                "tasks": f"{int(group['task'].nunique())}/{len(tasks)}",
            }
        )
    return pd.DataFrame(out, columns=["kind", "agent", AGGREGATE, "se", "tasks"])


def _wide(long: pd.DataFrame, tasks: list[str]) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame(columns=["kind", "agent", AGGREGATE, "tasks"])
    summary = aggregate(long, tasks)
    summary[AGGREGATE] = [
        "-" if pd.isna(m) else (f"{m:.3f}" if pd.isna(s) else f"{m:.3f} ± {s:.3f}")
        for m, s in zip(summary[AGGREGATE], summary["se"], strict=True)
    ]
    cells = long.assign(
        cell=[_cell(m, s) for m, s in zip(long["mean"], long["stderr"], strict=True)]
    )
    per_task = cells.pivot_table(
        index=["kind", "agent"], columns="task", values="cell", aggfunc="first"
    ).reindex(columns=tasks)
    table = summary.drop(columns="se").merge(per_task.reset_index(), on=["kind", "agent"])
    order = aggregate(long, tasks)[AGGREGATE].fillna(-np.inf).to_numpy()
    table = table.iloc[np.argsort(-order, kind="stable")].reset_index(drop=True)
    return table.fillna("-")


def _cell(mean: float, stderr: float) -> str:
    if pd.isna(stderr):
        return f"{mean:,.0f}" if abs(mean) >= 10 else f"{mean:.3f}"
    return f"{mean:,.0f} ± {stderr:,.0f}" if abs(mean) >= 10 else f"{mean:.3f} ± {stderr:.3f}"
