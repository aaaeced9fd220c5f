"""Training stability: the agents' training metrics over training steps (RESeL Figs. 4-5).

RESeL (Luo et al., NeurIPS 2024, Sec. 5.1) shows why a context encoder at the other networks'
learning rate is unstable with two plots over training: the norm of the policy gradient
(Fig. 4) and the value-function loss (Fig. 5), which for the unstable setting oscillates and
diverges late in training. Every evaluation stores the agent's latest training metrics
(:func:`pomdpbench.store.train_metrics.suite_train_metrics`), so the same plots exist for every
run and every agent here, for any metric an agent reports.

Agents name the same quantity differently, so the two default plots are *roles* that take, per
agent, the first of their metric names that the agent reports: the gradient norm
(``policy_grad_norm`` of SAC, TD3 and RESeL, Fig. 4's policy gradient; ``grad_norm`` of PPO,
whose one optimizer steps policy and value together) and the value loss (``critic_loss`` of
SAC, TD3 and RESeL, ``value_loss`` of PPO). Any metric name can be chosen as well.

Per agent the curve is the mean over seeds at each evaluation step with a 95 %
percentile-bootstrap interval of that mean, as the learning curves
(:func:`pomdpbench.stats.curves.bootstrap_mean_interval`). Steps are aligned across seeds by
env step, never by position: a seed contributes at the steps it was evaluated at, and where
the seeds of one agent were evaluated on different schedules, at a step between two of its own
evaluations a seed contributes the metrics stored at its last evaluation before it (the stored
metrics are the latest as of an evaluation, so that is what they were at that step as far as
the store knows). A seed that has not reported yet (warm-up) does not contribute. NaN and
infinite values (a diverged loss) are counted in ``non_finite`` and left out of the mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pomdpbench.stats.curves import CURVE_REPS, bootstrap_mean_interval
from pomdpbench.stats.scores import _one_config_per_task

ROLES: dict[str, tuple[str, ...]] = {
    "gradient norm": ("policy_grad_norm", "grad_norm"),
    "value loss": ("critic_loss", "value_loss"),
}
"""The default plots (RESeL Figs. 4 and 5) and the metric names that fill them, in order."""
CURVE_COLUMNS = ["label", "metric", "env_step", "mean", "lower", "upper", "seeds", "non_finite"]
RUN_COLUMNS = ["label", "run_id", "seed", "metric", "env_step", "value"]


def task_points(points: pd.DataFrame, finished: pd.DataFrame, task_id: str) -> pd.DataFrame:
    """The metric rows of one task's finished runs, with each run's label and seed.

    Of an entry with runs under several configs of the task, only those of the config the
    scores use (the one with the most runs, ties the latest) are kept, as in the statistics.

    Args:
        points: rows of :func:`pomdpbench.store.train_metrics.suite_train_metrics`.
        finished: finished runs with a ``label`` column (``SuiteScores.finished``).
        task_id: the task.
    """
    runs = finished[finished["task"] == task_id]
    if "config_hash" in runs.columns and not runs.empty:  # the runs the statistics use
        runs = pd.concat([_one_config_per_task(group)[0] for _, group in runs.groupby("label")])
    return points.merge(runs[["run_id", "label", "seed"]], on="run_id")


def metric_choices(points: pd.DataFrame) -> list[str]:
    """What can be plotted: the roles some run fills, then every metric name, sorted."""
    names = set(points["metric"])
    roles = [role for role, keys in ROLES.items() if names & set(keys)]
    return roles + sorted(names)


def default_choices(points: pd.DataFrame) -> list[str]:
    """The roles shown without asking (gradient norm, value loss) that some run fills."""
    return [c for c in metric_choices(points) if c in ROLES]


def metric_of(reported: set[str], choice: str) -> str | None:
    """The metric name that stands for ``choice`` among the ``reported`` names, or None."""
    keys = ROLES.get(choice, (choice,))
    return next((key for key in keys if key in reported), None)


def chosen_rows(points: pd.DataFrame, choice: str) -> pd.DataFrame:
    """Each label's rows of its metric for ``choice`` (the first of a role's names it has)."""
    parts = []
    for _, group in points.groupby("label", sort=True):
        key = metric_of(set(group["metric"]), choice)
        if key is not None:
            parts.append(group[group["metric"] == key])
    if not parts:
        return pd.DataFrame(columns=points.columns)
    return pd.concat(parts, ignore_index=True)


def run_series(points: pd.DataFrame, choice: str) -> pd.DataFrame:
    """Every run's own values of its metric for ``choice``: columns :data:`RUN_COLUMNS`."""
    rows = chosen_rows(points, choice)
    return rows[RUN_COLUMNS].sort_values(["label", "seed", "run_id", "env_step"], ignore_index=True)


