"""Cached reads for the Streamlit leaderboard.

The engine is a cached resource (one pool per database URL); query results and boards are
cached data keyed by their arguments, kept for ``TTL_S`` seconds so new runs show up without a
restart (the sidebar's Refresh button clears them at once). A bootstrap of a suite therefore
runs once per minute at most, however often people click.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from pomdpbench.errors import UnknownIdError
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry import get_task
from pomdpbench.stats.aggregate import (
    DEFAULT_REPS,
    Band,
    Interval,
    performance_profiles,
    probability_of_improvement,
    sample_efficiency,
)
from pomdpbench.stats.board import Board, build_board, tiers_with_runs
from pomdpbench.stats.curves import CurveArrays, suite_curve_arrays
from pomdpbench.stats.intermediate import suite_step_tables, wide_step_table
from pomdpbench.stats.published import PublishedTable, suite_published
from pomdpbench.stats.stability import (
    default_choices,
    metric_choices,
    missing_sentences,
    run_series,
    stability_curves,
    task_points,
)
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine
from pomdpbench.store.reported import reported_for_suite, sync_note
from pomdpbench.store.train_metrics import suite_train_metrics

TTL_S = 60


def reps() -> int:
    """Bootstrap replications: ``POMDPBENCH_REPS`` or the statistics' default (2,000)."""
    value = os.environ.get("POMDPBENCH_REPS", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_REPS


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> tuple[Engine, str | None]:
    """The engine of ``url`` and, if its reported figures are missing or out of date, why.

    The page only reads: the figures are loaded when the database is created or by
    ``pomdpbench reported --sync``.

    Raises:
        StoreError: no database there, or not a pomdpbench one (shown as an error).
    """
    engine = open_engine(url, create=False)
    return engine, sync_note(engine, url)


def clear() -> None:
    """Forget every cached query and board (the engine stays)."""
    st.cache_data.clear()


@st.cache_data(ttl=TTL_S, show_spinner=False)
def counts(url: str) -> pd.DataFrame:
    """Runs per suite, tier and status."""
    return query.suite_tier_counts(engine_for(url)[0])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def runs(url: str, suite: str, tier: str) -> pd.DataFrame:
    """Every run of a suite and tier."""
    return query.suite_runs(engine_for(url)[0], suite, tier)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def override_runs(url: str, suite: str, tier: str) -> pd.DataFrame:
    """Runs of a suite and tier made with ``--eval-every``/``--eval-episodes`` overrides."""
    return query.override_runs(engine_for(url)[0], suite, tier)


@st.cache_data(ttl=TTL_S, show_spinner="Bootstrapping intervals ...")
def board(
    url: str, suite: str, tier: str, agents: tuple[str, ...], tasks: tuple[str, ...] | None
) -> Board:
    """The headline board of the chosen entries and tasks."""
    return build_board(runs(url, suite, tier), suite, tier, agents, tasks, reps=reps())


@st.cache_data(ttl=TTL_S, show_spinner=False)
def evaluations(url: str, suite: str, tier: str) -> pd.DataFrame:
    """Evaluation points of the finished runs of a suite and tier."""
    return query.suite_evaluations(engine_for(url)[0], suite, tier)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def reported(url: str, suite: str) -> pd.DataFrame:
    """Reported figures of a suite."""
    return reported_for_suite(engine_for(url)[0], suite)


@st.cache_data(ttl=TTL_S, show_spinner="Bootstrapping intervals ...")
def all_intervals(
    url: str, suite: str, tier: str, agents: tuple[str, ...], tasks: tuple[str, ...] | None
) -> dict[str, dict[str, Interval]]:
    """All four aggregates with intervals, for the interval plot."""
    return board(url, suite, tier, agents, tasks).all_intervals()


@st.cache_data(ttl=TTL_S, show_spinner="Bootstrapping profiles ...")
def profiles(
    url: str, suite: str, tier: str, agents: tuple[str, ...], tasks: tuple[str, ...] | None
) -> dict[str, Band]:
    """Performance profiles of the complete entries."""
    chosen = board(url, suite, tier, agents, tasks)
    return performance_profiles(chosen.scores.matrices(chosen.complete_labels), reps=reps())


@st.cache_data(ttl=TTL_S, show_spinner="Bootstrapping probabilities ...")
def improvements(
    url: str,
    suite: str,
    tier: str,
    agents: tuple[str, ...],
    tasks: tuple[str, ...] | None,
    baseline: str,
) -> dict[tuple[str, str], Interval]:
    """P(X > baseline) for every other complete entry X."""
    chosen = board(url, suite, tier, agents, tasks)
    labels = chosen.complete_labels
    pairs = [(label, baseline) for label in labels if label != baseline]
    return probability_of_improvement(chosen.scores.matrices(labels), pairs, reps=reps())


@st.cache_data(ttl=TTL_S, show_spinner="Bootstrapping curves ...")
def efficiency(
    url: str, suite: str, tier: str, agents: tuple[str, ...], tasks: tuple[str, ...] | None
) -> tuple[CurveArrays, dict[str, Band]]:
    """Sample-efficiency curves (IQM of normalized score along training)."""
    chosen = board(url, suite, tier, agents, tasks)
    arrays = suite_curve_arrays(evaluations(url, suite, tier), chosen.scores)
    kept = {k: v for k, v in arrays.arrays.items() if k in chosen.complete_labels}
    return arrays, sample_efficiency(kept, arrays.x, reps=reps())


@st.cache_data(ttl=TTL_S, show_spinner=False)
def published_suites(url: str) -> list[str]:
    """Suites the database holds reported figures of."""
    return sorted(set(reported_for_suite(engine_for(url)[0])["suite"]))


@st.cache_data(ttl=TTL_S, show_spinner=False)
def published(url: str, suite: str) -> list[PublishedTable]:
    """The suite's published leaderboards, with this database's runs of every tier in them."""
    tiers = tiers_with_runs(counts(url), suite)
    frames = [runs(url, suite, tier) for tier in tiers]
    points = [evaluations(url, suite, tier) for tier in tiers]
    all_runs = (
        pd.concat(frames, ignore_index=True)
        if frames
        else query.suite_runs(engine_for(url)[0], suite, Tier.FULL)
    )
    all_points = (
        pd.concat(points, ignore_index=True)
        if points
        else pd.DataFrame(columns=["run_id", "env_step", "mean_return", "success_rate"])
    )
    return suite_published(reported(url, suite), suite, all_runs, all_points)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def step_table(
    url: str, suite: str, tier: str, task_id: str, agents: tuple[str, ...]
) -> pd.DataFrame | None:
    """Table 6's layout for one task (scores at ``score_at`` steps), or None if it has none."""
    finished = board(url, suite, tier, agents, None).scores.finished
    tables = suite_step_tables(
        finished, evaluations(url, suite, tier), reported(url, suite), [task_id], agents
    )
    return wide_step_table(tables[task_id]) if task_id in tables else None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def provenance(url: str, run_id: int) -> dict[str, Any] | None:
    """Everything stored about one run."""
    return query.run_provenance(engine_for(url)[0], run_id)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def submissions(url: str) -> pd.DataFrame:
    """Every submission: who, when, what, status and reasons (newest first)."""
    return query.submissions(engine_for(url)[0])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def submitted_runs(url: str) -> pd.DataFrame:
    """The runs that came in submissions, with their submission's status."""
    return query.submitted_runs(engine_for(url)[0])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def simulator_versions(url: str, suite: str, tier: str, task_id: str) -> list[str]:
    """Simulator versions the task's finished runs recorded (empty if unregistered here)."""
    try:
        package = get_task(task_id).simulator_package
    except UnknownIdError:
        return []
    return query.recorded_versions(engine_for(url)[0], suite, tier, task_id, package)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def stability_points(
    url: str, suite: str, tier: str, task_id: str, agents: tuple[str, ...]
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One task's stored training metrics of the chosen entries, with what can be plotted.

    Returns:
        The rows of :func:`pomdpbench.stats.stability.task_points`, the metric choices and
        the default ones (gradient norm and value loss, where some entry reports them).
    """
    finished = board(url, suite, tier, agents, None).scores.finished
    finished = finished[finished["label"].isin(agents)]
    stored = suite_train_metrics(engine_for(url)[0], suite, tier, [task_id])
    points = task_points(stored, finished, task_id)
    return points, metric_choices(points), default_choices(points)


@st.cache_data(ttl=TTL_S, show_spinner="Bootstrapping training metrics ...")
def stability(
    url: str, suite: str, tier: str, task_id: str, agents: tuple[str, ...], choice: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Per-entry curves (mean and interval over seeds), per-run values, and missing entries."""
    points = stability_points(url, suite, tier, task_id, agents)[0]
    finished = board(url, suite, tier, agents, None).scores.finished
    labels = sorted(set(finished.loc[finished["task"] == task_id, "label"]) & set(agents))
    curves = stability_curves(points, choice, reps=reps())
    return curves, run_series(points, choice), missing_sentences(points, labels, choice)
