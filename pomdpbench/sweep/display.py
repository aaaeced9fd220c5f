"""Progress display of a sweep: a live bar per running job, or plain lines in a log.

On a terminal each running job shows its task and seed, steps done, steps per second and the
last evaluation. When output goes to a file or CI log, one line per started, finished or
stopped run keeps the log readable.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from pomdpbench.harness import events as ev
from pomdpbench.harness.job import JobSpec
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.store.repository import RunSummary


class SweepDisplay:
    """Shows the state of a sweep; fed by the sweep's parent process."""

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        if console is None:
            console = Console(stderr=True)
            if not console.is_terminal:  # logs: long lines rather than wrapped ones
                console = Console(stderr=True, width=160)
        self.console = console
        self.live = self.console.is_terminal if live is None else live
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[last]}"),
            console=self.console,
            disable=not self.live,
        )
        self._tasks: dict[str, TaskID] = {}
        self._jobs: dict[str, JobSpec] = {}

    def __enter__(self) -> SweepDisplay:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def note(self, message: str) -> None:
        """A line above the bars (or in the log)."""
        self.console.print(message, highlight=False, markup=False)

    def launching(self, job: JobSpec, resume_step: int | None) -> None:
        """A job is about to start (``resume_step`` when it continues a checkpoint)."""
        self._jobs[job.run_key] = job
        how = f" (resuming at step {resume_step})" if resume_step else ""
        if self.live:
            self._tasks[job.run_key] = self.progress.add_task(
                f"{job.task} s{job.seed}",
                total=job.budget,
                completed=resume_step or 0,
                rate="",
                last="",
            )
            if how:
                self.note(f"resume {job.label}{how}")
        else:
            self.note(f"start  {job.label} [{job.tier}, {job.budget} steps]{how}")

    def handle(self, event: ev.Event) -> None:
        """Update the bar of the event's job."""
        task = self._tasks.get(event.run_key)
        if task is None:
            return
        if isinstance(event, ev.Progress):
            self.progress.update(
                task, completed=event.env_step, rate=f"{event.steps_per_s:,.0f} steps/s"
            )
        elif isinstance(event, ev.Evaluated):
            result = event.result
            last = f"eval@{result.env_step}: return {result.mean_return:.1f}"
            if result.success_rate is not None:
                last += f", success {result.success_rate:.2f}"
            self.progress.update(task, completed=result.env_step, last=last)

    def done(self, summary: RunSummary) -> None:
        """A job ended (finished, failed or interrupted)."""
        task = self._tasks.pop(summary.run_key, None)
        if task is not None:
            self.progress.remove_task(task)
        label = f"{summary.agent} {summary.task} seed {summary.seed}"
        if summary.status == RunStatus.FINISHED:
            score = "n/a" if summary.final_score is None else f"{summary.final_score:.3f}"
            rate = f"{summary.steps_per_s:,.0f} steps/s" if summary.steps_per_s else ""
            self.note(
                f"done   {label}: final {summary.metric} {score} "
                f"({summary.wall_time_s:.1f} s, {rate})"
            )
        elif summary.status == RunStatus.FAILED:
            self.note(f"failed {label}: {summary.error}")
        else:
            self.note(f"stop   {label}: {summary.status} at step {summary.env_steps}")
