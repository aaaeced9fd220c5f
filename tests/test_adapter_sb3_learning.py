"""Slow tier: SB3 algorithms learn under the harness through `--agent sb3:<Algorithm>`.

Both run the real path (planner, sweep, store) with the shipped configs of
baselines/sb3-*/sanity.toml and no user code, over two seeds. Measured on two shared, heavily
loaded cores, both tests at once: RecurrentPPO 8.5 minutes (final returns 161.3 and 145.8),
SAC 11 minutes (-159.2 and -148.4).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
pytest.importorskip("sb3_contrib", reason="needs the [sb3] extra: pip install -e '.[sb3]'")

from pomdpbench.store import Store  # noqa: E402
from pomdpbench.sweep import SweepRequest, plan, run_sweep  # noqa: E402
from pomdpbench.sweep.display import SweepDisplay  # noqa: E402

pytestmark = pytest.mark.slow


def final_scores(agent: str, task: str, steps: int, db_url: str, tmp_path: Path) -> list[float]:
    request = SweepRequest(
        agent=agent,
        tasks=(task,),
        steps=steps,
        seeds=(0, 1),
        eval_every=steps // 10,
        eval_episodes=10,
        checkpoint_root=tmp_path / "ckpt",
    )
    report = run_sweep(plan(request), Store.open(db_url), SweepDisplay(live=False))
    assert len(report.finished) == 2, report
    scores = [float(run.final_score) for run in report.finished]
    print(f"{agent} on {task} after {steps} steps: final returns {scores}")
    return scores


def test_recurrent_ppo_learns_cartpole_from_velocities(db_url: str, tmp_path: Path) -> None:
    """A uniform-random policy scores 22.2 (tasks/sanity.toml); the maximum is 200. The two
    seeds end at 161 and 146, and seed 0 went through 200 at 6,000 steps and 140 at 9,000
    (PPO's returns swing with a constant learning rate), so each seed must beat 100, more
    than four times random. This checks learning through the adapter, not memory: the
    memoryless sb3:PPO with the same settings ends at 137 and 107 (seeds 0, 1; the velocities
    alone let a reactive policy balance for a while), see docs/agents.md."""
    scores = final_scores("sb3:RecurrentPPO", "CartPole-V-v0", 10_000, db_url, tmp_path)
    assert min(scores) > 100


def test_sac_learns_pendulum_with_full_observations(db_url: str, tmp_path: Path) -> None:
    """Random actions score about -1,200 to -1,500 on Pendulum; the two seeds end at -159 and
    -148. Each seed must beat -500 (sac-mlp's slow test asks -400 after 50,000 steps)."""
    scores = final_scores("sb3:SAC", "Pendulum-F-v0", 5_000, db_url, tmp_path)
    assert max(scores) < 0 and min(scores) > -500
