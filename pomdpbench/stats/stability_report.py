"""The training-stability part of ``pomdpbench report``: PNGs per task and the numbers as CSV.

For every task with finished runs, one figure per default role of
:data:`pomdpbench.stats.stability.ROLES` (gradient norm and value loss, RESeL Figs. 4-5):
``stability/<task>/gradient_norm.png`` and ``stability/<task>/value_loss.png``. An entry that
reports nothing for a role gets a sentence in the report instead of a line, as the other plots
that cannot be drawn do. ``stability.csv`` holds the mean and interval of every metric every
entry reports (not only the two drawn), ``stability_runs.csv`` every run's stored values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pomdpbench.stats import plots
from pomdpbench.stats.curves import CURVE_REPS
from pomdpbench.stats.stability import (
    ROLES,
    all_curves,
    missing_sentences,
    run_series,
    stability_curves,
    task_points,
)


def figure_name(task_id: str, role: str) -> str:
    """``stability/<task>/<role with underscores>.png``."""
    return f"stability/{task_id}/{role.replace(' ', '_')}.png"


def write_stability(
    points: pd.DataFrame,
    finished: pd.DataFrame,
    out: Path,
    save: Callable[[Any, Path], Path],
    tasks: Sequence[str] | None = None,
    reps: int = CURVE_REPS,
) -> tuple[list[Path], list[Path], list[str]]:
    """Write the stability PNGs and CSVs; returns the tables, figures and report sentences.

    Args:
        points: rows of :func:`pomdpbench.store.train_metrics.suite_train_metrics`.
        finished: the board's finished runs with their labels (``SuiteScores.finished``).
        out: the report folder.
        save: saves and closes a figure (the report's ``_save``).
        tasks: only these tasks (default: every task with finished runs).
        reps: bootstrap replications per step.
    """
    chosen = finished if tasks is None else finished[finished["task"].isin(tasks)]
    written: list[Path] = []
    task_ids = sorted(set(chosen["task"]))
    not_drawn: dict[str, list[str]] = {}  # role -> tasks
    missing: dict[str, list[str]] = {}  # sentence -> tasks
    for task_id in task_ids:
        here = task_points(points, chosen, task_id)
        labels = sorted(set(chosen.loc[chosen["task"] == task_id, "label"]))
        for role in ROLES:
            curves = stability_curves(here, role, reps=reps)
            if curves.empty:
                not_drawn.setdefault(role, []).append(task_id)
                continue
            for sentence in missing_sentences(here, labels, role):
                missing.setdefault(sentence, []).append(task_id)
            figure = plots.stability_figure(curves, run_series(here, role), task_id, role)
            written.append(save(figure, out / figure_name(task_id, role)))
    # one sentence per situation, naming its tasks, rather than one per task
    sentences = [
        f"{figure_name('<task>', role)} was not drawn for {_tasks(found, task_ids)}: "
        f"no agent reports a {role} there."
        for role, found in not_drawn.items()
    ]
    sentences += [
        f"stability plots of {_tasks(found, task_ids)}: {sentence}"
        for sentence, found in missing.items()
    ]
    table = all_curves(points, chosen, reps=reps)
    table.to_csv(out / "stability.csv", index=False)
    runs = chosen[["run_id", "task", "label", "seed"]].merge(points, on="run_id")
    runs = runs.sort_values(["task", "label", "seed", "metric", "env_step"])
    runs.to_csv(out / "stability_runs.csv", index=False)
    return [out / "stability.csv", out / "stability_runs.csv"], written, sentences


def _tasks(found: Sequence[str], every: Sequence[str]) -> str:
    if len(every) > 1 and len(found) == len(every):
        return f"every task ({len(every)})"
    return ", ".join(found)


def stability_markdown(figures: Sequence[Path], sentences: Sequence[str]) -> str:
    """The report's "Training stability" section."""
    parts = [
        "\n## Training stability\n\nThe training metrics each evaluation stored (the agent's "
        "latest): gradient norm and value loss per task, as RESeL Figs. 4-5 plot them; per "
        "entry the mean over seeds at each evaluation step with a 95 % bootstrap interval, "
        "each run as a thin line. Every metric every entry reports is in `stability.csv` "
        "(mean and interval) and `stability_runs.csv` (each run's values).\n\n"
    ]
    parts += [f"> {sentence}\n\n" for sentence in sentences]
    parts += [f"![{path.stem}]({path.as_posix()})\n\n" for path in figures]
    return "".join(parts)
