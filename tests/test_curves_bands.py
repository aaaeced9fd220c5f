"""Learning-curve bands: 95 % bootstrap intervals of the mean, inside the metric's range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pomdpbench.stats.curves import bootstrap_mean_interval, task_curves


def frames(values: list[float], metric: str = "return") -> tuple[pd.DataFrame, pd.DataFrame]:
    column = "success_rate" if metric == "success" else "mean_return"
    evaluations = pd.DataFrame(
        {
            "run_id": range(len(values)),
            "env_step": 100,
            column: values,
            "success_rate" if metric != "success" else "mean_return": 0.0,
        }
    )
    finished = pd.DataFrame(
        {"run_id": range(len(values)), "label": "a", "task": "T", "metric": metric}
    )
    return evaluations, finished


def test_two_far_apart_seeds_stay_inside_the_observed_range() -> None:
    # a t-interval here is 100 +- 12.7 * 100: -1,170 to 1,370 on a task scored in [0, 200]
    (row,) = task_curves(*frames([0.0, 200.0]), "T").itertuples()
    assert row.mean == 100.0 and 0.0 <= row.lower < row.mean < row.upper <= 200.0


def test_success_bands_are_clipped_to_zero_one() -> None:
    (row,) = task_curves(*frames([0.0, 1.0, 1.0], "success"), "T").itertuples()
    assert 0.0 <= row.lower <= row.mean <= row.upper <= 1.0


def test_the_interval_is_seeded_narrows_with_seeds_and_is_a_point_for_one() -> None:
    rng = np.random.default_rng(0)
    few, many = rng.normal(100, 20, 3), rng.normal(100, 20, 30)
    assert bootstrap_mean_interval(few, seed=3) == bootstrap_mean_interval(few, seed=3)
    width = [np.subtract(*bootstrap_mean_interval(v)[::-1]) for v in (few, many)]
    assert width[1] < width[0]
    low, high = bootstrap_mean_interval(many)
    assert low < many.mean() < high
    # about 1.96 standard errors each side for 30 normal seeds
    assert (high - low) / 2 == pytest.approx(1.96 * many.std(ddof=1) / np.sqrt(30), rel=0.2)
    assert bootstrap_mean_interval(np.array([5.0])) == (5.0, 5.0)
