"""The training loop: the harness owns the clock.

One environment step at a time (as in the papers: one environment, updates interleaved with
steps): the agent acts, the environment steps, the agent observes the transition and may
update. Evaluation runs at step 0, after every ``eval_every`` steps and at the end of the
budget, on a separate environment. Time limits are truncations: the agent sees
``truncated=True`` and bootstraps through it.

The steps themselves are taken by :class:`pomdpbench.harness.stepper.Stepper` (the one place
that builds what an agent sees), in stretches that end at the next evaluation or heartbeat;
this module owns the schedule around them: evaluations, checkpoints, progress, signals.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

import gymnasium
import torch

from pomdpbench.agents.protocol import Agent, AgentContext
from pomdpbench.agents.registry import build_agent, get_agent_spec
from pomdpbench.harness import events as ev
from pomdpbench.harness.checkpoint import (
    HarnessState,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from pomdpbench.harness.evaluation import evaluate
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.seeding import (
    resume_env_seed,
    rng_state,
    seed_everything,
    set_rng_state,
)
from pomdpbench.harness.stepper import Stepper
from pomdpbench.harness.validation import check_finite_returns
from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.registry import get_task, make_env


def privileged_size(info: dict[str, Any]) -> int | None:
    """Length of ``info["state"]`` after a reset, or None if the task exposes none."""
    state = info.get("state")
    return None if state is None else int(len(state))


def build_run(job: JobSpec) -> tuple[Agent, gymnasium.Env[Any, Any], gymnasium.Env[Any, Any]]:
    """The agent, training environment and evaluation environment of a job."""
    task = get_task(job.task)
    env = make_env(task.id)
    eval_env = make_env(task.id, **task.eval_kwargs)
    _, info = env.reset(seed=job.seed)
    ctx = AgentContext(
        task=task,
        observation_space=env.observation_space,
        action_space=env.action_space,
        privileged_size=privileged_size(info),
        seed=job.seed,
        budget=job.budget,
        tier=job.tier,
        device=job.device,
        config=dict(job.config),
    )
    spec = get_agent_spec(job.agent)
    return build_agent(spec, ctx), env, eval_env


def run_job(job: JobSpec, sink: ev.EventSink) -> None:
    """Run (or resume) ``job`` to its budget, reporting everything to ``sink``.

    A ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM in a worker) saves a checkpoint at the
    current step, reports ``Stopped("interrupted")`` and re-raises. Any other exception is
    reported as ``Stopped("failed")`` with its message and not re-raised.
    """
    torch.set_num_threads(job.threads)
    seed_everything(job.seed)
    state = HarnessState()
    agent: Agent | None = None
    run_dir = Path(job.checkpoint_dir) if job.checkpoint_dir else None
    started = time.perf_counter()
    base_wall = 0.0
    try:
        agent, env, eval_env = build_run(job)
        task = get_task(job.task)
        checkpoint = latest_checkpoint(run_dir) if (run_dir and job.resume) else None
        if checkpoint is not None:
            state = load_checkpoint(checkpoint, agent)
            set_rng_state(state.rng)
            base_wall = state.wall_time_s
        sink(ev.Started(job.run_key, state.env_step, job.device, os.getpid()))
        _train(job, task.deterministic_eval, agent, env, eval_env, state, sink, run_dir, started)
    except KeyboardInterrupt:
        state.wall_time_s = base_wall + time.perf_counter() - started
        if agent is not None and run_dir is not None and state.env_step > 0:
            state.rng = rng_state()
            save_checkpoint(run_dir, agent, state)
            sink(ev.Checkpointed(job.run_key, state.env_step))
        sink(ev.Stopped(job.run_key, RunStatus.INTERRUPTED, state.env_step, state.wall_time_s))
        raise
    except Exception as exc:
        state.wall_time_s = base_wall + time.perf_counter() - started
        message = f"{type(exc).__name__}: {exc}"
        sink(ev.Stopped(job.run_key, RunStatus.FAILED, state.env_step, state.wall_time_s, message))
        if os.environ.get("POMDPBENCH_DEBUG"):
            traceback.print_exc()


def _train(
    job: JobSpec,
    deterministic_eval: bool,
    agent: Agent,
    env: gymnasium.Env[Any, Any],
    eval_env: gymnasium.Env[Any, Any],
    state: HarnessState,
    sink: ev.EventSink,
    run_dir: Path | None,
    started: float,
) -> None:
    stepper = Stepper(agent, env, training=True, first_step=state.env_step)
    encoder, privileged = stepper.encoder, stepper.privileged
    known = set(job.known_eval_steps)
    schedule = set(job.eval_schedule)
    wall_before = state.wall_time_s
    last_checkpoint = time.perf_counter()
    last_beat, beat_step = time.perf_counter(), state.env_step

    def run_eval(may_checkpoint: bool = True) -> None:
        nonlocal last_checkpoint
        now = time.perf_counter()
        due = now - last_checkpoint >= job.checkpoint_every_s
        if may_checkpoint and run_dir is not None and due and 0 < state.env_step < job.budget:
            # before the evaluation: a run resumed here evaluates this step again from the
            # very state an uninterrupted run evaluated it from
            state.wall_time_s = wall_before + now - started
            state.rng = rng_state()
            save_checkpoint(run_dir, agent, state)
            sink(ev.Checkpointed(job.run_key, state.env_step))
            last_checkpoint = time.perf_counter()
        if state.env_step not in known:
            result = evaluate(
                agent,
                eval_env,
                env_step=state.env_step,
                episodes=job.eval_episodes,
                seed=job.seed,
                eval_index=job.eval_index(state.env_step),
                deterministic=deterministic_eval,
                encoder=encoder,
                privileged=privileged,
            )
            check_finite_returns(result.returns, state.env_step)
            wall = wall_before + time.perf_counter() - started
            sink(ev.Evaluated(job.run_key, result, wall, dict(stepper.metrics)))
        state.eval_index = job.eval_index(state.env_step) + 1

    if state.env_step == 0:
        obs, info = env.reset(seed=job.seed)
    else:
        obs, info = env.reset(seed=resume_env_seed(job.seed, state.env_step))
    if state.env_step in schedule and state.env_step not in known:
        run_eval(may_checkpoint=False)  # the first evaluation, or the one a resume starts at
    stepper.begin(obs, info)
    budget, first_step, episodes = job.budget, state.env_step, state.episodes
    env_step = first_step
    next_eval = min(budget, (env_step // job.eval_every + 1) * job.eval_every)

    with _sigterm_as_interrupt():
        try:
            while env_step < budget:
                # in stretches that end at the next evaluation or the next multiple of 256
                # steps, where the heartbeat is due
                stretch_end = min(next_eval, (env_step | 255) + 1)
                stepper.run(stretch_end - env_step)
                env_step = first_step + stepper.steps
                if env_step == next_eval:
                    stepper.check_actions()  # no evaluation is reported after an invalid action
                    state.env_step, state.episodes = env_step, episodes + stepper.episodes
                    run_eval()
                    next_eval = min(budget, next_eval + job.eval_every)
                if not env_step & 255:
                    now = time.perf_counter()
                    if now - last_beat >= job.progress_every_s:
                        rate = (env_step - beat_step) / (now - last_beat)
                        sink(ev.Progress(job.run_key, env_step, rate))
                        last_beat, beat_step = now, env_step
        finally:
            state.env_step = first_step + stepper.steps
            state.episodes = episodes + stepper.episodes
            stepper.check_actions()  # an invalid action explains a failure better than its effect

    state.wall_time_s = wall_before + time.perf_counter() - started
    sink(ev.Finished(job.run_key, state.env_step, state.wall_time_s))


class _sigterm_as_interrupt:
    """Treat SIGTERM like Ctrl-C inside the loop so a terminated worker checkpoints."""

    def __enter__(self) -> None:
        self._previous: Any = None
        try:
            self._previous = signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread: leave signals alone
            self._previous = None

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    @staticmethod
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt
