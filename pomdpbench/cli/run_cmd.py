"""``pomdpbench run``: train and evaluate an agent on a suite or tasks, store the runs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pomdpbench.agents.config import parse_overrides
from pomdpbench.agents.registry import get_agent_spec
from pomdpbench.cli.common import add_db_option
from pomdpbench.errors import ConfigError

if TYPE_CHECKING:
    from pomdpbench.sweep import SweepReport
    from pomdpbench.sweep.display import SweepDisplay
    from pomdpbench.sweep.ray_connect import RayOptions


def add_parser(commands: Any) -> None:
    """Register the ``run`` subcommand."""
    parser = commands.add_parser(
        "run",
        help="run an agent on a suite or tasks",
        description="Train an agent on every task x seed and store evaluations and scores. "
        "Running the same command again skips finished runs and resumes interrupted ones.",
    )
    parser.add_argument("--agent", required=True, help="agent id, or package.module:Name")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--suite", help="run every task of this suite")
    which.add_argument("--task", nargs="+", metavar="TASK", help="run these tasks")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", nargs="+", type=int, metavar="N", help="seeds to run")
    seeds.add_argument("--num-seeds", type=int, metavar="N", help="run seeds 0..N-1")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--budget",
        metavar="TIER",
        help="full, short (a tenth) or smoke (minutes on a CPU); default smoke",
    )
    budget.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help="explicit budget in env steps (tier 'custom'); evaluations then run at step 0, "
        "every min(the task's full-tier eval_every, N // 10) steps (at least 1) and at step N, "
        "each with the task's full-tier episodes, unless --eval-every/--eval-episodes say",
    )
    parser.add_argument("--eval-every", type=int, metavar="N", help="override the schedule")
    parser.add_argument("--eval-episodes", type=int, metavar="N", help="override the episodes")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter (repeatable)",
    )
    add_db_option(parser)
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="parallel worker processes (default 1); with --backend ray and no --address, "
        "the size of the private Ray instance in runs (default: every CPU of this machine)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local: this machine's processes (default); ray: one Ray task per run (docs/scale.md)",
    )
    parser.add_argument(
        "--address",
        metavar="ADDRESS",
        help="with --backend ray: the cluster (ray://host:port, host:port or auto); "
        "default: a private Ray instance on this machine, shut down when the sweep ends",
    )
    parser.add_argument(
        "--cpus-per-run",
        type=float,
        metavar="F",
        help="with --backend ray: CPUs each run reserves (default 1; fractions allowed)",
    )
    parser.add_argument(
        "--gpus-per-run",
        type=float,
        metavar="F",
        help="with --backend ray: GPUs each run reserves (default 0; 0.5 shares a GPU)",
    )
    parser.add_argument("--threads", type=int, help="torch threads per run (default: 1)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--checkpoint-dir",
        metavar="PATH",
        help="where checkpoints go (default: <db file>-checkpoints/ beside a SQLite file)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="checkpoint at an evaluation when this long has passed since the last (default 300)",
    )
    parser.set_defaults(handler=run)


def checkpoint_root(explicit: str | None, url: str) -> Path:
    """``--checkpoint-dir``, ``$POMDPBENCH_CHECKPOINTS``, or a folder beside the SQLite file."""
    chosen = explicit or os.environ.get("POMDPBENCH_CHECKPOINTS")
    if chosen:
        return Path(chosen)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db_file = Path(url.removeprefix("sqlite:///"))
        return db_file.with_name(db_file.stem + "-checkpoints")
    return Path("pomdpbench-checkpoints")


def _check_device(device: str) -> None:
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise ConfigError(f"unknown device {device!r}: use cpu, cuda or cuda:N")
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            f"--device {device} asked for, but CUDA is not available: use --device cpu"
        )


def run(args: argparse.Namespace) -> int:
    """Plan the sweep, open the store, run, and summarize."""
    if os.getcwd() not in sys.path:
        # so `--agent my_module:Agent` finds ./my_module.py; appended, not prepended, so a
        # pomdpbench/ folder here (a clone) never shadows the pomdpbench that is running
        sys.path.append(os.getcwd())
    # an unknown agent is refused before the sweep machinery (torch) is imported; plan()
    # checks everything else, and the agent again
    get_agent_spec(args.agent)
    ray_options = _ray_options(args)
    if ray_options is None:  # on Ray the cluster's nodes have the devices, not this one
        _check_device(args.device)
    from pomdpbench.store import Store
    from pomdpbench.store.database import database_url
    from pomdpbench.sweep import SweepInterrupted, SweepRequest, plan, run_sweep
    from pomdpbench.sweep.display import SweepDisplay

    url = database_url(args.db)
    workers = 1 if args.workers is None else args.workers
    request = SweepRequest(
        agent=args.agent,
        suite=args.suite,
        tasks=tuple(args.task or ()),
        seeds=args.seeds,
        num_seeds=args.num_seeds,
        tier=args.budget,
        steps=args.steps,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        overrides=parse_overrides(args.set),
        device=args.device,
        workers=workers,
        threads=args.threads,
        checkpoint_root=checkpoint_root(args.checkpoint_dir, url),
        checkpoint_every_s=args.checkpoint_every,
    )
    jobs = plan(request)
    store = Store.open(url)
    display = SweepDisplay()
    try:
        if ray_options is not None:
            from pomdpbench.sweep.ray_backend import run_sweep_on_ray
            from pomdpbench.sweep.ray_connect import ray_session

            with ray_session(ray_options), display:
                report = run_sweep_on_ray(jobs, store, display, ray_options)
        else:
            with display:
                report = run_sweep(jobs, store, display, workers=workers)
    except SweepInterrupted as stop:
        _summarize(stop.report, url, display)
        display.note("interrupted: run the same command again to resume from the checkpoints")
        return 130
    _summarize(report, url, display)
    if report.complete:
        return 0
    unfinished = len(report.failed) + len(report.interrupted) + len(report.busy)
    sys.stderr.write(
        f"error: {unfinished} of {unfinished + len(report.finished) + len(report.skipped)} "
        f"runs did not finish ({_counts(report)}): see `pomdpbench results --status failed`, "
        "or run the same command again to resume\n"
    )
    return 1


def _ray_options(args: argparse.Namespace) -> RayOptions | None:
    """The Ray backend's settings, checked; None for the local backend."""
    if args.backend != "ray":
        for flag, value in (
            ("--address", args.address),
            ("--cpus-per-run", args.cpus_per_run),
            ("--gpus-per-run", args.gpus_per_run),
        ):
            if value is not None:
                raise ConfigError(f"{flag} is a Ray setting: add --backend ray")
        return None
    from pomdpbench.sweep.ray_connect import (
        RayOptions,
        check_reachable,
        check_request,
        require_ray,
    )

    require_ray()
    cpus = 1.0 if args.cpus_per_run is None else args.cpus_per_run
    gpus = 0.0 if args.gpus_per_run is None else args.gpus_per_run
    check_request(cpus, "--cpus-per-run")
    check_request(gpus, "--gpus-per-run")
    if args.device != "cpu" and gpus == 0:
        raise ConfigError(
            f"--device {args.device} on Ray needs --gpus-per-run (1, or 0.5 to share a GPU)"
        )
    if args.address is not None and args.workers is not None:
        raise ConfigError(
            "--workers sizes a private Ray instance; on a cluster its resources and "
            "--cpus-per-run decide how many runs go at once: leave out --workers"
        )
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if args.address is not None:
        check_reachable(args.address)
    return RayOptions(
        address=args.address, cpus_per_run=cpus, gpus_per_run=gpus, local_runs=args.workers
    )


def _counts(report: SweepReport) -> str:
    parts = []
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.interrupted:
        parts.append(f"{len(report.interrupted)} interrupted")
    if report.busy:
        parts.append(f"{len(report.busy)} owned by another running sweep")
    return ", ".join(parts)


def _summarize(report: SweepReport, url: str, display: SweepDisplay) -> None:
    parts = [f"{len(report.finished)} finished"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.interrupted:
        parts.append(f"{len(report.interrupted)} interrupted")
    if report.busy:
        parts.append(f"{len(report.busy)} skipped (another sweep is running them)")
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped (already finished)")
    display.note(", ".join(parts) + f"; results in {url}: `pomdpbench results`")
