"""The static report: the leaderboard's tables (Markdown and CSV) and plots (PNG) in a folder.

``pomdpbench report --suite S [--tier T] --out DIR`` reads the runs, evaluations and reported
figures from the store (:mod:`pomdpbench.store.queries`) and calls :func:`write_report` with
the frames. The numbers are those of the Streamlit page for the same data (same
:func:`build_board`, same bootstrap seed and replications). Files written:

* ``report.md``: messages, headline table, per-task table, scores at the suite's intermediate
  steps beside the figures reported at them, reported figures, the plots;
* ``headline.csv``, ``per_task.csv``, ``reported.csv``, ``published.csv`` (the papers'
  tables as leaderboards with this tier's runs beside them, one row per entry and task), and
  ``at_steps.csv`` for a suite that scores at intermediate steps (``score_at``, the mdp suite);
* ``intervals.png``, ``profiles.png``, ``improvement.png``, ``sample_efficiency.png`` (when at
  least one agent is complete; improvement needs two), and ``curves/<task>.png`` per task;
* with the training metrics: ``stability/<task>/{gradient_norm,value_loss}.png``,
  ``stability.csv`` and ``stability_runs.csv`` (:mod:`pomdpbench.stats.stability_report`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pomdpbench.registry import list_suites
from pomdpbench.stats import plots
from pomdpbench.stats.aggregate import (
    DEFAULT_REPS,
    DEFAULT_SEED,
    performance_profiles,
    probability_of_improvement,
    sample_efficiency,
)
from pomdpbench.stats.board import Board, build_board, per_task_table
from pomdpbench.stats.curves import suite_curve_arrays, task_curves
from pomdpbench.stats.intermediate import suite_step_tables, wide_step_table
from pomdpbench.stats.published import PublishedTable, suite_published
from pomdpbench.stats.reported import reported_for_task
from pomdpbench.stats.stability_report import stability_markdown, write_stability


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency such as tabulate)."""
    if frame.empty:
        return "_(none)_\n"

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:,.{digits}f}"
        return str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(str(c) for c in frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines) + "\n"


