"""The closed sets of words a run record uses: a run's status and its budget tier.

Both are string enums: a member *is* its stored string (``RunStatus.FINISHED == "finished"``,
``json.dumps`` writes ``"finished"``, SQLAlchemy stores ``"finished"``), so databases written
before these enums existed read unchanged and run keys hash the same. Code compares against the
members instead of spelling the strings, so a typo is an ``AttributeError`` at import, not a
filter that silently matches nothing.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10 has no enum.StrEnum

    class StrEnum(str, Enum):
        """A ``str`` whose ``str()`` and ``format()`` are its value (as 3.11's StrEnum)."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


class RunStatus(StrEnum):
    """Where a stored run stands (SPEC §4). Stored in ``runs.status`` as the value."""

    RUNNING = "running"
    """Owned by a live sweep (or left behind by one that died: the next sweep resumes it)."""
    FINISHED = "finished"
    """Ran its whole evaluation schedule; the only status that is scored."""
    FAILED = "failed"
    """Stopped by an error (the message is stored); a new sweep starts it again."""
    INTERRUPTED = "interrupted"
    """Stopped by Ctrl-C or SIGTERM after a checkpoint; a new sweep continues it."""

    @property
    def is_scored(self) -> bool:
        """Whether runs of this status enter statistics (finished runs only)."""
        return self is RunStatus.FINISHED


NOT_FINISHED: tuple[RunStatus, ...] = tuple(s for s in RunStatus if not s.is_scored)
"""The statuses of stored runs that statistics leave out, in the order messages name them."""


class Tier(StrEnum):
    """A run's budget tier: the suite's three protocol tiers plus two that are not the suite's.

    ``full``, ``short`` and ``smoke`` are defined by each task's protocol (budget, evaluation
    schedule, default seeds; SPEC §3). ``custom`` is an explicit ``--steps N`` budget, and
    ``reference`` marks the random-policy measurements of ``pomdpbench reference``, which are
    never stored as runs. Scores of different tiers are never pooled.
    """

    FULL = "full"
    """The papers' budget."""
    SHORT = "short"
    """A tenth of the full budget."""
    SMOKE = "smoke"
    """Minutes on a CPU, for plumbing."""
    CUSTOM = "custom"
    """An explicit ``--steps N`` budget: the full tier's evaluation episodes, smoke's seeds."""
    REFERENCE = "reference"
    """A reference measurement (``pomdpbench reference``), not a run."""

    @property
    def is_protocol(self) -> bool:
        """Whether a task's protocol defines this tier (full, short, smoke)."""
        return self in PROTOCOL_TIERS


PROTOCOL_TIERS: tuple[Tier, ...] = (Tier.FULL, Tier.SHORT, Tier.SMOKE)
"""The tiers every task defines, fullest first (the order tables and menus list them in)."""
