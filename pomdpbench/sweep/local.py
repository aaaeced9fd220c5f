"""Run a sweep's jobs here: in this process (one worker) or in worker processes.

The parent process is the only writer of the store: workers report events through a queue.
Before a job starts, the store decides its fate: a finished run is skipped, a run whose lease
another live sweep holds is skipped (:mod:`pomdpbench.store.leases`), and an interrupted or
failed run continues from its latest checkpoint if every evaluation before it is stored, or
starts over (:func:`prepare`). Workers die with the parent (:mod:`pomdpbench.sweep.lifetime`).

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
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from pomdpbench.harness import events as ev
from pomdpbench.harness.checkpoint import latest_checkpoint, remove_checkpoints
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import run_job
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.registry import get_task
from pomdpbench.store import leases, provenance
from pomdpbench.store.repository import RunSummary, Store
from pomdpbench.sweep.display import SweepDisplay
from pomdpbench.sweep.lifetime import die_with_parent, package_first_on_path


@dataclass
class SweepReport:
    """How the sweep's runs ended."""

    finished: list[RunSummary] = field(default_factory=list)
    failed: list[RunSummary] = field(default_factory=list)
    interrupted: list[RunSummary] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Labels of runs not started because they are already finished."""
    busy: list[str] = field(default_factory=list)
    """Labels of runs not started because another live sweep owns them."""
    was_interrupted: bool = False

    @property
    def complete(self) -> bool:
        """Every run of the sweep is finished (now or before)."""
        return not (self.failed or self.interrupted or self.busy or self.was_interrupted)


class SweepInterrupted(Exception):
    """Ctrl-C stopped the sweep; the report says what was saved."""

    def __init__(self, report: SweepReport) -> None:
        super().__init__("interrupted")
        self.report = report


def prepare(
    job: JobSpec, store: Store, display: SweepDisplay, report: SweepReport
) -> JobSpec | None:
    """Decide whether ``job`` runs, resumes or is skipped; take its lease and open its row.

    A checkpoint is used only if every evaluation of the schedule before its step is stored
    (a sweep killed with evaluations still in its queue leaves a checkpoint ahead of the
    database); otherwise the run starts over. The evaluations at and after the step the run
    restarts from are deleted: the run redoes them from the same state, so none is skipped
    and none comes from a lineage that was abandoned.
    """
    existing = store.find(job.run_key)
    if existing is not None and existing.status == RunStatus.FINISHED:
        report.skipped.append(f"{job.label} (finished)")
        return None
    taken, owner = store.take_lease(job.run_key)
    if not taken:
        who = owner.describe() if owner is not None else "another sweep"
        display.note(f"skip   {job.label}: {who} is running it")
        report.busy.append(f"{job.label} ({who})")
        return None
    existing = store.find(job.run_key)  # read again: a rival may have finished it meanwhile
    if existing is not None and existing.status == "finished":
        store.release_leases([job.run_key])
        report.skipped.append(f"{job.label} (finished)")
        return None
    if owner is not None:
        display.note(f"take   {job.label} over from {owner.describe()}: its owner is gone")
    run_dir = Path(job.checkpoint_dir) if job.checkpoint_dir else None
    checkpoint = latest_checkpoint(run_dir) if run_dir is not None else None
    stored = store.eval_steps(job.run_key) if existing is not None else ()
    resume_step = checkpoint_step(checkpoint) if checkpoint is not None else 0
    missing = [s for s in job.eval_schedule if s < resume_step and s not in set(stored)]
    if checkpoint is not None and missing:
        display.note(
            f"redo   {job.label} from step 0: its checkpoint at step {resume_step:,} is ahead of "
            f"the stored evaluations (none at step {missing[0]:,})"
        )
        assert run_dir is not None
        remove_checkpoints(run_dir)
        checkpoint, resume_step = None, 0
    if existing is not None:
        store.discard_evaluations(job.run_key, resume_step)
    known = tuple(s for s in stored if s < resume_step)
    job = replace(job, resume=checkpoint is not None, known_eval_steps=known)
    task = get_task(job.task)
    store.begin_run(job, task, provenance.collect(job.device, task.simulator_package))
    display.launching(job, resume_step if checkpoint is not None else None)
    return job


def checkpoint_step(folder: Path) -> int:
    """The env step a checkpoint folder (``step-<N>``) was written at."""
    return int(folder.name.split("-")[-1])


def record_event(event: ev.Event, store: Store, display: SweepDisplay, report: SweepReport) -> bool:
    """Store and show one event; True once the run is closed (ended, or refused by the store).

    An event the database refuses fails its run with the reason instead of stopping the
    sweep: the other runs go on.
    """
    try:
        store.apply(event)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        store.fail_run(event.run_key, f"the store refused a result ({type(exc).__name__}: {first})")
    display.handle(event)
    summary = store.find(event.run_key)
    ended = isinstance(event, (ev.Finished, ev.Stopped))
    if summary is None or (not ended and summary.status == RunStatus.RUNNING):
        return False
    store.release_leases([event.run_key])
    display.done(summary)
    if summary.status == RunStatus.FINISHED:
        report.finished.append(summary)
    elif summary.status == RunStatus.FAILED:
        report.failed.append(summary)
    else:
        report.interrupted.append(summary)
    return True


def run_sweep(
    jobs: Sequence[JobSpec], store: Store, display: SweepDisplay, workers: int = 1
) -> SweepReport:
    """Run every job; raise :class:`SweepInterrupted` after a Ctrl-C."""
    report = SweepReport()
    try:
        if workers <= 1:
            _run_inline(jobs, store, display, report)
        else:
            _run_processes(jobs, store, display, report, workers)
    finally:
        with contextlib.suppress(Exception):  # never hide the error that ended the sweep
            store.release_leases()
    return conclude(jobs, report)


def conclude(jobs: Sequence[JobSpec], report: SweepReport) -> SweepReport:
    """Delete the finished runs' checkpoints; raise :class:`SweepInterrupted` after a Ctrl-C."""
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
    beat = Heartbeat(store)
    for job in jobs:
        prepared = prepare(job, store, display, report)
        if prepared is None:
            continue
        try:
            run_job(prepared, _InlineSink(prepared.run_key, store, display, report, beat))
        except KeyboardInterrupt:
            report.was_interrupted = True
            store.mark_interrupted([prepared.run_key], "interrupted by Ctrl-C")
            return


