"""The pomdpbench leaderboard: a Streamlit app over the results database.

Start it with ``pomdpbench leaderboard [--db URL] [--port P]``; it reads the database named by
``POMDPBENCH_DB`` (the command sets it from ``--db``). Pick a suite, a budget tier, agents and
tasks in the sidebar; the views show the headline table; the published figures (RESeL's
Tables 1, 4-6) as leaderboards with this database's runs beside them, also on an empty
database; the interval estimates, performance profiles, probabilities of improvement and
sample-efficiency curves; a per-task drill-down with learning curves, reported figures and
the training metrics over training (gradient norm, value loss; RESeL Figs. 4-5); the
provenance of every run; and the submissions (``pomdpbench submit``), whose runs are
marked as submitted and enter the other views only once verified. All numbers come
from :mod:`pomdpbench.stats`, the same code that ``pomdpbench report`` uses.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from pomdpbench._leaderboard import charts, data

from pomdpbench.errors import PomdpbenchError
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.stats import plots
from pomdpbench.stats.board import NO_RUNS_AT_ALL, Board, task_table, tiers_with_runs
from pomdpbench.stats.curves import task_curves
from pomdpbench.stats.reported import reported_for_task
from pomdpbench.stats.scores import label_runs, suite_task_ids
from pomdpbench.store.database import database_url, describe

NUMBER = st.column_config.NumberColumn(format="%.3f")
VIEWS = ("Leaderboard", "Published", "Plots", "Per task", "Runs & provenance", "Submissions")


def show(figure: Any) -> None:
    """Draw a matplotlib figure and free it."""
    import matplotlib.pyplot as plt

    st.pyplot(figure)
    plt.close(figure)


def sidebar(url: str, counts: pd.DataFrame) -> tuple[str, str, list[str], list[str], list[str]]:
    """Suite, tier, agents and tasks chosen in the sidebar, plus the suite's task list."""
    bar = st.sidebar
    bar.caption(f"database: {describe(url)}")
    suites = sorted(counts["suite"].unique())
    suite = bar.selectbox("Suite", suites, key="suite")
    tier = bar.selectbox("Budget tier", tiers_with_runs(counts, suite), key="tier")
    runs = data.runs(url, suite, tier)
    finished = runs[runs["status"] == RunStatus.FINISHED]
    labels = sorted(set(label_runs(finished))) if not finished.empty else []
    suite_tasks = list(suite_task_ids(suite, runs)[0])
    if st.session_state.get("chosen") != (suite, tier):
        # a new suite or tier starts with every agent and task chosen again
        st.session_state["chosen"] = (suite, tier)
        st.session_state["agents"] = labels
        st.session_state["tasks"] = suite_tasks
    agents = bar.multiselect("Agents", labels, key="agents")
    tasks = bar.multiselect("Tasks aggregated", suite_tasks, key="tasks")
    if bar.button("Refresh"):
        data.clear()
        st.rerun()
    return suite, tier, agents, tasks, suite_tasks


def headline_tab(board: Board) -> None:
    """The headline table."""
    st.subheader(f"{board.suite} · {board.tier}: normalized scores")
    st.caption(
        "normalized = (score - random) / (target - random) with each task's fixed reference "
        "scores; IQM, median, mean and optimality gap over all runs x tasks, 95 % "
        "stratified-bootstrap intervals (rliable). Reported figures never enter these numbers."
    )
    columns = {name: NUMBER for name in ("IQM", "IQM low", "IQM high", "median", "mean")}
    columns["optimality gap"] = NUMBER
    st.dataframe(board.headline, hide_index=True, column_config=columns, key="headline")


def compare_tab(url: str, board: Board, key: tuple[Any, ...]) -> None:
    """Interval estimates, performance profiles, probability of improvement, sample efficiency."""
    labels = board.complete_labels
    if not board.scores.tasks:
        st.info("No task here has reference scores to normalize with, so nothing to compare.")
        return
    if not labels:
        st.info("No agent has runs on every aggregated task, so there is nothing to compare.")
        return
    st.subheader("Interval estimates")
    show(plots.interval_figure(data.all_intervals(url, *key)))
    st.subheader("Performance profiles")
    show(plots.profile_figure(data.profiles(url, *key)))
    st.subheader("Probability of improvement")
    if len(labels) < 2:
        st.info("Probability of improvement needs two complete agents.")
    else:
        baseline = st.selectbox("over", labels, index=len(labels) - 1, key="baseline")
        show(plots.improvement_figure(data.improvements(url, *key, baseline)))
    st.subheader("Sample efficiency")
    arrays, curves = data.efficiency(url, *key)
    if curves:
        show(plots.sample_efficiency_figure(curves, arrays.x_label))
    else:
        st.info("No complete agent has evaluation curves for every run.")


