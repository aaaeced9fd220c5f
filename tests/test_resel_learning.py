"""RESeL learns to remember: it solves the passive T-maze where memoryless SAC stays at chance.

TMazePassive-10-v0 shows the goal side only in the first observation; at the junction, 10 steps
later, a memoryless policy can do no better than success 0.5. ``resel`` with the diagnostic
suite's small settings (baselines/resel/diagnostic.toml) solves it on every one of three seeds
within the budget; ``sac-mlp`` on the same task, seeds and budget stays at or below chance;
and ``resel-same-lr`` (the encoders at the other rates, RESeL Fig. 11c) ends no better than
``resel`` on average over the seeds.

Three seeds, not one: floating-point results differ between CPUs and one RL run amplifies the
difference (issue 17: seed 0 ended at 0.55 on one machine and at 1.0 on another), so the
assertion is on every seed with a margin below what the runs reach (``MIN_SUCCESS``). Each run
goes through the CLI and the store, with one torch thread, two runs at a time. Measured
durations are in the README (slow tier).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

TASK = "TMazePassive-10-v0"
STEPS = 14000
SEEDS = ("0", "1", "2")
MIN_SUCCESS = 0.8
"""Every RESeL seed must end at least here: above the memoryless optimum 0.5 by a margin, and
below the 1.0 the runs reach (per-seed curves in docs/resel.md)."""


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One results database for the module: ``run`` skips finished runs, so the RESeL runs
    made for one test are reused by the next."""
    return f"sqlite:///{tmp_path_factory.mktemp('t-maze') / 'results.db'}"


def final_successes(cli: Any, db_url: str, agent: str) -> list[float]:
    """Run ``agent`` on the T-maze for every seed (or reuse the stored runs); final successes."""
    result = cli(
        "run",
        "--agent",
        agent,
        "--task",
        TASK,
        "--steps",
        str(STEPS),
        "--seeds",
        *SEEDS,
        "--workers",
        "2",
        "--threads",
        "1",
        "--db",
        db_url,
    )
    assert result.status == 0, result.out + result.err
    runs = json.loads(cli("results", "--agent", agent, "--db", db_url, "--json").out)
    assert sorted(str(run["seed"]) for run in runs) == list(SEEDS)
    assert all(run["status"] == "finished" and run["metric"] == "success" for run in runs)
    return [float(run["final_score"]) for run in runs]


@pytest.mark.slow
def test_resel_solves_the_t_maze_on_every_seed_where_sac_mlp_stays_at_chance(
    cli: Any, shared_db: str
) -> None:
    resel = final_successes(cli, shared_db, "resel")
    assert min(resel) >= MIN_SUCCESS, resel
    sac = final_successes(cli, shared_db, "sac-mlp")
    assert max(sac) <= 0.75, sac


@pytest.mark.slow
def test_the_encoder_specific_rate_ends_no_worse_than_equal_rates(cli: Any, shared_db: str) -> None:
    """RESeL Fig. 11c's ordering on the T-maze: ``resel`` >= ``resel-same-lr``, seed-averaged.

    (The collapse of ``resel-same-lr`` after an early peak, seen in issue 17, is reported with
    the per-seed curves in docs/resel.md, not asserted: its timing varies by seed.)
    """
    resel = final_successes(cli, shared_db, "resel")
    same = final_successes(cli, shared_db, "resel-same-lr")
    assert sum(resel) / len(resel) >= sum(same) / len(same), (resel, same)