def write_report(
    runs: pd.DataFrame,
    evaluations: pd.DataFrame,
    reported_rows: pd.DataFrame,
    suite: str,
    tier: str,
    out: Path,
    agents: Sequence[str] | None = None,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    tasks: Sequence[str] | None = None,
    train_metrics: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the report of one suite and tier into ``out``; returns the files written.

    Args:
        runs: every run of the suite and tier (``store.queries.suite_runs``).
        evaluations: their evaluation points (``store.queries.suite_evaluations``).
        reported_rows: the suite's reported figures (``store.reported.reported_for_suite``).
        suite: the suite id.
        tier: the budget tier.
        out: the folder to write into (created if missing).
        agents: entry labels to report (default: all).
        reps: bootstrap replications.
        seed: bootstrap seed.
        tasks: aggregate over these tasks only, as the leaderboard's task filter (default:
            the whole suite); the per-task curves are drawn for these tasks only.
        train_metrics: the runs' training metrics
            (``store.train_metrics.suite_train_metrics``) for the training-stability plots
            and tables (:mod:`pomdpbench.stats.stability_report`); none drawn without them.
    """
    out.mkdir(parents=True, exist_ok=True)
    board = build_board(runs, suite, tier, agents, tasks, reps=reps, seed=seed)
    suite_known = suite in {s.id for s in list_suites()}
    written: list[Path] = []
    labels = list(board.headline["agent"])
    per_task = per_task_table(board.scores, labels)
    reported = _reported(reported_rows, board)
    steps = suite_step_tables(
        board.scores.finished, evaluations, reported_rows, board.scores.suite_tasks, labels
    )
    at_steps = pd.concat(steps.values(), ignore_index=True) if steps else pd.DataFrame()
    published = suite_published(reported_rows, suite, runs, evaluations) if suite_known else []
    long = pd.concat([t.long for t in published], ignore_index=True) if published else None
    for name, frame in (
        ("headline", board.headline),
        ("per_task", per_task),
        ("reported", reported),
        ("at_steps", at_steps),
        ("published", long),
    ):
        if frame is None or (name == "at_steps" and not steps):
            continue
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    figures, not_drawn = _figures(evaluations, reported_rows, board, reps, seed, out, tasks)
    written += figures
    text = _markdown(
        board,
        per_task,
        reported,
        steps,
        published,
        [f.relative_to(out) for f in figures],
        not_drawn,
    )
    if train_metrics is not None:
        shown = board.scores.finished[board.scores.finished["label"].isin(labels)]
        stability = write_stability(train_metrics, shown, out, _save, tasks, reps)
        written += stability[0] + stability[1]
        text += stability_markdown([f.relative_to(out) for f in stability[1]], stability[2])
    (out / "report.md").write_text(text, encoding="utf-8")
    written.append(out / "report.md")
    return written


def _reported(rows: pd.DataFrame, board: Board) -> pd.DataFrame:
    tables = []
    for task_id in board.scores.suite_tasks:
        matched = reported_for_task(rows, task_id)
        if not matched.empty:
            tables.append(matched.assign(task_here=task_id, kind="reported"))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def _figures(
    evaluations: pd.DataFrame,
    reported_rows: pd.DataFrame,
    board: Board,
    reps: int,
    seed: int,
    out: Path,
    tasks: Sequence[str] | None = None,
) -> tuple[list[Path], list[str]]:
    """The plots written, and a sentence for each plot that could not be drawn and why."""
    written: list[Path] = []
    not_drawn: list[str] = []
    labels = board.complete_labels
    matrices = board.scores.matrices(labels)
    if labels:
        written.append(_save(plots.interval_figure(board.all_intervals()), out / "intervals.png"))
        profiles = performance_profiles(matrices, reps=reps, seed=seed)
        written.append(_save(plots.profile_figure(profiles), out / "profiles.png"))
    else:
        why = (
            "no task of this suite can be normalized here"
            if not board.scores.tasks
            else "no agent has a finished run of every aggregated task (see the headline)"
        )
        not_drawn.append(
            f"intervals.png, profiles.png and sample_efficiency.png were not drawn: {why}."
        )
    if len(labels) < 2:
        not_drawn.append(
            f"improvement.png was not drawn: it compares two complete agents and "
            f"{len(labels)} {'is' if len(labels) == 1 else 'are'} complete."
        )
    else:
        pairs = [(labels[0], other) for other in labels[1:]]  # the best IQM against each other
        improvement = probability_of_improvement(matrices, pairs, reps=reps, seed=seed)
        written.append(_save(plots.improvement_figure(improvement), out / "improvement.png"))
    arrays = suite_curve_arrays(evaluations, board.scores)
    kept = {k: v for k, v in arrays.arrays.items() if k in labels}
    if kept:
        curves = sample_efficiency(kept, arrays.x, reps=reps, seed=seed)
        figure = plots.sample_efficiency_figure(curves, arrays.x_label)
        written.append(_save(figure, out / "sample_efficiency.png"))
    elif labels:
        not_drawn.append(
            "sample_efficiency.png was not drawn: the complete agents' runs share no "
            "evaluation steps."
        )
    finished = board.scores.finished
    for task_id in sorted(set(finished["task"])):
        if tasks is not None and task_id not in tasks:
            continue
        curves_table = task_curves(evaluations, finished, task_id)
        if curves_table.empty:
            not_drawn.append(f"curves/{task_id}.png was not drawn: no evaluations are stored.")
            continue
        metric = str(finished.loc[finished["task"] == task_id, "metric"].iloc[0])
        reported = reported_for_task(reported_rows, task_id)
        figure = plots.learning_curve_figure(curves_table, task_id, metric, reported)
        written.append(_save(figure, out / "curves" / f"{task_id}.png"))
    return written, not_drawn


def _markdown(
    board: Board,
    per_task: pd.DataFrame,
    reported: pd.DataFrame,
    steps: dict[str, pd.DataFrame],
    published: list[PublishedTable],
    figures: list[Path],
    not_drawn: Sequence[str] = (),
) -> str:
    parts = [f"# pomdpbench report: suite {board.suite}, tier {board.tier}\n"]
    parts += [f"> {message}\n" for message in board.messages]
    parts.append(
        "\n## Headline\n\nNormalized score = (score - random) / (target - random) with each "
        "task's fixed reference scores. IQM, median, mean and optimality gap over all runs x "
        "tasks; IQM low/high: 95 % stratified-bootstrap interval (rliable).\n\n"
    )
    parts.append(markdown_table(board.headline))
    parts.append("\n## Per task (raw final scores)\n\n")
    parts.append(markdown_table(per_task))
    if steps:
        parts.append(
            "\n## Scores at intermediate steps\n\nThe suite scores runs at these steps too "
            "(`score_at`): the mean of the evaluations in the last 5 % of the steps up to each, "
            "mean ± standard error over runs (`here`), beside the figures papers report at the "
            "same steps (`reported`); the last column of an entry here is its final score.\n"
        )
        for task_id, table in steps.items():
            parts.append(f"\n### {task_id}\n\n")
            parts.append(markdown_table(wide_step_table(table)))
    if published:
        parts.append(
            "\n## Published leaderboards\n\nThe papers' tables as leaderboards (`reported`: "
            "mean ± standard error as published), with this tier's finished runs beside them "
            "(`here`), all normalized with the fixed reference scores above; the normalized "
            "mean is over the suite's tasks, ± its standard error with tasks taken as "
            "independent (papers publish no per-run scores, so no bootstrap).\n"
        )
        for table in published:
            parts.append(f"\n### {table.title}\n\n")
            parts.append(markdown_table(table.table))
        parts.append("\nEnvironments:\n\n")
        parts.append(markdown_table(published[0].environments))
    parts.append(
        "\n## Reported in papers\n\nPublished figures, not runs of this project, and never part "
        "of the statistics above; `environment` is what the paper ran on, `here` what this "
        "project's task runs on.\n\n"
    )
    parts.append(markdown_table(reported))
    if figures or not_drawn:
        parts.append("\n## Plots\n\n")
        parts += [f"> {sentence}\n\n" for sentence in not_drawn]
        parts += [f"![{path.stem}]({path.as_posix()})\n\n" for path in figures]
    return "".join(parts)
