"""Run a sweep's jobs here: in this process (one worker) or in worker processes.

The parent process is the only writer of the store: workers report events through a queue.
Before a job starts, the store decides its fate: a finished run is skipped, a run that
another live process is running is skipped, and an interrupted or failed run continues from
its latest checkpoint (or starts over, keeping the evaluations already stored).

Ctrl-C reaches every process of the foreground group: each worker checkpoints at its current
step and reports "interrupted", then the parent marks anything still open as interrupted. A
worker killed outright (SIGKILL, out of memory) is noticed when its process exits without a
final event; its run is marked interrupted and resumes from its last periodic checkpoint.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue as queue_module
import socket
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pomdpbench.harness import events as ev
from pomdpbench.harness.checkpoint import latest_checkpoint, remove_checkpoints
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import run_job
from pomdpbench.registry import get_task
from pomdpbench.store import provenance
from pomdpbench.store.repository import RunSummary, Store
from pomdpbench.sweep.display import SweepDisplay


@dataclass
class SweepReport:
    """How the sweep's runs ended."""

    finished: list[RunSummary] = field(default_factory=list)
    failed: list[RunSummary] = field(default_factory=list)
    interrupted: list[RunSummary] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Labels of runs not started (already finished, or busy elsewhere)."""
    was_interrupted: bool = False


class SweepInterrupted(Exception):
    """Ctrl-C stopped the sweep; the report says what was saved."""

    def __init__(self, report: SweepReport) -> None:
        super().__init__("interrupted")
        self.report = report


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare(
    job: JobSpec, store: Store, display: SweepDisplay, report: SweepReport
) -> JobSpec | None:
    """Decide whether ``job`` runs, resumes or is skipped; create or reopen its row."""
    existing = store.find(job.run_key)
    if existing is not None:
        if existing.status == "finished":
            report.skipped.append(f"{job.label} (finished)")
            return None
        busy = (
            existing.status == "running" and existing.pid is not None
            and existing.host == socket.gethostname() and existing.pid != os.getpid()
            and _pid_alive(existing.pid)
        )  # fmt: skip
        if busy:
            display.note(f"skip   {job.label}: pid {existing.pid} is running it")
            report.skipped.append(f"{job.label} (running in pid {existing.pid})")
            return None
    checkpoint = latest_checkpoint(Path(job.checkpoint_dir)) if job.checkpoint_dir else None
    known = store.eval_steps(job.run_key) if existing is not None else ()
    job = replace(job, resume=checkpoint is not None, known_eval_steps=known)
    task = get_task(job.task)
    store.begin_run(job, task, provenance.collect(job.device, task.simulator_package))
    resume_step = int(checkpoint.name.split("-")[-1]) if checkpoint is not None else None
    display.launching(job, resume_step)
    return job


def _record(event: ev.Event, store: Store, display: SweepDisplay, report: SweepReport) -> None:
    store.apply(event)
    display.handle(event)
    if isinstance(event, (ev.Finished, ev.Stopped)):
        summary = store.find(event.run_key)
        assert summary is not None
        display.done(summary)
        if summary.status == "finished":
            report.finished.append(summary)
        elif summary.status == "failed":
            report.failed.append(summary)
        else:
            report.interrupted.append(summary)


def run_sweep(
    jobs: Sequence[JobSpec], store: Store, display: SweepDisplay, workers: int = 1
) -> SweepReport:
    """Run every job; raise :class:`SweepInterrupted` after a Ctrl-C."""
    report = SweepReport()
    if workers <= 1:
        _run_inline(jobs, store, display, report)
    else:
        _run_processes(jobs, store, display, report, workers)
    for summary in report.finished:
        job = next((j for j in jobs if j.run_key == summary.run_key), None)
        if job is not None and job.checkpoint_dir:
            remove_checkpoints(Path(job.checkpoint_dir))
    if report.was_interrupted:
        raise SweepInterrupted(report)
    return report


def _run_inline(
    jobs: Sequence[JobSpec], store: Store, display: SweepDisplay, report: SweepReport
) -> None:
    for job in jobs:
        prepared = prepare(job, store, display, report)
        if prepared is None:
            continue
        try:
            run_job(prepared, lambda event: _record(event, store, display, report))
        except KeyboardInterrupt:
            report.was_interrupted = True
            store.mark_interrupted([prepared.run_key], "interrupted by Ctrl-C")
            return


def _worker_main(job: JobSpec, events: Any) -> None:
    """Entry point of a worker process (spawned: imports pomdpbench afresh)."""
    import pomdpbench  # noqa: F401 - registers the tasks in this fresh interpreter

    with contextlib.suppress(KeyboardInterrupt):  # run_job already checkpointed and reported
        run_job(job, ev.QueueSink(events))


def _run_processes(
    jobs: Sequence[JobSpec],
    store: Store,
    display: SweepDisplay,
    report: SweepReport,
    workers: int,
) -> None:
    context = mp.get_context("spawn")
    events = context.Queue()
    pending = deque(jobs)
    running: dict[str, Any] = {}
    closed: set[str] = set()

    def drain(block_s: float) -> None:
        try:
            event = events.get(timeout=block_s)
        except queue_module.Empty:
            return
        while True:
            _record(event, store, display, report)
            if isinstance(event, (ev.Finished, ev.Stopped)):
                closed.add(event.run_key)
            try:
                event = events.get_nowait()
            except queue_module.Empty:
                return

    def reap() -> None:
        for key, process in list(running.items()):
            if process.is_alive():
                continue
            process.join()
            drain(0.05)
            if key not in closed:
                reason = f"worker process exited with code {process.exitcode} without reporting"
                store.mark_interrupted([key], reason)
                summary = store.find(key)
                if summary is not None:
                    display.done(summary)
                    report.interrupted.append(summary)
            del running[key]

    try:
        while pending or running:
            while pending and len(running) < workers:
                job = prepare(pending.popleft(), store, display, report)
                if job is None:
                    continue
                process = context.Process(target=_worker_main, args=(job, events), daemon=False)
                process.start()
                running[job.run_key] = process
            drain(0.2)
            reap()
    except KeyboardInterrupt:
        report.was_interrupted = True
        display.note("interrupted: waiting for workers to checkpoint ...")
        for _ in range(600):  # up to about 60 s for checkpoints to be written
            if not running:
                break
            try:
                drain(0.1)
                reap()
            except KeyboardInterrupt:
                break
        for process in running.values():
            process.terminate()
            process.join(5)
        drain(0.1)
        store.mark_interrupted(list(running), "interrupted by Ctrl-C")
