"""Training-stability curves (RESeL Figs. 4-5): intervals over seeds, steps aligned across
seeds by env step, NaN/infinite and missing metrics, the roles that stand for a metric, and the
store's long table of what the evaluations stored."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pomdpbench.stats.curves import bootstrap_mean_interval
from pomdpbench.stats.stability import (
    aligned_values,
    default_choices,
    metric_choices,
    missing_sentences,
    run_series,
    stability_curves,
    task_points,
    wants_log_scale,
)
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs
from pomdpbench.store.train_metrics import suite_train_metrics

TASK = "Pendulum-V-v0"


def frames(series: dict[tuple[str, int], dict[int, dict[str, float]]]) -> pd.DataFrame:
    """``task_points`` of runs given as (label, seed) -> {step: metrics}."""
    finished, points = [], []
    for run_id, ((label, seed), steps) in enumerate(series.items(), start=1):
        finished.append((run_id, TASK, label, seed))
        points += [
            (run_id, step, name, value)
            for step, metrics in steps.items()
            for name, value in metrics.items()
        ]
    return task_points(
        pd.DataFrame(points, columns=["run_id", "env_step", "metric", "value"]),
        pd.DataFrame(finished, columns=["run_id", "task", "label", "seed"]),
        TASK,
    )


def loss(*values: float) -> dict[int, dict[str, float]]:
    return {100 * i: {"critic_loss": v} for i, v in enumerate(values)}


def test_mean_and_bootstrap_interval_over_seeds_at_each_step() -> None:
    points = frames(
        {
            ("sac", 0): loss(1.0, 2.0, 4.0),
            ("sac", 1): loss(3.0, 2.0, 8.0),
            ("sac", 2): loss(5.0, 2.0, 0.0),
        }
    )
    curves = stability_curves(points, "value loss", reps=500).set_index("env_step")
    assert list(curves.index) == [0, 100, 200] and set(curves["metric"]) == {"critic_loss"}
    assert list(curves["mean"]) == pytest.approx([3.0, 2.0, 4.0])
    assert list(curves["seeds"]) == [3, 3, 3]
    low, high = bootstrap_mean_interval(np.array([4.0, 8.0, 0.0]), reps=500, seed=200)
    assert (curves.loc[200, "lower"], curves.loc[200, "upper"]) == pytest.approx((low, high))
    assert 0.0 <= low < 4.0 < high <= 8.0  # a resampled mean stays within the seeds' values
    assert curves.loc[100, "lower"] == curves.loc[100, "upper"] == 2.0  # seeds agree


def test_steps_are_aligned_by_env_step_not_by_position() -> None:
    """Seed 1 was evaluated every 150 steps, seed 0 every 100: at step 100 seed 1 counts with
    what it stored at 0 (its latest as of 100), at 150 seed 0 with its value of 100."""
    points = frames(
        {
            ("td3", 0): {
                0: {"critic_loss": 1.0},
                100: {"critic_loss": 2.0},
                200: {"critic_loss": 3.0},
                300: {"critic_loss": 4.0},
            },
            ("td3", 1): {
                0: {"critic_loss": 10.0},
                150: {"critic_loss": 20.0},
                300: {"critic_loss": 30.0},
            },
        }
    )
    curves = stability_curves(points, "critic_loss", reps=100).set_index("env_step")
    assert list(curves.index) == [0, 100, 150, 200, 300]
    expected = {0: 5.5, 100: 6.0, 150: 11.0, 200: 11.5, 300: 17.0}
    for step, mean in expected.items():
        assert curves.loc[step, "mean"] == pytest.approx(mean), step
    assert set(curves["seeds"]) == {2}


def test_a_seed_before_its_first_report_and_after_its_last_evaluation_does_not_count() -> None:
    points = frames(
        {("resel", 0): loss(1.0, 1.0, 1.0, 1.0), ("resel", 1): {200: {"critic_loss": 3.0}}}
    )  # warm-up until 200, then ends
    curves = stability_curves(points, "critic_loss", reps=100).set_index("env_step")
    assert list(curves["seeds"]) == [1, 1, 2, 1]
    assert list(curves["mean"]) == pytest.approx([1.0, 1.0, 2.0, 1.0])


def test_nan_and_infinite_values_are_counted_and_left_out_of_the_mean() -> None:
    points = frames(
        {("sac", 0): loss(1.0, math.inf, math.nan), ("sac", 1): loss(3.0, 5.0, math.nan)}
    )
    curves = stability_curves(points, "critic_loss", reps=100).set_index("env_step")
    assert list(curves["non_finite"]) == [0, 1, 2]
    assert list(curves["seeds"]) == [2, 1, 0]
    assert curves.loc[100, "mean"] == 5.0 and curves.loc[100, "upper"] == 5.0
    assert math.isnan(curves.loc[200, "mean"]) and math.isnan(curves.loc[200, "lower"])
    values = aligned_values(points[points["label"] == "sac"], "critic_loss")
    assert np.isinf(values.loc[100]).sum() == 1  # the divergence is kept, not smoothed over


def test_roles_take_each_agents_own_name_and_say_who_reports_none() -> None:
    points = frames(
        {
            ("sac-mlp", 0): {0: {"critic_loss": 2.0, "policy_grad_norm": 0.5, "alpha": 0.1}},
            ("ppo-mlp", 0): {0: {"value_loss": 7.0, "grad_norm": 0.25}},
            ("other", 0): {0: {"updates": 3.0}},
        }
    )
    assert metric_choices(points) == [
        "gradient norm",
        "value loss",
        "alpha",
        "critic_loss",
        "grad_norm",
        "policy_grad_norm",
        "updates",
        "value_loss",
    ]
    assert default_choices(points) == ["gradient norm", "value loss"]
    curves = stability_curves(points, "value loss", reps=10).set_index("label")
    assert curves.loc["sac-mlp", "metric"] == "critic_loss" and curves.loc["sac-mlp", "mean"] == 2
    assert curves.loc["ppo-mlp", "metric"] == "value_loss" and curves.loc["ppo-mlp", "mean"] == 7
    assert "other" not in curves.index
    labels = ["other", "ppo-mlp", "random", "sac-mlp"]
    assert missing_sentences(points, labels, "gradient norm") == [
        "other reports no gradient norm (policy_grad_norm or grad_norm); it reports updates.",
        "random reports no gradient norm (policy_grad_norm or grad_norm); it stored no "
        "training metrics.",
    ]
    series = run_series(points, "gradient norm")
    assert list(series["value"]) == [0.25, 0.5] and list(series["label"]) == ["ppo-mlp", "sac-mlp"]


def test_log_scale_only_for_positive_values_spanning_two_decades() -> None:
    assert wants_log_scale(pd.Series([0.01, 5.0, math.inf]))
    assert not wants_log_scale(pd.Series([0.5, 5.0]))
    assert not wants_log_scale(pd.Series([-1.0, 500.0]))
    assert not wants_log_scale(pd.Series([math.nan]))


def test_the_store_returns_what_the_evaluations_stored(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'metrics.db'}")
    metrics = [{}, {"critic_loss": 2.5, "note": "text", "flag": True}, {"critic_loss": math.nan}]
    insert_runs(
        engine,
        [
            SyntheticRun(
                "sac",
                TASK,
                "sanity",
                0,
                1.0,
                curve=[(0, 0.0), (10, 1.0), (20, 2.0)],
                train_metrics=metrics,
            ),
            SyntheticRun(
                "sac",
                "CartPole-V-v0",
                "sanity",
                0,
                1.0,
                curve=[(0, 0.0)],
                train_metrics=[{"critic_loss": 9.0}],
            ),
            SyntheticRun(
                "sac",
                TASK,
                "sanity",
                1,
                None,
                status="failed",
                curve=[(0, 0.0)],
                train_metrics=[{"critic_loss": 1.0}],
            ),
        ],
    )
    table = suite_train_metrics(engine, "sanity", "smoke", tasks=[TASK])
    assert list(table.columns) == ["run_id", "env_step", "metric", "value"]
    assert list(table["env_step"]) == [10, 20] and set(table["metric"]) == {"critic_loss"}
    assert table["value"].iloc[0] == 2.5 and math.isnan(table["value"].iloc[1])
    assert len(suite_train_metrics(engine, "sanity", "smoke")) == 3  # both tasks


def test_of_two_configs_only_the_one_the_statistics_use_is_drawn() -> None:
    points = pd.DataFrame(
        [(1, 0, "critic_loss", 1.0), (2, 0, "critic_loss", 3.0), (3, 0, "critic_loss", 100.0)],
        columns=["run_id", "env_step", "metric", "value"],
    )
    finished = pd.DataFrame(
        [(1, TASK, "sac", 0, "a"), (2, TASK, "sac", 1, "a"), (3, TASK, "sac", 0, "b")],
        columns=["run_id", "task", "label", "seed", "config_hash"],
    )
    curves = stability_curves(task_points(points, finished, TASK), "critic_loss", reps=10)
    assert list(curves["mean"]) == [2.0] and list(curves["seeds"]) == [2]
