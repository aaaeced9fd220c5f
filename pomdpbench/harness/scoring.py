"""Moved to :mod:`pomdpbench.record.scoring` (the run record's vocabulary); kept for imports."""

from __future__ import annotations

from pomdpbench.record.scoring import Point, area_under_curve, final_score, score_at

__all__ = ["Point", "area_under_curve", "final_score", "score_at"]
