"""Reading and writing runs: the only code that talks to the results tables.

The parent process of a sweep owns one :class:`Store` and applies the events its jobs report;
the CLI and the leaderboard read through the query methods. Scores are computed here, from the
stored evaluations, so a run resumed across processes is scored from its whole curve.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pomdpbench.record import events as ev
from pomdpbench.record.job import PROTOCOL_VERSION, JobSpec, schedule
from pomdpbench.record.scoring import area_under_curve, final_score
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.registry.specs import TaskSpec
from pomdpbench.store import leases
from pomdpbench.store.database import database_url, open_engine, with_retry
from pomdpbench.store.models import Evaluation, Run, utcnow
from pomdpbench.store.submissions import POOLED

WRITE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RunSummary:
    """A run as the CLI lists it (detached from any session)."""

    run_id: int
    run_key: str
    agent: str
    agent_version: str
    task: str
    task_version: int
    suite: str
    tier: str
    seed: int
    status: str
    env_steps: int
    budget_steps: int
    final_score: float | None
    auc: float | None
    metric: str
    wall_time_s: float
    steps_per_s: float | None
    error: str | None
    host: str
    pid: int | None
    eval_every: int = 0
    eval_episodes: int = 0
    protocol_override: str | None = None
    """Set when ``--eval-every``/``--eval-episodes`` changed the suite's protocol."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object ``pomdpbench results --json`` prints for this run."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Store:
    """Results store bound to one database URL."""

    def __init__(self, engine: Engine, url: str, write_timeout_s: float | None = None) -> None:
        self.engine = engine
        self.url = url
        # how long a write waits for another process's lock before giving up
        self.write_timeout_s = WRITE_TIMEOUT_S if write_timeout_s is None else write_timeout_s

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Store:
        """Open (and, if new, create) the database at ``url`` or the default location."""
        resolved = database_url(url)
        return cls(open_engine(resolved, create=create), resolved)

    def _write(self, action: Any) -> Any:
        def run() -> Any:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                return action(session)

        return with_retry(run, self.url, self.write_timeout_s)

    # ----------------------------------------------------------------- reads
    def find(self, run_key: str) -> RunSummary | None:
        """The run with this key, if stored."""
        with Session(self.engine) as session:
            run = session.scalar(select(Run).where(Run.run_key == run_key))
            return None if run is None else _summary(run)

    def eval_steps(self, run_key: str) -> tuple[int, ...]:
        """Steps at which the run already has evaluations."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(Evaluation.env_step).join(Run).where(Run.run_key == run_key)
            )
            return tuple(sorted(rows))

    def runs(
        self,
        *,
        suite: str | None = None,
        agent: str | None = None,
        task: str | None = None,
        tier: str | None = None,
        status: str | None = None,
    ) -> list[RunSummary]:
        """Runs matching every filter given, ordered by suite, agent, task and seed.

        Runs of a submission not (yet) verified are left out: they were not run here and
        are shown apart, in the leaderboard's Submissions view.
        """
        query = select(Run).where(POOLED)
        for column, value in (
            (Run.suite, suite),
            (Run.agent, agent),
            (Run.task, task),
            (Run.tier, tier),
            (Run.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(Run.suite, Run.agent, Run.task, Run.tier, Run.seed, Run.id)
        with Session(self.engine) as session:
            return [_summary(run) for run in session.scalars(query)]

    def curve(self, run_key: str) -> list[tuple[int, float, float | None]]:
        """``(env_step, mean_return, success_rate)`` of every evaluation of a run."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(Evaluation.env_step, Evaluation.mean_return, Evaluation.success_rate)
                .join(Run)
                .where(Run.run_key == run_key)
                .order_by(Evaluation.env_step)
            )
            return [(int(s), float(r), None if x is None else float(x)) for s, r, x in rows]

    # ---------------------------------------------------------------- writes
    def begin_run(self, job: JobSpec, task: TaskSpec, provenance: dict[str, Any]) -> None:
        """Create the run's row, or mark an existing one running again (a resume)."""

        def action(session: Session) -> None:
            run = session.scalar(select(Run).where(Run.run_key == job.run_key))
            if run is None:
                run = Run(
                    run_key=job.run_key,
                    agent=job.agent,
                    agent_version=job.agent_version,
                    agent_config=job.config,
                    config_hash=job.config_hash,
                    task=task.id,
                    task_version=task.version,
                    suite=job.suite,
                    tier=job.tier,
                    seed=job.seed,
                    budget_steps=job.budget,
                    eval_every=job.eval_every,
                    eval_episodes=job.eval_episodes,
                    protocol_override=job.protocol_override,
                    metric=task.metric,
                    protocol_version=PROTOCOL_VERSION,
                    task_spec=task.to_json(),
                    status=RunStatus.RUNNING,
                    **provenance,
                )
                session.add(run)
            else:
                for key, value in provenance.items():
                    setattr(run, key, value)
                run.status = RunStatus.RUNNING
                run.error = None
            run.pid = os.getpid()
            run.host = socket.gethostname()

        self._write(action)

    def apply(self, event: ev.Event) -> None:
        """Record one event reported by a job."""
        if isinstance(event, ev.Progress):
            return  # display only: a write per heartbeat would cost more than it tells
        self._write(lambda session: _apply(session, event))

    def take_lease(self, run_key: str) -> tuple[bool, leases.Owner | None]:
        """Own ``run_key`` before training it (see :func:`pomdpbench.store.leases.take`)."""
        try:
            taken: tuple[bool, leases.Owner | None] = self._write(
                lambda session: leases.take(session, run_key)
            )
        except IntegrityError:  # another sweep took the first lease at the same moment
            with Session(self.engine) as session:
                return False, leases.owner(session, run_key)
        return taken

    def renew_leases(self, run_keys: Sequence[str]) -> None:
        """Heartbeat: this sweep still owns ``run_keys``."""
        if run_keys:
            self._write(lambda session: leases.renew(session, list(run_keys)))

    def release_leases(self, run_keys: Sequence[str] | None = None) -> None:
        """Give up this process's leases (of ``run_keys``, or all)."""
        keys = None if run_keys is None else list(run_keys)
        self._write(lambda session: leases.release(session, keys))

    def discard_evaluations(self, run_key: str, from_step: int) -> int:
        """Delete the run's evaluations at ``from_step`` and later (a resume redoes them)."""

        def action(session: Session) -> int:
            run = session.scalar(select(Run).where(Run.run_key == run_key))
            if run is None:
                return 0
            doomed = session.execute(
                delete(Evaluation).where(
                    Evaluation.run_id == run.id, Evaluation.env_step >= from_step
                )
            )
            run.env_steps = min(run.env_steps, from_step)
            return int(getattr(doomed, "rowcount", 0) or 0)

        count: int = self._write(action)
        return count

    def fail_run(self, run_key: str, reason: str) -> None:
        """Mark a run failed with ``reason`` (e.g. an event the store refused)."""

        def action(session: Session) -> None:
            run = session.scalar(select(Run).where(Run.run_key == run_key))
            if run is not None:
                run.status = RunStatus.FAILED
                run.error = reason

        self._write(action)

    def mark_interrupted(self, run_keys: Sequence[str], reason: str = "") -> None:
        """Mark runs whose process went away without reporting as interrupted."""

        def action(session: Session) -> None:
            for run in session.scalars(select(Run).where(Run.run_key.in_(list(run_keys)))):
                if run.status == RunStatus.RUNNING:
                    run.status = RunStatus.INTERRUPTED
                    run.error = reason or None

        if run_keys:
            self._write(action)


