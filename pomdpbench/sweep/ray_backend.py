"""Run a sweep's jobs as Ray tasks, on a private local Ray instance or an existing cluster.

The rules are the local backend's (:mod:`pomdpbench.sweep.local`), and so is the code that
applies them: :func:`~pomdpbench.sweep.local.prepare` decides each job's fate and takes its
lease before its task is submitted, and :func:`~pomdpbench.sweep.local.record_event` stores
and shows every event. The driver (this process) is the only writer of the store; tasks
report their events through a mailbox actor (a :class:`ray.util.queue.Queue` pinned to the
driver's node), each ``put`` acknowledged before the task goes on, so an event a task sent
before it died is never lost.

Worker loss: Ray re-runs a task whose worker process or node died (``max_retries``). A
re-run attempt resumes from the run's latest checkpoint, which lives on a path every node
reaches (docs/scale.md says why not in the object store). Every evaluation before that
checkpoint was acknowledged before the checkpoint was written, so the driver only deletes
the evaluations at and after the checkpoint's step, which the attempt redoes: nothing is
lost or stored twice. A task that Ray gives up on leaves its run ``interrupted``, and the
same command resumes it later, as after a killed local worker.

Lifetime: the tasks and the mailbox belong to this driver's Ray job and end with it; a
private instance is shut down when the sweep ends, and dies with this process even on
``kill -9``: Ray ties its GCS and raylet to the process that started them, and a watchdog
(:mod:`pomdpbench.sweep.reaper`) ends the raylet's agents, which would linger for minutes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pomdpbench.errors import ConfigError
from pomdpbench.harness import events as ev
from pomdpbench.harness.checkpoint import latest_checkpoint
from pomdpbench.harness.job import JobSpec
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.store.repository import Store
from pomdpbench.sweep.display import SweepDisplay
from pomdpbench.sweep.local import Heartbeat, SweepReport, conclude, prepare, record_event
from pomdpbench.sweep.ray_connect import RayOptions

CHECKPOINT_WAIT_S = 60.0
"""After Ctrl-C, how long the tasks get to checkpoint and report."""
CAPACITY_REFRESH_S = 5.0


@dataclass(frozen=True)
class Origin:
    """What a task checks about the node it landed on before it trains."""

    version: str
    package_file: str
    host: str
    marker: str
    """Name of a file the driver wrote in the checkpoint folder: a node that cannot see it
    would write checkpoints that no retry and no rerun finds."""

    def refusal(self, run_dir: Path | None) -> str | None:
        """Why this node must not run the job, or None."""
        import pomdpbench

        here = socket.gethostname()
        if pomdpbench.__version__ != self.version:
            return (
                f"node {here} has pomdpbench {pomdpbench.__version__}, the sweep "
                f"{self.version}: install the same version on every node"
            )
        mine = os.path.realpath(pomdpbench.__file__)
        if here == self.host and mine != self.package_file:
            return (
                f"the Ray worker imported pomdpbench from {mine}, the sweep from "
                f"{self.package_file}: run from a folder without a pomdpbench/ directory"
            )
        if run_dir is not None and not (run_dir.parent / self.marker).exists():
            return (
                f"the checkpoint folder {run_dir.parent} is not reachable from node {here}: "
                "give --checkpoint-dir a path on a filesystem every node mounts"
            )
        return None


class MailboxSink:
    """Sends a task's events to the driver; each ``put`` returns once the mailbox has it."""

    def __init__(self, mailbox: Any) -> None:
        self.mailbox = mailbox

    def __call__(self, event: ev.Event) -> None:
        """Put one event in the mailbox (blocking until acknowledged)."""
        self.mailbox.put(event)


def run_remote_job(job: JobSpec, mailbox: Any, origin: Origin) -> None:
    """The body of a Ray task: check the node, then run or resume the job.

    An attempt resumes whenever the run's folder holds a checkpoint: on the first attempt the
    driver's :func:`prepare` has already removed one it must not resume from, and a re-run
    after a lost worker continues from the checkpoint the lost attempt wrote.
    """
    from pomdpbench.harness.loop import run_job

    sink = MailboxSink(mailbox)
    run_dir = Path(job.checkpoint_dir) if job.checkpoint_dir else None
    refusal = origin.refusal(run_dir)
    if refusal is not None:
        sink(ev.Stopped(job.run_key, RunStatus.FAILED, 0, 0.0, refusal))
        return
    if run_dir is not None:
        job = replace(job, resume=latest_checkpoint(run_dir) is not None)
    with contextlib.suppress(KeyboardInterrupt):  # ray.cancel: run_job checkpointed, reported
        run_job(job, sink)


