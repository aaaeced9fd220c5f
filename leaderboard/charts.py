"""Interactive charts of the published leaderboards and the training metrics (Vega-Lite).

Altair builds them and Streamlit draws them.
Hovering shows the exact numbers; dragging pans and the mouse wheel zooms (``interactive``).
The bootstrap figures of the other views (interval estimates, profiles) stay rliable's.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from pomdpbench.stats.published import AGGREGATE, PublishedTable, aggregate

KIND_COLORS = alt.Scale(domain=["reported", "here"], range=["#7f7f7f", "#d62728"])


def aggregate_chart(table: PublishedTable) -> Any:
    """Each entry's mean normalized score over the suite's tasks, ± its standard error."""
    tasks = list(dict.fromkeys(table.long["task"]))
    frame = aggregate(table.long, tasks).dropna(subset=[AGGREGATE])
    frame = frame.assign(
        low=frame[AGGREGATE] - frame["se"].fillna(0.0),
        high=frame[AGGREGATE] + frame["se"].fillna(0.0),
    )
    order = list(frame.sort_values(AGGREGATE, ascending=False)["agent"])
    y = alt.Y("agent:N", sort=order, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=220))
    tooltip = [
        alt.Tooltip("agent:N"),
        alt.Tooltip("kind:N"),
        alt.Tooltip(f"{AGGREGATE}:Q", format=".3f"),
        alt.Tooltip("se:Q", format=".3f"),
        alt.Tooltip("tasks:N"),
    ]
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{AGGREGATE}:Q", title="mean normalized score over the suite's tasks"),
            y=y,
            color=alt.Color("kind:N", scale=KIND_COLORS),
            tooltip=tooltip,
        )
    )
    errors = alt.Chart(frame).mark_rule().encode(x="low:Q", x2="high:Q", y=y, tooltip=tooltip)
    return (bars + errors).properties(height=max(160, 26 * len(frame))).interactive()


def task_chart(table: PublishedTable) -> Any:
    """Every entry's normalized score per task, ± the published standard error."""
    frame = table.long.dropna(subset=["normalized"]).copy()
    err = frame["normalized_stderr"].fillna(0.0)
    frame = frame.assign(low=frame["normalized"] - err, high=frame["normalized"] + err)
    tooltip = [
        alt.Tooltip("agent:N"),
        alt.Tooltip("kind:N"),
        alt.Tooltip("task:N"),
        alt.Tooltip("reported_as:N", title="reported as"),
        alt.Tooltip("mean:Q", format=",.1f"),
        alt.Tooltip("stderr:Q", format=",.1f"),
        alt.Tooltip("normalized:Q", format=".3f"),
        alt.Tooltip("source:N"),
    ]
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("normalized:Q", title="normalized score"),
            y=alt.Y("task:N", title=None),
            color=alt.Color("agent:N"),
            shape=alt.Shape("kind:N"),
            tooltip=tooltip,
        )
    )
    errors = (
        alt.Chart(frame)
        .mark_rule()
        .encode(x="low:Q", x2="high:Q", y="task:N", color="agent:N", tooltip=tooltip)
    )
    tasks = frame["task"].nunique()
    return (errors + points).properties(height=max(160, 40 * tasks)).interactive()


def empty(frame: pd.DataFrame) -> bool:
    """True when a chart would have nothing to draw."""
    return frame.empty or frame["normalized"].isna().all()


def _finite(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows whose ``column`` is finite (Vega-Lite draws neither NaN nor infinity)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    return frame[values.notna() & values.abs().ne(float("inf"))]


def stability_mean_chart(curves: pd.DataFrame, choice: str, log: bool) -> Any:
    """A training metric per entry: mean over seeds with its 95 % bootstrap band."""
    frame = _finite(curves, "mean")
    if log:  # a log axis cannot place a point or a band edge at or below zero
        frame = frame[frame["mean"] > 0]
        frame = frame.assign(lower=frame["lower"].where(frame["lower"] > 0, frame["mean"]))
    scale = alt.Scale(type="log" if log else "linear")
    x = alt.X("env_step:Q", title="env steps")
    tooltip = [
        alt.Tooltip("label:N", title="agent"),
        alt.Tooltip("metric:N"),
        alt.Tooltip("env_step:Q", format=","),
        alt.Tooltip("mean:Q", format=".4g"),
        alt.Tooltip("lower:Q", format=".4g"),
        alt.Tooltip("upper:Q", format=".4g"),
        alt.Tooltip("seeds:Q"),
        alt.Tooltip("non_finite:Q", title="NaN/inf runs"),
    ]
    color = alt.Color("label:N", title="agent")
    band = (
        alt.Chart(frame)
        .mark_area(opacity=0.2)
        .encode(x=x, y=alt.Y("lower:Q", scale=scale, title=choice), y2="upper:Q", color=color)
    )
    line = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(x=x, y=alt.Y("mean:Q", scale=scale, title=choice), color=color, tooltip=tooltip)
    )
    return (band + line).properties(title=f"{choice}: mean over seeds, 95 % interval").interactive()


def stability_runs_chart(series: pd.DataFrame, choice: str, log: bool) -> Any:
    """A training metric of every run: one line per run, coloured by entry."""
    frame = _finite(series, "value")
    if log:
        frame = frame[frame["value"] > 0]
    scale = alt.Scale(type="log" if log else "linear")
    tooltip = [
        alt.Tooltip("label:N", title="agent"),
        alt.Tooltip("seed:Q"),
        alt.Tooltip("run_id:Q", title="run"),
        alt.Tooltip("metric:N"),
        alt.Tooltip("env_step:Q", format=","),
        alt.Tooltip("value:Q", format=".4g"),
    ]
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=1)
        .encode(
            x=alt.X("env_step:Q", title="env steps"),
            y=alt.Y("value:Q", scale=scale, title=choice),
            color=alt.Color("label:N", title="agent"),
            detail="run_id:N",
            tooltip=tooltip,
        )
        .properties(title=f"{choice}: each run")
        .interactive()
    )
