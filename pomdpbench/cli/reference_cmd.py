"""``pomdpbench reference``: measure the ``random`` reference score of tasks.

Runs the uniform-random policy for ``--episodes`` episodes per task with fixed seeds (the
evaluation seeds of round 0 for ``--seed``) and prints the mean metric with the TOML lines to
paste into the suite file. The suite files record this command next to each figure, so anyone
can reproduce the normalization.
"""

from __future__ import annotations

import argparse
from typing import Any

from pomdpbench.cli.common import fmt, print_json, print_table
from pomdpbench.errors import ConfigError
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry import get_suite, get_task, make_env


def add_parser(commands: Any) -> None:
    """Register the ``reference`` subcommand."""
    parser = commands.add_parser(
        "reference", help="measure the random-policy reference score of tasks"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--suite", help="every task of this suite")
    which.add_argument("--task", nargs="+", metavar="TASK", help="these tasks")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per task (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episode seeds (default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def measure_random(task_id: str, episodes: int, seed: int) -> dict[str, Any]:
    """Mean and spread of the metric of uniform-random play on ``task_id``."""
    import numpy as np

    from pomdpbench.agents.protocol import AgentContext
    from pomdpbench.agents.random_agent import RandomAgent, RandomConfig
    from pomdpbench.harness.actions import ActionEncoder
    from pomdpbench.harness.evaluation import evaluate

    task = get_task(task_id)
    env = make_env(task.id, **task.eval_kwargs)
    ctx = AgentContext(
        task=task,
        observation_space=env.observation_space,
        action_space=env.action_space,
        privileged_size=None,
        seed=seed,
        budget=0,
        tier=Tier.REFERENCE,
        config=RandomConfig(),
    )
    result = evaluate(
        RandomAgent(ctx),
        env,
        env_step=0,
        episodes=episodes,
        seed=seed,
        eval_index=0,
        deterministic=False,
        encoder=ActionEncoder(env.action_space),
        privileged=False,
    )
    env.close()
    values = (
        np.asarray(result.successes, dtype=np.float64)
        if task.metric == "success" and result.successes is not None
        else np.asarray(result.returns, dtype=np.float64)
    )
    return {
        "task": task.id,
        "metric": task.metric,
        "episodes": episodes,
        "seed": seed,
        "mean": float(values.mean()),
        "stderr": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0,
        "mean_length": result.mean_length,
    }


def run(args: argparse.Namespace) -> int:
    """Measure and print."""
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {args.episodes}")
    task_ids = list(get_suite(args.suite).tasks) if args.suite else list(args.task)
    for task_id in task_ids:
        get_task(task_id)
    rows = [measure_random(task_id, args.episodes, args.seed) for task_id in task_ids]
    if args.json:
        print_json(rows)
        return 0
    print_table(
        f"uniform-random policy, {args.episodes} episodes, seed {args.seed}",
        ["task", "metric", "mean", "stderr", "mean length"],
        [
            [r["task"], r["metric"], fmt(r["mean"], 3), fmt(r["stderr"], 3), fmt(r["mean_length"])]
            for r in rows
        ],
    )
    which = f"--suite {args.suite}" if args.suite else "--task " + " ".join(task_ids)
    command = f"pomdpbench reference {which} --episodes {args.episodes} --seed {args.seed}"
    for r in rows:
        print(
            f"# {r['task']}\nreferences.random = {{ score = {r['mean']:.4g}, source = "
            f'"measured: `{command}` (mean of {args.episodes} episodes)" }}'
        )
    return 0
