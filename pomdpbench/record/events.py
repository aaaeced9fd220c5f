"""What a running job reports, and to whom.

A job never writes results itself: it reports events to a sink. In the parent process the
sink writes to the store and the progress display; in a worker process it forwards events
through a queue to the parent, the only writer (SPEC §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pomdpbench.record.vocabulary import RunStatus


class EvalResult(Protocol):
    """What the store keeps of one evaluation round.

    :class:`pomdpbench.harness.evaluation.EvalResult` is the harness's implementation; the
    record names only the fields, so the store needs none of the harness's imports.
    """

    @property
    def env_step(self) -> int:
        """Training steps done when the evaluation ran."""
        ...

    @property
    def returns(self) -> Sequence[float]:
        """Per-episode returns."""
        ...

    @property
    def mean_return(self) -> float:
        """Mean undiscounted return over the episodes."""
        ...

    @property
    def std_return(self) -> float:
        """Standard deviation of the returns."""
        ...

    @property
    def success_rate(self) -> float | None:
        """Fraction of successful episodes, or None without a success signal."""
        ...

    @property
    def mean_length(self) -> float:
        """Mean episode length."""
        ...


@dataclass(frozen=True)
class Started:
    """The job built its agent and is about to step (``start_step`` > 0 when resumed)."""

    run_key: str
    start_step: int
    device: str
    pid: int


@dataclass(frozen=True)
class Evaluated:
    """An evaluation round finished; ``train_metrics`` are the agent's latest losses."""

    run_key: str
    result: EvalResult
    wall_time_s: float
    train_metrics: dict[str, float]


@dataclass(frozen=True)
class Progress:
    """Periodic heartbeat for the display."""

    run_key: str
    env_step: int
    steps_per_s: float


@dataclass(frozen=True)
class Checkpointed:
    """A checkpoint at ``env_step`` is complete."""

    run_key: str
    env_step: int


@dataclass(frozen=True)
class Finished:
    """The run reached its budget."""

    run_key: str
    env_steps: int
    wall_time_s: float


@dataclass(frozen=True)
class Stopped:
    """The run stopped early: ``status`` is interrupted or failed."""

    run_key: str
    status: RunStatus
    env_steps: int
    wall_time_s: float
    error: str = ""


Event = Started | Evaluated | Progress | Checkpointed | Finished | Stopped


class EventSink(Protocol):
    """Receives a job's events."""

    def __call__(self, event: Event) -> None:
        """Handle one event."""
        ...


class QueueSink:
    """Forwards events to the parent through a multiprocessing queue."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def __call__(self, event: Event) -> None:
        """Put the event on the queue (events are small frozen dataclasses)."""
        self.queue.put(event)
