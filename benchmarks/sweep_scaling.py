"""Throughput of a sweep with 1 and 2 local workers and with Ray on 2 CPUs, side by side.

The sweep is ``sac-mlp`` smoke runs (the sanity suite's smoke tier: 2,000 steps, 1,000 of
them learning, evaluations at 0, 1,000 and 2,000) on Pendulum-V-v0 with several seeds, run
the way ``pomdpbench run`` runs it, into a fresh SQLite store each time:

* ``1 worker``: every run in this process, one after another (``--workers 1``);
* ``2 workers``: two spawned worker processes (``--workers 2``);
* ``ray 2 CPUs``: a private Ray instance of 2 CPUs, one CPU per run (``--backend ray
  --workers 2``); the instance's start-up is timed apart and not counted.

Throughput is the env steps of all finished runs divided by the sweep's wall time; the ratios
are to ``1 worker`` measured in the same invocation, so load from elsewhere affects all of
them. Every run uses one torch thread (``JobSpec.threads``, which ``run_job`` applies with
``torch.set_num_threads`` in the process that trains; Ray also sets ``OMP_NUM_THREADS=1`` for a
one-CPU task), so two workers on two cores do not compete for each other's core. Goals on a
2-core machine: >= 1.8 for 2 local workers, >= 1.7 for Ray on 2 CPUs (start-up of worker
processes, importing torch, is part of both and is what keeps them under 2). The script also
prints what two processes of pure one-thread torch work get done here relative to one (the
machine's own ceiling), measured in the same invocation.

Needs the ``ray`` extra: ``pip install -e .[ray]``.

Usage: python benchmarks/sweep_scaling.py [--seeds 4] [--steps N] [--repeats 1]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from pomdpbench.harness.job import JobSpec
from pomdpbench.store import Store
from pomdpbench.sweep import SweepReport, SweepRequest, plan, run_sweep
from pomdpbench.sweep.display import SweepDisplay
from pomdpbench.sweep.ray_backend import run_sweep_on_ray
from pomdpbench.sweep.ray_connect import RayOptions, ray_session

TASK = "Pendulum-V-v0"


def jobs_in(folder: Path, seeds: int, steps: int | None) -> list[JobSpec]:
    request = SweepRequest(
        agent="sac-mlp",
        tasks=(TASK,),
        seeds=list(range(seeds)),
        tier=None if steps else "smoke",
        steps=steps,
        checkpoint_root=folder / "checkpoints",
    )
    return plan(request)


def quiet() -> SweepDisplay:
    return SweepDisplay(console=Console(file=io.StringIO(), width=160), live=False)


def measure(
    run: Callable[[list[JobSpec], Store], SweepReport], seeds: int, steps: int | None
) -> float:
    """Env steps per second of one sweep, summed over its runs."""
    with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as scratch:
        folder = Path(scratch)
        jobs = jobs_in(folder, seeds, steps)
        store = Store.open(f"sqlite:///{folder / 'results.db'}")
        start = time.perf_counter()
        report = run(jobs, store)
        wall = time.perf_counter() - start
        if len(report.finished) != len(jobs):
            raise SystemExit(f"only {len(report.finished)} of {len(jobs)} runs finished")
        return sum(summary.env_steps for summary in report.finished) / wall


def _matmuls(count: int) -> None:
    """A fixed one-thread torch workload, the shape of a small learner's update."""
    import torch

    torch.set_num_threads(1)
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    for _ in range(count):
        (a @ b).relu_()


def machine_ceiling(count: int = 3000) -> float:
    """What two processes get done on this machine relative to one, on pure one-thread work.

    A two-vCPU virtual machine rarely doubles (shared caches, memory bandwidth, a host that
    hands out hyperthreads), so this is the ratio the sweep ratios are bounded by here.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    rates = []
    for processes in (1, 2):
        with context.Pool(processes) as pool:
            pool.map(_matmuls, [10] * processes)  # start-up and imports, not timed
            started = time.perf_counter()
            pool.map(_matmuls, [count] * (2 * processes))
            rates.append(2 * processes * count / (time.perf_counter() - started))
    return rates[1] / rates[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=4, help="runs in the sweep")
    parser.add_argument("--steps", type=int, help="budget per run (default: the smoke tier)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds; each keeps its best")
    args = parser.parse_args()

    ceiling = machine_ceiling()  # first: before any sweep has started worker processes
    print(f"machine: 2 processes / 1 on one-thread torch work: {ceiling:.2f}")
    threads = {job.threads for job in jobs_in(Path(tempfile.gettempdir()), 1, args.steps)}
    print(f"sac-mlp on {TASK}, {args.seeds} runs, torch threads per run: {sorted(threads)}")
    options = RayOptions(cpus_per_run=1.0, local_runs=2)
    started = time.perf_counter()
    best = {"1 worker": 0.0, "2 workers": 0.0, "ray 2 CPUs": 0.0}
    with ray_session(options):
        print(f"private Ray instance of 2 CPUs started in {time.perf_counter() - started:.1f} s")
        sides: dict[str, Callable[[list[JobSpec], Store], SweepReport]] = {
            "1 worker": lambda jobs, store: run_sweep(jobs, store, quiet(), workers=1),
            "2 workers": lambda jobs, store: run_sweep(jobs, store, quiet(), workers=2),
            "ray 2 CPUs": lambda jobs, store: run_sweep_on_ray(jobs, store, quiet(), options),
        }
        for round_ in range(args.repeats):
            for name, run in sides.items():
                rate = measure(run, args.seeds, args.steps)
                best[name] = max(best[name], rate)
                print(f"round {round_ + 1}: {name:<11} {rate:8.1f} env steps/s")
    base = best["1 worker"]
    goals = {"2 workers": 1.8, "ray 2 CPUs": 1.7}
    for name, goal in goals.items():
        ratio = best[name] / base
        verdict = "meets" if ratio >= goal else "misses"
        print(f"{name:<11} / 1 worker: {ratio:.2f}  ({verdict} the goal >= {goal})")


if __name__ == "__main__":
    main()
