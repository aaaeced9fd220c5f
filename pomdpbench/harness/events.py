"""Moved to :mod:`pomdpbench.record.events` (the run record's vocabulary); kept for imports."""

from __future__ import annotations

from pomdpbench.record.events import (
    Checkpointed,
    Evaluated,
    Event,
    EventSink,
    Finished,
    Progress,
    QueueSink,
    Started,
    Stopped,
)

__all__ = [
    "Checkpointed",
    "Evaluated",
    "Event",
    "EventSink",
    "Finished",
    "Progress",
    "QueueSink",
    "Started",
    "Stopped",
]