@dataclass
class _InlineSink:
    """Records a run's events in this process, renewing its lease as they come."""

    run_key: str
    store: Store
    display: SweepDisplay
    report: SweepReport
    beat: Heartbeat
    closed: bool = False

    def __call__(self, event: ev.Event) -> None:
        if self.closed:
            return  # the store refused an event: the rest of this run is not recorded
        self.closed = record_event(event, self.store, self.display, self.report)
        self.beat([self.run_key])


class Heartbeat:
    """Renews this sweep's leases at most every :data:`leases.HEARTBEAT_S` seconds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.last = time.monotonic()

    def __call__(self, run_keys: Sequence[str]) -> None:
        """Renew if due."""
        now = time.monotonic()
        if now - self.last >= leases.HEARTBEAT_S:
            self.store.renew_leases(run_keys)
            self.last = now


def _worker_main(job: JobSpec, events: Any, parent_pid: int, package_file: str) -> None:
    """Entry point of a worker process (spawned: imports pomdpbench afresh).

    The worker dies with its parent (a sweep killed with ``kill -9`` leaves no orphan that
    trains on with nobody storing its evaluations) and refuses to run under another
    pomdpbench than the parent's.
    """
    die_with_parent(parent_pid)
    import pomdpbench  # registers the tasks in this fresh interpreter

    sink = ev.QueueSink(events)
    if os.path.realpath(pomdpbench.__file__) != package_file:
        message = (
            f"the worker imported pomdpbench from {pomdpbench.__file__}, the sweep from "
            f"{package_file}: run from a folder without a pomdpbench/ directory"
        )
        sink(ev.Stopped(job.run_key, RunStatus.FAILED, 0, 0.0, message))
        return
    with contextlib.suppress(KeyboardInterrupt):  # run_job already checkpointed and reported
        run_job(job, sink)


def _run_processes(
    jobs: Sequence[JobSpec],
    store: Store,
    display: SweepDisplay,
    report: SweepReport,
    workers: int,
) -> None:
    import pomdpbench

    context = mp.get_context("spawn")
    package_file = os.path.realpath(pomdpbench.__file__)
    events = context.Queue()
    pending = deque(jobs)
    running: dict[str, Any] = {}
    closed: set[str] = set()

    beat = Heartbeat(store)

    def drain(block_s: float) -> None:
        try:
            event = events.get(timeout=block_s)
        except queue_module.Empty:
            return
        while True:
            if event.run_key not in closed and record_event(event, store, display, report):
                closed.add(event.run_key)
                process = running.get(event.run_key)
                if process is not None and not isinstance(event, (ev.Finished, ev.Stopped)):
                    process.kill()  # the store refused its results: stop training for nothing
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
                args = (job, events, os.getpid(), package_file)
                process = context.Process(target=_worker_main, args=args, daemon=False)
                with package_first_on_path():
                    process.start()
                running[job.run_key] = process
            drain(0.2)
            reap()
            beat(list(running))
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