def _apply(session: Session, event: ev.Event) -> None:
    run = session.scalar(select(Run).where(Run.run_key == event.run_key))
    if run is None:
        raise KeyError(f"event for unknown run {event.run_key}")
    if run.status != RunStatus.RUNNING:
        return  # a run the store already closed (e.g. failed for a refused evaluation)
    if isinstance(event, ev.Started):
        run.started_at = run.started_at or utcnow()
    elif isinstance(event, ev.Evaluated):
        result = event.result
        values = (*result.returns, result.std_return, result.mean_length)
        if not all(math.isfinite(v) for v in values):
            run.status = RunStatus.FAILED
            run.error = (
                f"the evaluation at step {result.env_step} has non-finite values "
                f"(returns {list(result.returns)[:5]}): the run cannot be scored"
            )
            return
        exists = session.scalar(
            select(Evaluation.id).where(
                Evaluation.run_id == run.id, Evaluation.env_step == result.env_step
            )
        )
        if exists is None:
            session.add(
                Evaluation(
                    run_id=run.id,
                    env_step=result.env_step,
                    mean_return=result.mean_return,
                    std_return=result.std_return,
                    success_rate=result.success_rate,
                    episodes=len(result.returns),
                    mean_length=result.mean_length,
                    returns=list(result.returns),
                    wall_time_s=event.wall_time_s,
                    train_metrics=event.train_metrics,
                )
            )
        run.env_steps = max(run.env_steps, result.env_step)
        run.wall_time_s = event.wall_time_s
    elif isinstance(event, ev.Checkpointed):
        run.checkpoint_step = event.env_step
    elif isinstance(event, ev.Finished):
        session.flush()
        stored = list(session.scalars(select(Evaluation).where(Evaluation.run_id == run.id)))
        missing = sorted(
            set(schedule(run.budget_steps, run.eval_every)) - {e.env_step for e in stored}
        )
        if missing:  # a run with a gap in its schedule is never finished
            shown = ", ".join(str(step) for step in missing[:5])
            run.status = RunStatus.FAILED
            run.error = (
                f"evaluation schedule incomplete: no evaluation at step(s) {shown}"
                f"{' ...' if len(missing) > 5 else ''} ({len(missing)} missing): rerun the "
                "same command to redo the run"
            )
            run.env_steps = event.env_steps
            return
        points = [
            (e.env_step, e.success_rate if run.metric == "success" else e.mean_return)
            for e in stored
        ]
        clean = [(s, float(v)) for s, v in points if v is not None]
        fraction = float(run.task_spec.get("final_fraction", 0.05))
        run.final_score = final_score(clean, run.budget_steps, fraction)
        run.auc = area_under_curve(clean, run.budget_steps)
        run.status = RunStatus.FINISHED
        run.env_steps = event.env_steps
        run.wall_time_s = event.wall_time_s
        run.steps_per_s = event.env_steps / event.wall_time_s if event.wall_time_s > 0 else None
        run.finished_at = utcnow()
        run.checkpoint_step = None
        run.error = None
    elif isinstance(event, ev.Stopped):
        run.status = event.status
        run.env_steps = max(run.env_steps, event.env_steps)
        run.wall_time_s = event.wall_time_s
        run.error = event.error or None


def _summary(run: Run) -> RunSummary:
    return RunSummary(
        run_id=run.id,
        run_key=run.run_key,
        agent=run.agent,
        agent_version=run.agent_version,
        task=run.task,
        task_version=run.task_version,
        suite=run.suite,
        tier=run.tier,
        seed=run.seed,
        status=run.status,
        env_steps=run.env_steps,
        budget_steps=run.budget_steps,
        final_score=run.final_score,
        auc=run.auc,
        metric=run.metric,
        wall_time_s=run.wall_time_s,
        steps_per_s=run.steps_per_s,
        error=run.error,
        host=run.host,
        pid=run.pid,
        eval_every=run.eval_every,
        eval_episodes=run.eval_episodes,
        protocol_override=run.protocol_override,
    )
