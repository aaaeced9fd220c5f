"""The recorded reference scores of credit, credit-cont, meta and memory are reproducible.

Each ``random`` figure was measured with ``pomdpbench reference --suite S --episodes 100``
(recorded next to it); the episode seeds are fixed, so re-measuring gives the same mean. The
memory targets come from the scripted oracle with the same seeds.
"""

from __future__ import annotations

import pytest

import pomdpbench
from pomdpbench.cli.reference_cmd import measure_random
from pomdpbench.diagnostics.point_mass_oracle import ORACLES, measure_oracle

TASKS = [
    t.id for s in ("credit", "credit-cont", "meta", "memory") for t in pomdpbench.list_tasks(s)
]


@pytest.mark.slow
@pytest.mark.parametrize("task_id", TASKS)
def test_random_reference_is_what_the_recorded_command_measures(task_id):
    recorded = pomdpbench.get_task(task_id).references["random"]
    assert "--episodes 100 --seed 0" in recorded.source
    measured = measure_random(task_id, episodes=100, seed=0)["mean"]
    assert measured == pytest.approx(recorded.score, rel=1e-3, abs=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("task_id", sorted(ORACLES))
def test_memory_target_is_what_the_scripted_oracle_earns(task_id):
    recorded = pomdpbench.get_task(task_id).references["target"]
    assert "point_mass_oracle --episodes 100 --seed 0" in recorded.source
    figures = measure_oracle(task_id, episodes=100, seed=0)
    assert figures["success"] == 1.0
    assert figures["return"] == pytest.approx(recorded.score, rel=1e-3)
