"""Sweeps: expand agent x task x seed into jobs and run them with one writer."""

from __future__ import annotations

from pomdpbench.sweep.local import SweepInterrupted, SweepReport, run_sweep
from pomdpbench.sweep.plan import SweepRequest, plan

__all__ = ["SweepInterrupted", "SweepReport", "SweepRequest", "plan", "run_sweep"]
