"""RESeL learns to remember: it solves the passive T-maze where memoryless SAC stays at chance.

TMazePassive-10-v0 shows the goal side only in the first observation; at the junction, 10 steps
later, a memoryless policy can do no better than success 0.5. ``resel`` with the diagnostic
suite's small settings (baselines/resel/diagnostic.toml) reaches success 1.0 within the budget;
``sac-mlp`` on the same task and budget stays at or below chance. Each run goes through the
CLI and the store, with one torch thread. 5 to 12 minutes on two shared cores (measured
292 s and 706 s; the RESeL run dominates), hence ``slow``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

TASK = "TMazePassive-10-v0"
STEPS = 14000


def final_success(cli: Any, db_url: str, agent: str) -> float:
    result = cli("run", "--agent", agent, "--task", TASK, "--steps", str(STEPS), "--seeds", "0",
                 "--threads", "1", "--db", db_url)  # fmt: skip
    assert result.status == 0, result.out + result.err
    runs = json.loads(cli("results", "--agent", agent, "--db", db_url, "--json").out)
    assert len(runs) == 1 and runs[0]["status"] == "finished" and runs[0]["metric"] == "success"
    return float(runs[0]["final_score"])


@pytest.mark.slow
def test_resel_solves_the_t_maze_where_sac_mlp_stays_at_chance(cli: Any, db_url: str) -> None:
    assert final_success(cli, db_url, "resel") >= 0.95
    assert final_success(cli, db_url, "sac-mlp") <= 0.75