def task_tab(url: str, board: Board, suite_tasks: list[str], agents: list[str]) -> None:
    """Drill-down: per-task table, learning curves and reported figures."""
    seen = sorted(set(board.scores.finished["task"]) - set(suite_tasks))
    options = suite_tasks + seen
    if not options:
        st.info("No task to show.")
        return
    task_id = st.selectbox("Task", options, key="task")
    st.subheader(task_id)
    table = task_table(board.scores.finished, task_id, agents)
    if table.empty:
        st.info(f"No finished run of {task_id} for the chosen agents.")
    else:
        numbers = {"score": NUMBER, "stderr": NUMBER, "normalized": NUMBER}
        st.dataframe(table, hide_index=True, key="task_table", column_config=numbers)
    versions = data.simulator_versions(url, board.suite, board.tier, task_id)
    reported = reported_for_task(data.reported(url, board.suite), task_id, versions)
    curves = task_curves(
        data.evaluations(url, board.suite, board.tier), board.scores.finished, task_id
    )
    curves = curves[curves["label"].isin(agents)]
    if not curves.empty:
        metric = str(
            board.scores.finished.loc[board.scores.finished["task"] == task_id, "metric"].iloc[0]
        )
        show(plots.learning_curve_figure(curves, task_id, metric, reported))
    steps = data.step_table(url, board.suite, board.tier, task_id, tuple(agents))
    if steps is not None:
        st.markdown(
            "**Scores at intermediate steps** (`score_at`: mean ± standard error over runs of the "
            "evaluations in the last 5 % up to each step; `reported` rows are the papers' "
            "figures at the same steps, e.g. RESeL Table 6)"
        )
        st.dataframe(steps, hide_index=True, key="steps")
    st.markdown("**Reported in papers** (not runs of this project; never in the statistics)")
    if reported.empty:
        st.caption("No reported figure for this task.")
    else:
        shown = reported.rename(columns={"environment": "reported on", "here": "runs here on"})
        st.dataframe(shown.assign(kind="reported"), hide_index=True, key="reported")
    stability_section(url, board, task_id, agents)


def stability_section(url: str, board: Board, task_id: str, agents: list[str]) -> None:
    """Training metrics over training (RESeL Figs. 4-5): per entry and per run."""
    st.subheader("Training stability")
    points, choices, defaults = data.stability_points(
        url, board.suite, board.tier, task_id, tuple(agents)
    )
    if not choices:
        st.info(f"The chosen agents stored no training metrics for {task_id}.")
        return
    st.caption(
        "The training metrics each evaluation stored (the agent's latest): by default the "
        "gradient norm and the value loss, as RESeL Figs. 4-5 plot them (each agent's own "
        "name for them). Left: each agent's mean over seeds with a 95 % bootstrap interval; "
        "right: every run. NaN or infinite values are left out of the mean and counted."
    )
    chosen = st.multiselect(
        "Training metrics", choices, default=defaults, key=f"stability_{task_id}"
    )
    log = st.checkbox("log scale", key=f"stability_log_{task_id}")
    for choice in chosen:
        curves, series, missing = data.stability(
            url, board.suite, board.tier, task_id, tuple(agents), choice
        )
        st.markdown(f"**{choice}**")
        for sentence in missing:
            st.caption(sentence)
        left, right = st.columns(2)
        left.altair_chart(charts.stability_mean_chart(curves, choice, log), width="stretch")
        right.altair_chart(charts.stability_runs_chart(series, choice, log), width="stretch")


def published_tab(url: str, default_suite: str | None) -> None:
    """RESeL's published tables as leaderboards per suite, with this database's runs in them."""
    suites = data.published_suites(url)
    if not suites:
        st.info(
            "This database holds no reported figures: load them with `pomdpbench reported "
            f"--sync --db {describe(url)}`."
        )
        return
    index = suites.index(default_suite) if default_suite in suites else 0
    suite = st.selectbox("Published figures of suite", suites, index=index, key="published")
    st.caption(
        "Rows marked **reported** are figures published in papers (mean ± standard error over "
        "their seeds, as printed), not runs of this project; rows marked **here** are this "
        "database's finished runs of the suite (every tier, labelled with its budget). Both "
        "are normalized with the same fixed reference scores as the other views; the "
        "normalized mean is the mean over the suite's tasks, its ± the standard error with "
        "tasks taken as independent (no bootstrap: papers publish no per-run scores). "
        "Reported figures never enter the statistics of the other views."
    )
    tables = data.published(url, suite)
    for table in tables:
        st.subheader(table.title)
        st.dataframe(table.table, hide_index=True, key=f"published_{suite}_{table.step}")
        if not charts.empty(table.long):
            left, right = st.columns(2)
            left.altair_chart(charts.aggregate_chart(table), width="stretch")
            right.altair_chart(charts.task_chart(table), width="stretch")
    if tables:
        st.markdown(
            "**Environments**: what the papers ran on, and what this project's tasks run on"
        )
        st.dataframe(tables[0].environments, hide_index=True, key=f"environments_{suite}")


