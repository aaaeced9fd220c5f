"""Learning curves: per task across seeds, and suite-wide arrays for sample efficiency.

A run's curve is its stored evaluations: the mean return, or the success rate for tasks whose
metric is success. Per task, the leaderboard shows the mean across seeds at each evaluation
step with a 95 % percentile-bootstrap interval of that mean (as rliable's interval estimates):
with the two or three seeds of a smoke run a t-interval spans far outside what the metric can
take (-750 to 1,000 on CartPole's [0, 200]), while a resampled mean stays between the seeds'
lowest and highest values, so inside the metric's range; success rates are clipped to [0, 1]
as well. For the suite-wide
sample-efficiency curve (IQM of normalized score at each evaluation point, rliable's
``plot_sample_efficiency_curve`` input), tasks with different budgets are put on one axis by
interpolating every run's curve at the same fractions of its budget; when all tasks share a
budget that axis is simply env steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pomdpbench.stats.normalize import normalize_scores
from pomdpbench.stats.scores import SuiteScores

GRID_POINTS = 21
CURVE_REPS = 2000
"""Bootstrap resamples per evaluation step (rliable's examples use 2,000 and more)."""


def metric_values(evaluations: pd.DataFrame, metric: str) -> pd.Series:
    """The metric of each evaluation row: success rate for success tasks, else mean return."""
    column = "success_rate" if metric == "success" else "mean_return"
    return evaluations[column].astype(np.float64)


def task_curves(evaluations: pd.DataFrame, finished: pd.DataFrame, task_id: str) -> pd.DataFrame:
    """Mean and 95 % interval across seeds at each evaluation step, per entry, for one task.

    Args:
        evaluations: rows of :func:`pomdpbench.store.queries.suite_evaluations`.
        finished: finished runs with a ``label`` column (``SuiteScores.finished``).
        task_id: the task to draw.

    Returns:
        Columns label, env_step, mean, lower, upper, seeds.
    """
    runs = finished[finished["task"] == task_id][["run_id", "label", "metric"]]
    points = evaluations.merge(runs, on="run_id")
    if points.empty:
        return pd.DataFrame(columns=["label", "env_step", "mean", "lower", "upper", "seeds"])
    points = points.assign(value=metric_values(points, str(runs["metric"].iloc[0])))
    rows = []
    for (label, env_step), values in points.groupby(["label", "env_step"])["value"]:
        lower, upper = bootstrap_mean_interval(values.to_numpy(np.float64), seed=int(env_step))
        rows.append((label, int(env_step), float(values.mean()), lower, upper, len(values)))
    table = pd.DataFrame(rows, columns=["label", "env_step", "mean", "lower", "upper", "seeds"])
    if str(runs["metric"].iloc[0]) == "success":
        table[["lower", "upper"]] = table[["lower", "upper"]].clip(0.0, 1.0)
    return table


def bootstrap_mean_interval(
    values: np.ndarray, reps: int = CURVE_REPS, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values`` (seeded, so reproducible).

    >>> bootstrap_mean_interval(np.array([10.0, 200.0]))
    (10.0, 200.0)
    """
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    if len(finite) == 1:
        return float(finite[0]), float(finite[0])
    rng = np.random.default_rng(seed)
    means = finite[rng.integers(0, len(finite), size=(reps, len(finite)))].mean(axis=1)
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class CurveArrays:
    """Per-entry (runs x tasks x points) normalized scores on a common x axis."""

    x: np.ndarray
    x_label: str
    arrays: dict[str, np.ndarray]


def suite_curve_arrays(
    evaluations: pd.DataFrame, scores: SuiteScores, points: int = GRID_POINTS
) -> CurveArrays:
    """Normalized curves of the runs behind each complete entry's score matrix."""
    finished = scores.finished.set_index("run_id")
    budgets = finished.loc[finished["task"].isin(scores.tasks), "budget_steps"].unique()
    same_budget = len(budgets) == 1
    fractions = np.linspace(0.0, 1.0, points)
    by_run = {run_id: group for run_id, group in evaluations.groupby("run_id")}
    arrays: dict[str, np.ndarray] = {}
    for label, entry in scores.entries.items():
        if entry.run_ids is None:
            continue
        out = np.full((*entry.run_ids.shape, points), np.nan)
        for (r, t), run_id in np.ndenumerate(entry.run_ids):
            run = finished.loc[run_id]
            group = by_run.get(run_id)
            if group is None or group.empty:
                continue
            values = metric_values(group, str(run["metric"])).to_numpy()
            steps = group["env_step"].to_numpy(dtype=np.float64)
            raw = np.interp(fractions * float(run["budget_steps"]), steps, values)
            task = pd.Series([scores.tasks[t]] * points)
            out[r, t] = normalize_scores(pd.Series(raw), task).to_numpy()
        if not np.isnan(out).any():
            arrays[label] = out
    x = fractions * float(budgets[0]) if same_budget else fractions
    return CurveArrays(x, "env steps" if same_budget else "fraction of the budget", arrays)
