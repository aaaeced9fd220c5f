"""The aggregate statistics against direct rliable calls on the same arrays."""

from __future__ import annotations

import numpy as np
import pytest
from rliable import library as rly
from rliable import metrics

from pomdpbench.stats import aggregate as agg

REPS = 300


def rliable_aggregates(scores: np.ndarray) -> np.ndarray:
    """rliable's own four metric functions (the reference for ``agg.aggregates``)."""
    return np.array(
        [
            metrics.aggregate_iqm(scores),
            metrics.aggregate_median(scores),
            metrics.aggregate_mean(scores),
            metrics.aggregate_optimality_gap(scores),
        ]
    )


@pytest.mark.parametrize("shape", [(1, 1), (3, 2), (5, 7), (6, 9), (10, 1)])
def test_iqm_equals_rliable(shape: tuple[int, int]) -> None:
    scores = np.random.default_rng(sum(shape)).normal(size=shape)
    assert agg.iqm(scores) == pytest.approx(metrics.aggregate_iqm(scores), rel=1e-12)
    np.testing.assert_allclose(agg.aggregates(scores), rliable_aggregates(scores), rtol=1e-12)


def test_improvement_probability_equals_rliable_with_ties_and_unequal_runs() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(4, 3)).astype(float)  # integers: many ties
    y = rng.integers(0, 4, size=(7, 3)).astype(float)
    assert agg.improvement_probability(x, y) == pytest.approx(
        metrics.probability_of_improvement(x, y), rel=1e-12
    )
    # rliable's hand-checkable case: one task, X = [1, 2], Y = [2, 3] -> 1/8 + 0 ... = 0.125
    one = agg.improvement_probability(np.array([[1.0], [2.0]]), np.array([[2.0], [3.0]]))
    assert one == pytest.approx(0.125)


def test_intervals_equal_a_direct_rliable_call() -> None:
    rng = np.random.default_rng(0)
    matrices = {"a": rng.random((5, 4)), "b": rng.random((3, 4)) + 0.5}
    ours = agg.interval_estimates(matrices, reps=REPS, seed=11)
    for label, matrix in matrices.items():
        np.random.seed(agg.derive_seed(11, label))
        points, cis = rly.get_interval_estimates({label: matrix}, rliable_aggregates, reps=REPS)
        for i, name in enumerate(agg.METRIC_NAMES):
            got = ours[label][name]
            assert got.point == pytest.approx(points[label][i], rel=1e-12)
            assert got.lower == pytest.approx(cis[label][0, i], rel=1e-9)
            assert got.upper == pytest.approx(cis[label][1, i], rel=1e-9)
            assert got.lower <= got.point <= got.upper


def test_bootstrap_is_reproducible_and_independent_of_other_entries() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.random((6, 5)), rng.random((6, 5))
    before = np.random.get_state()[1].copy()
    first = agg.interval_estimates({"a": a}, reps=REPS)
    again = agg.interval_estimates({"b": b, "a": a}, reps=REPS)
    assert first["a"] == again["a"]
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # global state restored
    other_seed = agg.interval_estimates({"a": a}, reps=REPS, seed=1)
    assert other_seed["a"]["IQM"] != first["a"]["IQM"]  # the seed matters


def test_performance_profiles_equal_rliable() -> None:
    rng = np.random.default_rng(2)
    matrix = rng.random((4, 3))
    taus = np.linspace(0, 1, 11)
    ours = agg.performance_profiles({"a": matrix}, taus, reps=REPS, seed=5)["a"]
    np.random.seed(agg.derive_seed(5, "a"))
    profiles, cis = rly.create_performance_profile({"a": matrix}, taus, reps=REPS)
    np.testing.assert_allclose(ours.value, profiles["a"])
    np.testing.assert_allclose(ours.lower, cis["a"][0])
    np.testing.assert_allclose(ours.upper, cis["a"][1])
    # hand check: fraction of the 12 runs above tau = 0 is 1, above the maximum is 0
    assert ours.value[0] == 1.0 and ours.value[-1] == float(np.mean(matrix > 1.0))


def test_probability_of_improvement_equals_rliable() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.random((5, 3)) + 0.2, rng.random((3, 3))
    ours = agg.probability_of_improvement({"x": x, "y": y}, [("x", "y")], reps=REPS, seed=2)
    np.random.seed(agg.derive_seed(2, "x,y"))
    points, cis = rly.get_interval_estimates(
        {"x,y": (x, y)},
        lambda a, b: np.array([metrics.probability_of_improvement(a, b)]),
        reps=REPS,
    )
    got = ours[("x", "y")]
    assert got.point == pytest.approx(points["x,y"][0])
    assert (got.lower, got.upper) == pytest.approx((cis["x,y"][0, 0], cis["x,y"][1, 0]))


def test_sample_efficiency_equals_rliable_iqm_per_step() -> None:
    rng = np.random.default_rng(5)
    curves = np.sort(rng.random((4, 3, 6)), axis=2)
    x = np.linspace(0, 1000, 6)
    ours = agg.sample_efficiency({"a": curves}, x, reps=REPS, seed=3)["a"]

    def iqm_steps(scores: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(scores[..., j]) for j in range(scores.shape[-1])])

    np.random.seed(agg.derive_seed(3, "a"))
    points, cis = rly.get_interval_estimates({"a": curves}, iqm_steps, reps=REPS)
    np.testing.assert_allclose(ours.value, points["a"])
    np.testing.assert_allclose(ours.lower, cis["a"][0])
    np.testing.assert_allclose(ours.upper, cis["a"][1])
    np.testing.assert_array_equal(ours.x, x)


def test_statistics_do_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pomdpbench.stats.board, pomdpbench.stats.report, pomdpbench.store;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_interval_is_the_same_alone_or_with_the_other_metrics() -> None:
    matrix = np.random.default_rng(6).random((5, 4))
    alone = agg.interval_estimates({"a": matrix}, reps=REPS, names=("IQM",))["a"]["IQM"]
    together = agg.interval_estimates({"a": matrix}, reps=REPS)["a"]["IQM"]
    assert alone == together
