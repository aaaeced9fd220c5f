"""``pomdpbench report`` writes the training-stability plots (RESeL Figs. 4-5) and their numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_helpers import report_args
from stats_fixtures import SUITE, TASKS

from pomdpbench.stats.scores import build_suite_scores
from pomdpbench.stats.stability import stability_curves, task_points
from pomdpbench.store import queries as query
from pomdpbench.store.database import open_engine
from pomdpbench.store.synthetic import SyntheticRun, insert_runs
from pomdpbench.store.train_metrics import suite_train_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STEPS = list(range(0, 1001, 100))


def metrics(agent: str, seed: int) -> list[dict[str, float]]:
    """Off-policy-like names for "sac", PPO-like for "ppo", nothing for "random"; a warm-up."""
    out: list[dict[str, float]] = [{}]  # the evaluation at step 0 comes before any update
    for k, _ in enumerate(STEPS[1:], start=1):
        value = (1.0 + seed) * k
        if agent == "sac":
            out.append({"critic_loss": value, "policy_grad_norm": 0.1 * value, "alpha": 0.2})
        elif agent == "ppo":
            out.append(
                {
                    "value_loss": -value if k == 5 and seed == 0 else value,
                    "grad_norm": math.inf if k == 7 and seed == 0 else value,
                }
            )
    return out


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'stability.db'}"
    runs = [
        SyntheticRun(
            agent,
            task,
            SUITE,
            seed,
            1.0,
            budget=1000,
            curve=[(s, 0.0) for s in STEPS],
            train_metrics=metrics(agent, seed),
        )
        for agent in ("sac", "ppo", "random")
        for task in TASKS[:2]
        for seed in range(3)
    ]
    insert_runs(open_engine(url), runs)
    return url


def test_report_writes_the_stability_plots_and_numbers(
    cli: Any, store: str, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = cli(*report_args(store, out, 200, suite=SUITE))
    assert result.status == 0, result.err
    for task in TASKS[:2]:
        for role in ("gradient_norm", "value_loss"):
            assert (out / "stability" / task / f"{role}.png").read_bytes()[:8] == PNG_MAGIC
    assert not (out / "stability" / TASKS[2]).exists()  # no runs of task C
    table = pd.read_csv(out / "stability.csv")
    engine = open_engine(store, create=False)
    finished = build_suite_scores(query.suite_runs(engine, SUITE, "smoke"), SUITE, "smoke").finished
    points = task_points(suite_train_metrics(engine, SUITE, "smoke"), finished, TASKS[0])
    for metric in ("critic_loss", "grad_norm", "alpha"):  # every metric, not only the drawn
        here = table[(table["task"] == TASKS[0]) & (table["metric"] == metric)]
        expected = stability_curves(points, metric, reps=200)
        assert list(here["mean"]) == pytest.approx(list(expected["mean"]), nan_ok=True)
        assert list(here["lower"]) == pytest.approx(list(expected["lower"]), nan_ok=True)
    sac = table[(table["task"] == TASKS[0]) & (table["metric"] == "critic_loss")]
    assert list(sac["env_step"]) == STEPS[1:]  # nothing before the first report
    assert list(sac["mean"]) == pytest.approx([2.0 * k for k in range(1, 11)])  # (1+2+3)k/3
    ppo = table[(table["task"] == TASKS[0]) & (table["metric"] == "grad_norm")]
    assert ppo.set_index("env_step").loc[700, "non_finite"] == 1
    runs = pd.read_csv(out / "stability_runs.csv")
    assert len(runs) == 2 * 3 * 10 * (3 + 2)  # tasks x seeds x steps x (sac's + ppo's names)
    text = (out / "report.md").read_text()
    assert "## Training stability" in text
    assert f"![value_loss](stability/{TASKS[0]}/value_loss.png)" in text
    sentence = (
        "random reports no gradient norm (policy_grad_norm or grad_norm); it stored no "
        "training metrics."
    )
    assert sentence in text and sentence in result.out
    assert "every task (2)" in text  # one sentence for both tasks, not one each


def test_the_agents_option_limits_the_stability_plots(cli: Any, store: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli(*report_args(store, out, 50, "--agents", "ppo", "--tasks", TASKS[0], suite=SUITE))
    assert result.status == 0, result.err
    assert set(pd.read_csv(out / "stability.csv")["label"]) == {"ppo"}
    assert set(pd.read_csv(out / "stability_runs.csv")["task"]) == {TASKS[0]}
    assert "random reports no" not in (out / "report.md").read_text()


def test_a_report_without_any_training_metrics_says_so(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    insert_runs(
        open_engine(url),
        [SyntheticRun("random", TASKS[0], SUITE, s, 1.0, curve=[(0, 0.0)]) for s in range(2)],
    )
    out = tmp_path / "report"
    result = cli(*report_args(url, out, 50, suite=SUITE))
    assert result.status == 0, result.err
    assert not (out / "stability").exists()
    text = (out / "report.md").read_text()
    assert "stability/<task>/gradient_norm.png was not drawn" in text
    assert pd.read_csv(out / "stability.csv").empty


@pytest.mark.slow
def test_real_runs_report_their_gradient_norms_and_value_losses(cli: Any, tmp_path: Path) -> None:
    """Harness -> store -> report: sac-mlp and ppo-mlp trained here (about a minute)."""
    url = f"sqlite:///{tmp_path / 'real.db'}"
    task = "TMazePassive-10-v0"
    common = ("--task", task, "--steps", "600", "--seeds", "0", "1", "--db", url)
    sac = (
        "--set",
        "learning_starts=100",
        "--set",
        "metrics_every=20",
        "--set",
        "hidden_sizes=[16]",
        "--set",
        "batch_size=16",
    )
    assert cli("run", "--agent", "sac-mlp", *common, *sac).status == 0
    ppo = ("--set", "rollout_steps=120", "--set", "minibatch_size=40")
    assert cli("run", "--agent", "ppo-mlp", *common, *ppo).status == 0
    out = tmp_path / "report"
    result = cli(*report_args(url, out, 100, suite="diagnostic", tier="custom"))
    assert result.status == 0, result.err
    for role in ("gradient_norm", "value_loss"):
        assert (out / "stability" / task / f"{role}.png").read_bytes()[:8] == PNG_MAGIC
    table = pd.read_csv(out / "stability.csv").set_index(["label", "metric"]).sort_index()
    for label, metric in (
        ("sac-mlp", "policy_grad_norm"),
        ("sac-mlp", "critic_loss"),
        ("ppo-mlp", "grad_norm"),
        ("ppo-mlp", "value_loss"),
    ):
        rows = table.loc[(label, metric)].sort_values("env_step")
        assert rows["seeds"].iloc[-1] == 2 and (rows["mean"] > 0).all(), (label, metric)
    runs = pd.read_csv(out / "stability_runs.csv")
    stored = runs[(runs["label"] == "sac-mlp") & (runs["metric"] == "policy_grad_norm")]
    assert stored["value"].nunique() > 2  # the norm changes over training