def aligned_values(points: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``metric`` of each run (columns) at every step any of these runs was evaluated (rows).

    ``points`` are the rows of one label. A run's value at one of its own steps is what it
    stored there (NaN if it stored no ``metric`` there); at a step between two of its own, the
    value at its last own step before it; before its first report and after its last
    evaluation, NaN. Non-finite values stay as they are (inf) or become NaN (NaN); callers
    count them from :func:`nonfinite_mask`.
    """
    runs = sorted(set(points["run_id"]))
    own_steps = {r: np.array(sorted(set(g["env_step"]))) for r, g in points.groupby("run_id")}
    grid = np.array(sorted(set(points["env_step"])), dtype=np.int64)
    rows = points[points["metric"] == metric]
    out = pd.DataFrame(np.nan, index=grid, columns=runs)
    for run_id in runs:
        steps = own_steps[run_id]
        values = rows.loc[rows["run_id"] == run_id].drop_duplicates("env_step", keep="last")
        stored = pd.Series(values["value"].to_numpy(np.float64), index=values["env_step"])
        # the last own step at or before each grid step (-1: before the first report)
        last = np.searchsorted(steps, grid, side="right") - 1
        inside = (last >= 0) & (grid <= steps[-1])
        source = steps[np.clip(last, 0, None)]
        column = stored.reindex(source).to_numpy()
        out[run_id] = np.where(inside, column, np.nan)
    return out


def nonfinite_counts(points: pd.DataFrame, metric: str) -> pd.Series:
    """How many runs stored a NaN or infinite ``metric`` at each of their own steps."""
    rows = points[points["metric"] == metric]
    bad = rows[~np.isfinite(rows["value"].to_numpy(np.float64))]
    return bad.groupby("env_step")["run_id"].nunique()


def stability_curves(
    points: pd.DataFrame, choice: str, reps: int = CURVE_REPS, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """Mean over seeds with a 95 % bootstrap interval at each step, per label, for ``choice``.

    Args:
        points: rows of :func:`task_points` (one task).
        choice: a role of :data:`ROLES` or a metric name.
        reps: bootstrap replications per step.
        labels: only these labels (default: all).

    Returns:
        Columns :data:`CURVE_COLUMNS`: ``metric`` is the name that stands for ``choice`` for
        that label, ``seeds`` the runs with a finite value at the step, ``non_finite`` the runs
        whose own evaluation there stored NaN or infinity. Steps where no run has a finite
        value keep NaN mean and bounds, so a divergence shows as a gap, not as a dip.
    """
    rows = []
    for label, group in points.groupby("label", sort=True):
        if labels is not None and label not in labels:
            continue
        metric = metric_of(set(group["metric"]), choice)
        if metric is None:
            continue
        values = aligned_values(group, metric)
        bad = nonfinite_counts(group, metric)
        for step, row in values.iterrows():
            sample = row.to_numpy(np.float64)
            finite = sample[np.isfinite(sample)]
            lower, upper = bootstrap_mean_interval(finite, reps=reps, seed=int(step))
            mean = float(finite.mean()) if len(finite) else float("nan")
            rows.append(
                (label, metric, int(step), mean, lower, upper, len(finite), int(bad.get(step, 0)))
            )
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def missing_sentences(points: pd.DataFrame, labels: Sequence[str], choice: str) -> list[str]:
    """One sentence per label of ``labels`` that reports nothing standing for ``choice``."""
    sentences = []
    for label in labels:
        names = sorted(set(points.loc[points["label"] == label, "metric"]))
        if metric_of(set(names), choice) is not None:
            continue
        wanted = " or ".join(ROLES.get(choice, (choice,)))
        has = f"it reports {', '.join(names)}" if names else "it stored no training metrics"
        sentences.append(f"{label} reports no {choice} ({wanted}); {has}.")
    return sentences


def wants_log_scale(values: pd.Series) -> bool:
    """A log axis when every finite value is positive and they span two decades or more."""
    finite = values[np.isfinite(values.to_numpy(np.float64))]
    if finite.empty or (finite <= 0).any():
        return False
    return bool(finite.max() / finite.min() >= 100.0)


def all_curves(
    points: pd.DataFrame, finished: pd.DataFrame, reps: int = CURVE_REPS
) -> pd.DataFrame:
    """:func:`stability_curves` of every metric name of every task, with a ``task`` column."""
    tables = []
    for task_id in sorted(set(finished["task"])):
        here = task_points(points, finished, task_id)
        for name in sorted(set(here["metric"])):
            table = stability_curves(here, name, reps=reps)
            tables.append(table.assign(task=task_id))
    if not tables:
        return pd.DataFrame(columns=["task", *CURVE_COLUMNS])
    table = pd.concat(tables, ignore_index=True)
    return table[["task", *CURVE_COLUMNS]]
