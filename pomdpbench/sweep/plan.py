"""Expand a request (agent x tasks x seeds under a tier) into jobs.

All user input is checked here, before any run starts: unknown agent, task, suite or tier, a
malformed ``--agent`` path, a malformed config file, an unknown hyperparameter, or a task the
agent cannot act in (its factory's optional ``check_task(task) -> str | None``, e.g. TD3 on a
Discrete action space) all fail with one line and nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pomdpbench.agents.config import agent_config, resolve_run_config
from pomdpbench.agents.registry import get_agent_spec, load_factory
from pomdpbench.errors import ConfigError, UnknownIdError
from pomdpbench.harness.job import JobSpec
from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry import TIERS, TaskSpec, TierProtocol, get_suite, get_task


@dataclass(frozen=True)
class SweepRequest:
    """What ``pomdpbench run`` was asked to do."""

    agent: str
    suite: str | None = None
    tasks: Sequence[str] = ()
    seeds: Sequence[int] | None = None
    num_seeds: int | None = None
    tier: str | None = None
    """A protocol tier's name (``--budget``); None: smoke, or custom with ``steps``."""
    steps: int | None = None
    eval_every: int | None = None
    eval_episodes: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    workers: int = 1
    threads: int | None = None
    checkpoint_root: Path = Path("pomdpbench-checkpoints")
    checkpoint_every_s: float = 300.0


def resolve_protocol(
    task: TaskSpec, request: SweepRequest
) -> tuple[Tier, TierProtocol, str | None]:
    """The tier, protocol and protocol override of ``task`` under the request.

    ``--steps N`` makes the tier ``custom``. ``--eval-every``/``--eval-episodes`` keep the tier
    (its seeds and its ``[tier.*]`` config layer) and are recorded as the run's protocol
    override, part of its identity, so such runs are never pooled with the suite's protocol.
    """
    if request.steps is not None and request.tier is not None:
        raise ConfigError("give either --budget TIER or --steps N, not both")
    for flag, value in (
        ("--eval-every", request.eval_every),
        ("--eval-episodes", request.eval_episodes),
    ):
        if value is not None and value < 1:
            raise ConfigError(
                f"{flag} must be a positive number, got {value}: leave it out to use the "
                "suite's protocol"
            )
    named = request.tier or (Tier.CUSTOM if request.steps is not None else Tier.SMOKE)
    if named != Tier.CUSTOM and named not in TIERS:
        raise UnknownIdError("budget tier", named, TIERS, hint="choose full, short or smoke")
    tier = Tier(named)
    base = task.protocol(tier if tier.is_protocol else Tier.FULL)
    budget = base.budget
    eval_every = base.eval_every
    if request.steps is not None:
        if request.steps < 1:
            raise ConfigError(
                f"--steps must be a positive number of env steps, got {request.steps}"
            )
        budget = request.steps
        eval_every = max(1, min(base.eval_every, budget // 10))
    override = []
    if request.eval_every is not None and request.eval_every != eval_every:
        override.append(f"eval_every={request.eval_every}")
    if request.eval_episodes is not None and request.eval_episodes != base.eval_episodes:
        override.append(f"eval_episodes={request.eval_episodes}")
    protocol = TierProtocol(
        budget=budget,
        eval_every=request.eval_every if request.eval_every is not None else eval_every,
        eval_episodes=(
            request.eval_episodes if request.eval_episodes is not None else base.eval_episodes
        ),
    )
    return tier, protocol, ", ".join(override) or None


def plan(request: SweepRequest) -> list[JobSpec]:
    """Check the request and expand it into one job per task and seed."""
    if request.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {request.workers}")
    if request.threads is not None and request.threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {request.threads}")
    if (request.suite is None) == (not request.tasks):
        raise ConfigError("name the tasks with --suite S or --task T [T ...] (one of the two)")
    task_ids = list(get_suite(request.suite).tasks) if request.suite else list(request.tasks)
    tasks = [get_task(task_id) for task_id in task_ids]
    spec = get_agent_spec(request.agent)
    factory = load_factory(spec)
    # One torch thread per run unless asked: the networks of these agents are too small to gain
    # from a second thread, and OpenMP threads that wait for each other on a shared machine
    # made RESeL's smoke runs 4-6x slower with two threads than with one (docs/protocol.md).
    threads = request.threads if request.threads is not None else 1
    config_dir = spec.baselines_folder
    check_task = getattr(factory, "check_task", None)
    for task in tasks:  # an agent that cannot act in a task says so before any run starts
        refusal = check_task(task) if callable(check_task) else None
        if refusal:
            raise ConfigError(refusal)
    jobs: list[JobSpec] = []
    for task in tasks:
        tier, protocol, override = resolve_protocol(task, request)
        config = resolve_run_config(
            factory, config_dir, task.suite, task.id, tier, request.overrides
        )
        agent_config(factory, config, spec.id)  # fail now, not in a worker
        for seed in _seeds(task, tier, request):
            job = JobSpec(
                agent=spec.id,
                agent_version=spec.version,
                agent_entry_point=spec.entry_point,
                task=task.id,
                suite=task.suite,
                tier=tier,
                seed=seed,
                budget=protocol.budget,
                eval_every=protocol.eval_every,
                eval_episodes=protocol.eval_episodes,
                config=config,
                config_dir=config_dir,
                device=request.device,
                threads=threads,
                checkpoint_every_s=request.checkpoint_every_s,
                protocol_override=override,
            )
            jobs.append(_with_checkpoint_dir(job, request.checkpoint_root))
    return jobs


def _seeds(task: TaskSpec, tier: Tier, request: SweepRequest) -> list[int]:
    if request.seeds is not None and request.num_seeds is not None:
        raise ConfigError("give either --seeds or --num-seeds, not both")
    if request.seeds is not None:
        if any(s < 0 for s in request.seeds):
            raise ConfigError("seeds must be non-negative integers")
        return list(dict.fromkeys(request.seeds))
    if request.num_seeds is not None:
        if request.num_seeds < 1:
            raise ConfigError(f"--num-seeds must be at least 1, got {request.num_seeds}")
        return list(range(request.num_seeds))
    defaults = get_suite(task.suite).seeds
    return list(defaults[tier if tier.is_protocol else Tier.SMOKE])


def _with_checkpoint_dir(job: JobSpec, root: Path) -> JobSpec:
    return replace(job, checkpoint_dir=str(root / job.run_key))
