"""A job: one agent on one task with one seed under one protocol.

A job is plain, picklable data, so it runs the same in this process, in a worker process or on
a Ray node. Its ``run_key`` hashes everything that can change a result (agent and its version
and config, task id with version, tier and budget, evaluation schedule, seed, harness protocol
version) and nothing that cannot (device, threads, paths): running the same command twice
finds the same run in the store.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pomdpbench.record.vocabulary import Tier

PROTOCOL_VERSION = 1
"""Bump when the harness changes in a way that can change scores (e.g. the eval seeding)."""


def schedule(budget: int, eval_every: int) -> tuple[int, ...]:
    """The evaluation steps of a run: 0, every ``eval_every`` steps, and the budget."""
    steps = list(range(0, budget + 1, eval_every))
    if steps[-1] != budget:
        steps.append(budget)
    return tuple(steps)


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to run (or resume) one run."""

    agent: str
    """Agent id, entry-point name or ``module:Name`` path, as the user gave it."""
    agent_version: str
    agent_entry_point: str
    task: str
    suite: str
    tier: Tier
    """A protocol tier or ``custom`` (an explicit ``--steps``); stored as its string."""
    seed: int
    budget: int
    eval_every: int
    eval_episodes: int
    config: dict[str, Any] = field(default_factory=dict)
    config_dir: str | None = None
    device: str = "cpu"
    threads: int = 1
    checkpoint_dir: str = ""
    """Folder of this run's checkpoints; empty disables checkpointing."""
    checkpoint_every_s: float = 300.0
    """Checkpoint at an evaluation point when this long has passed since the last one."""
    known_eval_steps: tuple[int, ...] = ()
    """Evaluation steps already stored (a resumed run does not evaluate them again); the sweep
    passes only steps before the checkpoint it resumes from."""
    resume: bool = False
    progress_every_s: float = 1.0
    protocol_override: str | None = None
    """``--eval-every``/``--eval-episodes`` values that differ from the suite's protocol, as
    ``"eval_every=500, eval_episodes=2"``; part of the run's identity."""

    @property
    def identity(self) -> dict[str, Any]:
        """The fields that define which run this is."""
        return {
            "agent": self.agent,
            "agent_version": self.agent_version,
            "config": self.config,
            "task": self.task,
            "tier": self.tier,
            "budget": self.budget,
            "eval_every": self.eval_every,
            "eval_episodes": self.eval_episodes,
            "seed": self.seed,
            "protocol_version": PROTOCOL_VERSION,
            # only when set, so the runs of the suite's protocol keep their keys
            **({"protocol_override": self.protocol_override} if self.protocol_override else {}),
        }

    @property
    def run_key(self) -> str:
        """A stable hash of :attr:`identity`."""
        canonical = json.dumps(self.identity, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:20]

    @property
    def eval_schedule(self) -> tuple[int, ...]:
        """Every step the protocol evaluates at: 0, each ``eval_every``, and the budget."""
        return schedule(self.budget, self.eval_every)

    def eval_index(self, env_step: int) -> int:
        """Which evaluation round of the schedule ``env_step`` is (fixes its episode seeds).

        Derived from the step, not counted, so an evaluation re-run after a resume faces the
        same starting states as in an uninterrupted run.
        """
        return -(-env_step // self.eval_every)

    @property
    def label(self) -> str:
        """Short human-readable name for progress lines."""
        return f"{self.agent} {self.task} seed {self.seed}"

    @property
    def config_hash(self) -> str:
        """A short hash of the resolved hyperparameters."""
        canonical = json.dumps(self.config, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]
