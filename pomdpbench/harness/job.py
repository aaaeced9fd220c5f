"""Moved to :mod:`pomdpbench.record.job` (the run record's vocabulary); kept for imports."""

from __future__ import annotations

from pomdpbench.record.job import PROTOCOL_VERSION, JobSpec, schedule

__all__ = ["PROTOCOL_VERSION", "JobSpec", "schedule"]
