"""Turn an evaluation curve into the numbers a run is ranked by.

* final score: the mean of the evaluations in the last ``fraction`` (5 %) of the budget, and at
  least the last evaluation (SPEC §3; Memory-RL takes the last 5 % of its curve too);
* area under the curve: the time-average of the curve over the budget (trapezoids), which
  rewards learning early;
* score at an intermediate step (the mdp suite's 300k and 1M): the same window rule ending at
  that step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Point = tuple[int, float]


def final_score(points: Sequence[Point], budget: int, fraction: float = 0.05) -> float | None:
    """Mean of the values whose step is in the last ``fraction`` of ``budget``."""
    return score_at(points, budget, fraction)


def score_at(points: Sequence[Point], step: int, fraction: float = 0.05) -> float | None:
    """Mean of the values with step in ``[step * (1 - fraction), step]``, or the last before."""
    before = sorted((s, v) for s, v in points if s <= step and np.isfinite(v))
    if not before:
        return None
    start = step * (1.0 - fraction)
    window = [v for s, v in before if s >= start]
    if not window:
        window = [before[-1][1]]
    return float(np.mean(window))


def area_under_curve(points: Sequence[Point], budget: int) -> float | None:
    """Time-average of the piecewise-linear curve over ``[first step, budget]``."""
    pts = sorted((s, v) for s, v in points if s <= budget and np.isfinite(v))
    if not pts:
        return None
    if len(pts) == 1 or pts[-1][0] == pts[0][0]:
        return float(pts[-1][1])
    steps = np.array([s for s, _ in pts], dtype=np.float64)
    values = np.array([v for _, v in pts], dtype=np.float64)
    area = float(np.sum((values[1:] + values[:-1]) * 0.5 * np.diff(steps)))
    return area / float(steps[-1] - steps[0])
