"""Figures for the leaderboard and the report, drawn with rliable's plot utilities.

matplotlib (and seaborn, which rliable's plot_utils uses) are imported inside each function,
so the statistics load without them. Every function returns a matplotlib Figure; the caller
shows it (Streamlit) or saves it (report) and closes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pomdpbench.stats.aggregate import METRIC_NAMES, Band, Interval
from pomdpbench.stats.stability import wants_log_scale

PAIR_SEPARATOR = " | "  # entry labels may contain commas, rliable's default separator


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def interval_figure(intervals: Mapping[str, Mapping[str, Interval]]) -> Any:
    """The four aggregates of each entry with their 95 % intervals (rliable layout)."""
    _pyplot()
    from rliable import plot_utils

    labels = list(intervals)
    points = {k: np.array([intervals[k][m].point for m in METRIC_NAMES]) for k in labels}
    cis = {
        k: np.array(
            [
                [intervals[k][m].lower for m in METRIC_NAMES],
                [intervals[k][m].upper for m in METRIC_NAMES],
            ]
        )
        for k in labels
    }
    fig, _ = plot_utils.plot_interval_estimates(
        points,
        cis,
        metric_names=list(METRIC_NAMES),
        algorithms=labels,
        xlabel="Normalized score",
        row_height=0.5,
        subfigure_width=3.6,
        xlabel_y_coordinate=-0.9 / (len(labels) + 1) - 0.15,
        max_ticks=3,  # rliable's 4 overlap their labels in a 3.6-inch panel
    )
    return fig


def profile_figure(profiles: Mapping[str, Band]) -> Any:
    """Performance profiles (fraction of runs above each normalized score)."""
    plt = _pyplot()
    from rliable import plot_utils

    fig, ax = plt.subplots(figsize=(7, 4.5))
    first = next(iter(profiles.values()))
    plot_utils.plot_performance_profiles(
        {k: p.value for k, p in profiles.items()},
        first.x,
        performance_profile_cis={k: np.stack([p.lower, p.upper]) for k, p in profiles.items()},
        ax=ax,
        xlabel=r"Normalized score $(\tau)$",
        ylabel=r"Fraction of runs with score $> \tau$",
        labelsize="large",
        ticklabelsize="medium",
    )
    ax.legend(loc="upper right", fontsize="small")  # rliable labels each line
    fig.tight_layout()
    return fig


def improvement_figure(probabilities: Mapping[tuple[str, str], Interval]) -> Any:
    """Probability of improvement P(X > Y) of each pair, with its interval."""
    plt = _pyplot()
    from rliable import plot_utils

    fig, ax = plt.subplots(figsize=(6, 0.6 * len(probabilities) + 1.2))
    keys = {f"{x}{PAIR_SEPARATOR}{y}": p for (x, y), p in probabilities.items()}
    plot_utils.plot_probability_of_improvement(
        {k: p.point for k, p in keys.items()},
        {k: np.array([p.lower, p.upper]) for k, p in keys.items()},
        pair_separator=PAIR_SEPARATOR,
        ax=ax,
        labelsize="medium",
        ticklabelsize="small",
    )
    fig.tight_layout()
    return fig


def sample_efficiency_figure(curves: Mapping[str, Band], x_label: str) -> Any:
    """IQM of normalized score along training, with 95 % intervals."""
    plt = _pyplot()
    from rliable import plot_utils

    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = list(curves)
    first = curves[labels[0]]
    plot_utils.plot_sample_efficiency_curve(
        first.x,
        {k: c.value for k, c in curves.items()},
        {k: np.stack([c.lower, c.upper]) for k, c in curves.items()},
        algorithms=labels,
        ax=ax,
        xlabel=x_label,
        ylabel="IQM normalized score",
        labelsize="large",
        ticklabelsize="medium",
    )
    ax.legend(loc="best", fontsize="small")  # rliable labels each line
    fig.tight_layout()
    return fig


def learning_curve_figure(
    curves: pd.DataFrame, task_id: str, metric: str, reported: pd.DataFrame | None = None
) -> Any:
    """Mean across seeds with a 95 % band per entry; reported figures as dashed lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, group in curves.groupby("label", sort=True):
        line = ax.plot(group["env_step"], group["mean"], label=f"{label} ({group['seeds'].max()})")
        ax.fill_between(
            group["env_step"], group["lower"], group["upper"], alpha=0.2, color=line[0].get_color()
        )
    if reported is not None:
        for row in reported.itertuples(index=False):
            ax.axhline(row.mean, linestyle="--", linewidth=1, color="grey")
            ax.annotate(
                f"reported {row.agent} @ {row.env_steps:,} steps",
                (0.01, row.mean),
                xycoords=("axes fraction", "data"),
                fontsize="x-small",
                color="dimgrey",
                va="bottom",
            )
    ax.set_title(task_id)
    ax.set_xlabel("env steps")
    ax.set_ylabel("success rate" if metric == "success" else "mean return")
    ax.legend(title="agent (seeds)", fontsize="small", loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def stability_figure(curves: pd.DataFrame, runs: pd.DataFrame, task_id: str, choice: str) -> Any:
    """A training metric over env steps: entries' means over seeds with 95 % bands, and runs.

    Each run is a thin line in its entry's colour (RESeL Figs. 4-5 draw one line per setting).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, group in curves.groupby("label", sort=True):
        metric = str(group["metric"].iloc[0])
        line = ax.plot(
            group["env_step"], group["mean"], label=f"{label}: {metric} ({group['seeds'].max()})"
        )
        color = line[0].get_color()
        ax.fill_between(group["env_step"], group["lower"], group["upper"], alpha=0.2, color=color)
        for _, run in runs[runs["label"] == label].groupby("run_id"):
            ax.plot(run["env_step"], run["value"], color=color, linewidth=0.6, alpha=0.45)
    if wants_log_scale(runs["value"]):
        ax.set_yscale("log")
    ax.set_title(f"{task_id}: {choice}")
    ax.set_xlabel("env steps")
    ax.set_ylabel(choice)
    ax.legend(title="agent: metric (seeds)", fontsize="small", loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
