"""Final score, area under the curve and intermediate scores, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from pomdpbench.record.scoring import area_under_curve, final_score, score_at


def test_final_score_averages_the_last_five_percent() -> None:
    points = [(0, -10.0), (900, 1.0), (950, 2.0), (975, 3.0), (1000, 4.0)]
    assert final_score(points, budget=1000) == pytest.approx((2.0 + 3.0 + 4.0) / 3)


def test_final_score_falls_back_to_the_last_evaluation() -> None:
    points = [(0, 0.0), (500, 5.0), (800, 8.0)]  # nothing in [950, 1000]
    assert final_score(points, budget=1000) == 8.0


def test_final_score_ignores_missing_values_and_empty_curves() -> None:
    assert final_score([], budget=10) is None
    assert final_score([(10, math.nan), (9, 1.0)], budget=10) == 1.0


def test_score_at_an_intermediate_step_uses_the_window_before_it() -> None:
    points = [(s, float(s)) for s in range(0, 1001, 100)]
    assert score_at(points, 500, fraction=0.2) == pytest.approx((400 + 500) / 2)


def test_area_under_curve_is_the_time_average() -> None:
    # Linear from 0 to 10 over [0, 100]: average 5; then flat 10 over [100, 200]: average 7.5.
    assert area_under_curve([(0, 0.0), (100, 10.0), (200, 10.0)], budget=200) == pytest.approx(7.5)
    assert area_under_curve([(0, 3.0)], budget=200) == 3.0
    assert area_under_curve([], budget=200) is None