def run_sweep_on_ray(
    jobs: Sequence[JobSpec], store: Store, display: SweepDisplay, options: RayOptions
) -> SweepReport:
    """Run every job as a Ray task (inside :func:`ray_session`); Ctrl-C as in local sweeps."""
    # absolute: a task's working directory is its worker's, not this process's
    jobs = [
        replace(job, checkpoint_dir=str(Path(job.checkpoint_dir).absolute()))
        if job.checkpoint_dir
        else job
        for job in jobs
    ]
    report = SweepReport()
    markers: list[Path] = []
    try:
        driver = _Driver(jobs, store, display, report, options)
        markers = driver.write_markers()
        driver.run()
    finally:
        with contextlib.suppress(Exception):  # never hide the error that ended the sweep
            store.release_leases()
        for marker in markers:
            marker.unlink(missing_ok=True)
    return conclude(jobs, report)


class _Driver:
    """Submits prepared jobs as tasks, records their events, notices retries and losses."""

    def __init__(
        self,
        jobs: Sequence[JobSpec],
        store: Store,
        display: SweepDisplay,
        report: SweepReport,
        options: RayOptions,
    ) -> None:
        import ray
        from ray.util.queue import Queue
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        import pomdpbench

        self.ray = ray
        self.jobs = {job.run_key: job for job in jobs}
        self.order = list(jobs)
        self.store, self.display, self.report, self.options = store, display, report, options
        node = ray.get_runtime_context().get_node_id()
        here = NodeAffinitySchedulingStrategy(node_id=node, soft=True)
        self.mailbox = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})
        self.task = ray.remote(run_remote_job)
        self.request = {
            "num_cpus": options.cpus_per_run,
            "num_gpus": options.gpus_per_run,
            "max_retries": options.max_retries,
            "retry_exceptions": False,
        }
        self.origin = Origin(
            version=pomdpbench.__version__,
            package_file=os.path.realpath(pomdpbench.__file__),
            host=socket.gethostname(),
            marker=f".pomdpbench-sweep-{uuid.uuid4().hex[:12]}",
        )
        self.running: dict[str, Any] = {}
        self.closed: set[str] = set()
        self.started: set[str] = set()
        self._capacity, self._capacity_at = self._measure_capacity(), time.monotonic()
        if self._capacity < 1:
            raise ConfigError(
                f"no node of the Ray cluster has {options.cpus_per_run:g} CPU(s) and "
                f"{options.gpus_per_run:g} GPU(s) free for a run: lower --cpus-per-run or "
                "--gpus-per-run, or add nodes"
            )

    def write_markers(self) -> list[Path]:
        """Write the reachability marker into every checkpoint root of the sweep."""
        roots = {Path(job.checkpoint_dir).parent for job in self.order if job.checkpoint_dir}
        markers = []
        for root in sorted(roots):
            root.mkdir(parents=True, exist_ok=True)
            marker = root / self.origin.marker
            marker.write_text(f"pomdpbench sweep on {self.origin.host}, pid {os.getpid()}\n")
            markers.append(marker)
        return markers

    def _measure_capacity(self) -> int:
        """How many runs the live nodes fit at once (a run must fit on one node)."""
        total = 0
        for node in self.ray.nodes():
            if not node.get("Alive"):
                continue
            have = node.get("Resources", {})
            fits = [
                int(have.get(name, 0.0) // need + 1e-9)
                for name, need in (
                    ("CPU", self.options.cpus_per_run),
                    ("GPU", self.options.gpus_per_run),
                )
                if need > 0
            ]
            total += min(fits) if fits else len(self.order)
        return total

    def capacity(self) -> int:
        """The cluster's capacity in runs, re-measured every few seconds (nodes come and go)."""
        if time.monotonic() - self._capacity_at >= CAPACITY_REFRESH_S:
            self._capacity, self._capacity_at = self._measure_capacity(), time.monotonic()
        return max(1, self._capacity)

    def run(self) -> None:
        """Keep the cluster full until every job has ended."""
        pending = list(self.order)
        beat = Heartbeat(self.store)
        try:
            while pending or self.running:
                while pending and len(self.running) < self.capacity():
                    job = prepare(pending.pop(0), self.store, self.display, self.report)
                    if job is not None:
                        name = f"pomdpbench-run:{job.run_key}"
                        task = self.task.options(name=name, **self.request)
                        ref = task.remote(job, self.mailbox, self.origin)
                        self.running[job.run_key] = ref
                self.drain(0.2)
                self.reap()
                beat(list(self.running))
        except KeyboardInterrupt:
            self._stop_after_interrupt()

    def drain(self, block_s: float) -> None:
        """Record every event in the mailbox, waiting up to ``block_s`` for the first."""
        from ray.util.queue import Empty

        try:
            events = [self.mailbox.get(block=block_s > 0, timeout=block_s or None)]
            waiting = self.mailbox.qsize()
            if waiting:
                events += self.mailbox.get_nowait_batch(waiting)
        except Empty:
            return
        for event in events:
            self.handle(event)

    def handle(self, event: ev.Event) -> None:
        """Store and show one event; a second ``Started`` is Ray's re-run of a lost attempt."""
        key = event.run_key
        if key in self.closed:
            return
        if isinstance(event, ev.Started):
            if key in self.started and not self._accept_retry(event):
                return
            self.started.add(key)
        if record_event(event, self.store, self.display, self.report):
            self.closed.add(key)
            ref = self.running.get(key)
            if ref is not None and not isinstance(event, (ev.Finished, ev.Stopped)):
                self.ray.cancel(ref, force=True)  # the store refused its results

    def _accept_retry(self, event: ev.Started) -> bool:
        """Let a re-run attempt go on from its checkpoint, or stop it if that would leave a gap."""
        job, step = self.jobs[event.run_key], event.start_step
        stored = set(self.store.eval_steps(event.run_key))
        missing = [s for s in job.eval_schedule if s < step and s not in stored]
        if missing:  # cannot happen while every put is acknowledged; never finish with a gap
            self._close_interrupted(
                event.run_key,
                f"Ray re-ran the task from a checkpoint at step {step:,}, but the evaluation at "
                f"step {missing[0]:,} is not stored: run the same command again to redo it",
            )
            self.ray.cancel(self.running[event.run_key], force=True)
            return False
        self.store.discard_evaluations(event.run_key, step)  # the attempt redoes these
        where = f"from its checkpoint at step {step:,}" if step else "from step 0"
        self.display.note(f"retry  {job.label}: its Ray worker was lost; Ray re-runs it {where}")
        return True

    def _close_interrupted(self, key: str, reason: str) -> None:
        self.store.mark_interrupted([key], reason)
        self.store.release_leases([key])
        self.closed.add(key)
        summary = self.store.find(key)
        if summary is not None:
            self.display.done(summary)
            self.report.interrupted.append(summary)

    def reap(self) -> None:
        """Close the runs whose tasks ended; one that ended without a final event is lost."""
        refs = list(self.running.values())
        if not refs:
            return
        ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
        if not ready:
            return
        self.drain(0)  # what the ended tasks sent before they ended
        done = set(ready)
        for key, ref in list(self.running.items()):
            if ref not in done:
                continue
            del self.running[key]
            try:
                self.ray.get(ref)
                why = "the Ray task returned without reporting an end"
            except Exception as exc:  # Ray's errors: worker crashed, node lost, cancelled
                lines = str(exc).strip().splitlines()
                why = f"the Ray task ended ({type(exc).__name__}: {lines[0] if lines else ''})"
            if key not in self.closed:
                reason = "interrupted by Ctrl-C" if self.report.was_interrupted else why
                self._close_interrupted(key, reason)

    def _stop_after_interrupt(self) -> None:
        """Ctrl-C: ask every task to checkpoint and report, then close what is still open."""
        self.report.was_interrupted = True
        self.display.note("interrupted: waiting for the Ray tasks to checkpoint ...")
        for ref in self.running.values():
            self.ray.cancel(ref, force=False)  # a KeyboardInterrupt inside the task
        deadline = time.monotonic() + CHECKPOINT_WAIT_S
        while self.running and time.monotonic() < deadline:
            try:
                self.drain(0.1)
                self.reap()
            except KeyboardInterrupt:
                break
        for ref in self.running.values():
            self.ray.cancel(ref, force=True)
        self.store.mark_interrupted(list(self.running), "interrupted by Ctrl-C")