def runs_tab(url: str, runs: pd.DataFrame, overrides: pd.DataFrame) -> None:
    """Every run of the suite and tier, and the full provenance of one."""
    shown = runs.drop(columns=["suite", "tier"])
    st.dataframe(shown, hide_index=True, key="runs")
    if not overrides.empty:
        st.subheader("Runs with a protocol override")
        st.caption(
            "Made with --eval-every / --eval-episodes other than the suite's: recorded as their "
            "own protocol and never pooled into the statistics above."
        )
        st.dataframe(overrides.drop(columns=["suite", "tier"]), hide_index=True, key="overrides")
    if runs.empty:
        return
    run_id = st.selectbox("Provenance of run", list(runs["run_id"]), key="run")
    record = data.provenance(url, int(run_id))
    if record is None:
        st.info(f"Run {run_id} is no longer in the database.")
        return
    wanted = (
        "agent",
        "agent_version",
        "task",
        "seed",
        "status",
        "git_commit",
        "git_dirty",
        "host",
        "device",
        "wall_time_s",
        "steps_per_s",
        "pomdpbench_version",
    )
    st.dataframe(pd.DataFrame([{k: record[k] for k in wanted}]), hide_index=True, key="prov")
    st.json(
        {
            "agent_config": record["agent_config"],
            "packages": record["packages"],
            "python_version": record["python_version"],
            "task_spec": record["task_spec"],
        },
        expanded=False,
    )


def submissions_tab(url: str) -> None:
    """Submitted bundles (who, when, status, reasons) and their runs, marked as submitted."""
    listed = data.submissions(url)
    if listed.empty:
        st.info("No submissions yet: `pomdpbench submit bundle.zip` adds one.")
        return
    st.caption(
        "Bundles submitted with `pomdpbench submit`: **pending** passed every check of the "
        "bundle but was not re-run here; **verified** or **rejected** by `pomdpbench verify` "
        "(re-runs of a seeded sample, compared within docs/submissions.md's tolerance). "
        "Submitted runs enter the statistics of the other views only once verified."
    )
    st.dataframe(listed, hide_index=True, key="submissions")
    st.markdown("**Submitted runs** (not run here)")
    runs = data.submitted_runs(url)
    st.dataframe(
        runs.assign(kind="submitted"),
        hide_index=True,
        key="submitted_runs",
        column_config={"final_score": NUMBER},
    )


def main() -> None:
    """Lay out the page."""
    st.set_page_config(page_title="pomdpbench leaderboard", layout="wide")
    st.title("pomdpbench leaderboard")
    url = database_url(None)
    try:
        _, sync_problem = data.engine_for(url)
    except PomdpbenchError as exc:
        st.error(str(exc))
        return
    if sync_problem:
        st.warning(sync_problem)
    counts = data.counts(url)
    if counts.empty:
        st.info(NO_RUNS_AT_ALL + " Meanwhile, here are the figures the papers published.")
        if st.button("Refresh", key="refresh_empty"):  # a first run shows up at once
            data.clear()
            st.rerun()
        if not data.submissions(url).empty:  # submitted, not verified: listed, never pooled
            st.subheader("Submissions")
            submissions_tab(url)
        published_tab(url, None)
        return
    suite, tier, agents, tasks, suite_tasks = sidebar(url, counts)
    chosen_tasks = None if set(tasks) == set(suite_tasks) else tuple(tasks)
    key = (suite, tier, tuple(agents), chosen_tasks)
    board = data.board(url, *key)
    for message in board.messages:
        st.warning(message)
    # one view at a time: tabs would compute every plot's bootstrap on each interaction
    view = st.radio("View", VIEWS, horizontal=True, key="view", label_visibility="collapsed")
    if view == VIEWS[0]:
        headline_tab(board)
    elif view == VIEWS[1]:
        published_tab(url, suite)
    elif view == VIEWS[2]:
        compare_tab(url, board, key)
    elif view == VIEWS[3]:
        task_tab(url, board, suite_tasks, agents)
    elif view == VIEWS[4]:
        runs_tab(url, data.runs(url, suite, tier), data.override_runs(url, suite, tier))
    else:
        submissions_tab(url)


main()
