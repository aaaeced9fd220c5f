"""``pomdpbench check-agent AGENT``: the protocol's contract checks, before a submission.

Runs :mod:`pomdpbench.harness.agent_checks` on each task (default: a Box task and a Discrete
task with short episodes) and prints one ``PASS``/``FAIL``/``SKIP`` line per check with its
reason. The agent is configured as ``pomdpbench run --budget smoke`` would configure it (its
``baselines/<agent>/<suite>.toml`` with the smoke tier, when it ships one), then ``--set``.
Exit status: 0 when every check passed, 1 when one failed, 2 for input to fix (an unknown
agent or task, a malformed ``--set``, a task the agent refuses when named with ``--task``).
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_TASKS = ("Wind-v0", "TMazePassive-10-v0")
"""Box actions (75-step episodes) and Discrete actions (11-step episodes), both quick."""


def add_parser(commands: Any) -> None:
    """Register ``check-agent``."""
    parser = commands.add_parser(
        "check-agent",
        help="check that an agent honours the harness protocol (before submitting it)",
        description="Drive AGENT through the harness's own stepper and report each contract "
        "check (spaces, act/observe/update, determinism, evaluation isolation, episode reset, "
        "save/load, round trip) as one PASS/FAIL line. Exit 0 when all pass, 1 otherwise.",
    )
    parser.add_argument(
        "agent", metavar="AGENT", help="agent id, package.module:Class, or sb3:Algorithm"
    )
    parser.add_argument(
        "--task",
        nargs="+",
        metavar="T",
        help=f"tasks to check on (default: {' '.join(DEFAULT_TASKS)})",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter (repeatable), e.g. to make the agent "
        "learn within the check's steps",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=80,
        help="training steps of each of the check's two stretches (default 80)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the agent on each task; print the lines; 1 if any check failed."""
    from pomdpbench.agents.config import parse_overrides
    from pomdpbench.agents.registry import get_agent_spec, load_factory
    from pomdpbench.errors import ConfigError
    from pomdpbench.registry import get_task

    if args.steps < 2:
        raise ConfigError(f"--steps must be at least 2, got {args.steps}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {args.seed}")
    overrides = parse_overrides(args.set)
    spec = get_agent_spec(args.agent)  # an unknown agent fails here, before any import of torch
    tasks = [get_task(task_id).id for task_id in (args.task or DEFAULT_TASKS)]
    from pomdpbench.harness.agent_checks import run_checks
    from pomdpbench.sweep.plan import SweepRequest, plan

    check_task = getattr(load_factory(spec), "check_task", None)
    failed = checked = 0
    for task_id in tasks:
        refusal = check_task(get_task(task_id)) if callable(check_task) else None
        if refusal and not args.task:  # a named task the agent refuses is an error (plan's)
            print(f"{spec.id} on {task_id}: not checked: {refusal}")
            continue
        request = SweepRequest(
            agent=args.agent,
            tasks=(task_id,),
            seeds=(args.seed,),
            tier="smoke",
            overrides=overrides,
        )
        (job,) = plan(request)
        print(
            f"{spec.id} on {task_id} (seed {args.seed}, 2 x {args.steps} training steps, "
            "smoke-tier config and --set):"
        )
        for result in run_checks(job, args.steps):
            print("  " + result.line())
            failed += result.status == "fail"
        checked += 1
    if not checked:
        raise ConfigError(f"agent {spec.id!r} refuses every default task: name one with --task")
    print(f"{failed} check(s) failed" if failed else f"all checks passed on {checked} task(s)")
    return 1 if failed else 0
