"""Plain data that describes tasks and suites.

A :class:`TaskSpec` says everything a result depends on besides the agent: how the environment
is built, its horizon, the protocol of each budget tier, the metric and the reference scores
that fix normalized scores. Specs are frozen and serialize to JSON so a run can store the exact
definition it ran against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pomdpbench.record.vocabulary import PROTOCOL_TIERS, Tier

Metric = Literal["return", "success"]
TIERS: tuple[Tier, ...] = PROTOCOL_TIERS
"""The tiers every task defines (:class:`~pomdpbench.record.vocabulary.Tier` has two more)."""

_VERSION_RE = re.compile(r"^(?P<name>.+)-v(?P<version>\d+)$")


def split_version(task_id: str) -> tuple[str, int]:
    """Split ``"Pendulum-V-v0"`` into ``("Pendulum-V", 0)``.

    Raises:
        ValueError: if the id does not end in ``-v<N>``.
    """
    match = _VERSION_RE.match(task_id)
    if match is None:
        raise ValueError(f"task id {task_id!r} must end in -v<N>, e.g. {task_id}-v0")
    return match["name"], int(match["version"])


@dataclass(frozen=True)
class ReferenceScore:
    """A fixed score used for normalization, with where it comes from."""

    score: float
    source: str


@dataclass(frozen=True)
class TierProtocol:
    """Budget and evaluation schedule of one tier (full, short or smoke)."""

    budget: int
    """Environment steps of training."""
    eval_every: int
    """Evaluate after every this many training steps (and at step 0 and at the end)."""
    eval_episodes: int
    """Episodes per evaluation."""

    def __post_init__(self) -> None:
        if self.budget < 1 or self.eval_every < 1 or self.eval_episodes < 1:
            raise ValueError(f"budget, eval_every and eval_episodes must be positive: {self}")


@dataclass(frozen=True)
class TaskSpec:
    """One registered task: a Gymnasium id plus what the benchmark needs to know about it."""

    id: str
    """Gymnasium id including the version, e.g. ``"Pendulum-V-v0"``."""
    suite: str
    entry_point: str
    """``"module:callable"`` that builds the environment (without a time limit)."""
    max_episode_steps: int
    metric: Metric
    observation_size: int
    """Length of the (flat) observation the policy sees."""
    action_space: str
    """``"Box(n)"`` (always scaled to [-1, 1]) or ``"Discrete(n)"``."""
    tiers: Mapping[Tier, TierProtocol]
    simulator: str
    """Human-readable simulator name, e.g. ``"Box2D (gymnasium)"``."""
    simulator_package: str
    """Distribution whose installed version is recorded with every run."""
    description: str = ""
    source: str = ""
    """Where the definition comes from (repository, file, paper section)."""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    eval_kwargs: Mapping[str, Any] = field(default_factory=dict)
    """Extra kwargs of the evaluation environment (e.g. the held-out task split)."""
    references: Mapping[str, ReferenceScore] = field(default_factory=dict)
    """``"random"`` and ``"target"`` scores that define the normalized score."""
    deviations: tuple[str, ...] = ()
    """Where this task differs from the original definition, and why."""
    privileged: str | None = None
    """What ``info["state"]`` holds, or None if the task exposes no privileged state."""
    deterministic_eval: bool = True
    final_fraction: float = 0.05
    """The final score averages evaluations in this last fraction of the budget."""
    score_at: tuple[int, ...] = ()
    """Intermediate env steps at which the suite also scores runs (full tier)."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Anything else worth showing beside results (e.g. base environment id)."""

    @property
    def name(self) -> str:
        """The id without its version suffix."""
        return split_version(self.id)[0]

    @property
    def version(self) -> int:
        """The task version: changing what a task does means a new version."""
        return split_version(self.id)[1]

    def protocol(self, tier: Tier) -> TierProtocol:
        """The budget and evaluation schedule of ``tier``."""
        return self.tiers[tier]

    def normalize(self, score: float) -> float | None:
        """``(score - random) / (target - random)``, or None without both reference scores."""
        random_ref = self.references.get("random")
        target_ref = self.references.get("target")
        if random_ref is None or target_ref is None or target_ref.score == random_ref.score:
            return None
        return (score - random_ref.score) / (target_ref.score - random_ref.score)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole spec (stored with each run)."""
        data = asdict(self)
        data["version"] = self.version
        return data


@dataclass(frozen=True)
class SuiteSpec:
    """A named list of tasks plus the seeds each tier runs by default."""

    id: str
    description: str
    metric: Metric
    tasks: tuple[str, ...]
    seeds: Mapping[Tier, tuple[int, ...]]
    source: str = ""
    notes: str = ""
