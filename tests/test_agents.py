"""Every shipped agent honours the protocol when the harness drives it (Gymnasium's check_env
idea, over the whole registry).

The harness's own training loop (``pomdpbench.harness.loop._train``), evaluation and
checkpoint functions drive each agent on a Box task and on a Discrete task with a privileged
state: it must act, learn (finite metrics), reset its memory at episode starts, save and load
so that the restored agent acts the same and keeps training exactly as the original.

Each registered agent needs an entry in ``SMALL``: a configuration small enough to update
within a hundred steps. The test fails for an agent without one, so a new agent cannot be
registered untested.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pomdpbench
from pomdpbench.agents import list_agents
from pomdpbench.agents.config import agent_config_path, build_config, resolve_config
from pomdpbench.agents.registry import get_agent_spec, load_factory
from pomdpbench.harness import events as ev
from pomdpbench.harness.actions import ActionEncoder
from pomdpbench.harness.checkpoint import HarnessState, load_checkpoint, save_checkpoint
from pomdpbench.harness.evaluation import EvalResult, evaluate
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import _train, build_run, run_job
from pomdpbench.harness.seeding import seed_everything

SMALL: dict[str, dict[str, Any]] = {
    "random": {},
}
_RESEL_SMALL: dict[str, Any] = {
    "pre_encoder_size": 8,
    "encoder_hidden": [16],
    "embedding_size": 8,
    "mamba_state": 4,
    "transformer_heads": 2,
    "transformer_layers": 1,
    "head_hidden": [16, 16],
    "ensemble_size": 2,
    "batch_size": 1,
    "learning_starts": 64,
    "metrics_every": 10,
}
SMALL.update({agent: _RESEL_SMALL for agent in ("resel", "resel-gru", "resel-transformer")})
SMALL["resel-same-lr"] = _RESEL_SMALL
_PPO_SMALL: dict[str, Any] = {
    "rollout_steps": 64,  # four updates in 260 steps; the round trip resumes mid-rollout
    "minibatch_size": 32,
    "epochs": 1,
    "hidden_sizes": [16, 16],
    "gru_size": 8,
    "embedding_size": 8,
    "sequence_length": 16,
}
SMALL.update(
    {
        agent: _PPO_SMALL
        for agent in ("ppo-mlp", "ppo-window-5", "ppo-window-32", "ppo-bptt-5", "ppo-bptt-32",
                      "ppo-rs", "ppo-gru")
    }
)  # fmt: skip
_OFF_SMALL: dict[str, Any] = {
    "hidden_sizes": [16, 16],
    "batch_size": 8,
    "learning_starts": 20,
    "metrics_every": 5,
    "gru_hidden": 8,
    "embedding": 8,
    "memory_length": 6,  # keeps mf-rnn's segments short; window/bptt keep L from their id
}
for _spec in list_agents():
    if _spec.entry_point.startswith("pomdpbench.agents.offpolicy_zoo:"):
        _small = dict(_OFF_SMALL)
        if "window" in _spec.id or "bptt" in _spec.id:
            del _small["memory_length"]
        SMALL[_spec.id] = _small
# Box and Discrete actions, both with a privileged state, both with short episodes (75 and 11
# steps): each stretch ends an episode, which RESeL needs before it learns from whole episodes.
TASKS = ("Wind-v0", "TMazePassive-10-v0")
STEPS = 80
"""Steps of each of the two stretches of training."""


def shipped() -> list[str]:
    return [spec.id for spec in list_agents() if spec.source != "entry point"]


def test_every_shipped_agent_has_a_contract_configuration() -> None:
    assert set(shipped()) <= set(SMALL), "add the new agent to SMALL"


def job_for(agent_id: str, task_id: str) -> JobSpec:
    """Two stretches of training; the evaluation at step 0 is skipped (marked as stored)."""
    spec, steps = get_agent_spec(agent_id), STEPS
    return JobSpec(
        agent=agent_id, agent_version=spec.version, agent_entry_point=spec.entry_point,
        task=task_id, suite="test", tier="custom", seed=0, budget=2 * steps, eval_every=steps,
        eval_episodes=1, config=dict(SMALL[agent_id]), known_eval_steps=(0,),
    )  # fmt: skip


def train(job: JobSpec, run: tuple[Any, Any, Any], state: HarnessState) -> list[ev.Event]:
    """The harness's training loop on an agent built here, from ``state`` to ``job.budget``."""
    events: list[ev.Event] = []
    seed_everything(job.seed + state.env_step)
    deterministic = pomdpbench.get_task(job.task).deterministic_eval
    _train(job, deterministic, *run, state, events.append, None, time.perf_counter())
    return events


def evaluation(agent: Any, run: tuple[Any, Any, Any], eval_index: int) -> EvalResult:
    env = run[2]
    return evaluate(
        agent, env, env_step=0, episodes=1, seed=0, eval_index=eval_index, deterministic=True,
        encoder=ActionEncoder(env.action_space), privileged=bool(agent.wants_privileged),
    )  # fmt: skip


def refusal(agent_id: str, task_id: str) -> str | None:
    check = getattr(load_factory(get_agent_spec(agent_id)), "check_task", None)
    return check(pomdpbench.get_task(task_id)) if callable(check) else None


@pytest.mark.parametrize("task_id", TASKS)
@pytest.mark.parametrize("agent_id", sorted(SMALL))
def test_agent_acts_learns_resets_and_round_trips(
    agent_id: str, task_id: str, tmp_path: Path
) -> None:
    if refusal(agent_id, task_id):
        pytest.skip("the agent refuses this task before any run (tested in its own tests)")
    job = job_for(agent_id, task_id)
    steps = STEPS
    run = build_run(job)  # built for the whole budget: buffers are sized from it
    agent = run[0]
    events = train(replace(job, budget=steps), run, state := HarnessState())
    assert isinstance(events[-1], ev.Finished) and events[-1].env_steps == steps

    if agent_id != "random":  # random acts from its own generator, which evaluation advances
        # memory resets at episode starts: an episode gives the same return whatever came before
        first = evaluation(agent, run, eval_index=7)
        evaluation(agent, run, eval_index=8)
        assert evaluation(agent, run, eval_index=7) == first

    folder = save_checkpoint(tmp_path, agent, state)
    restored_run = build_run(job)
    restored_state = load_checkpoint(folder, restored_run[0])
    if agent_id != "random":  # the restored agent acts as the original
        assert evaluation(restored_run[0], restored_run, eval_index=7) == first

    # training continues exactly as the original would (the evaluation at `steps` is stored)
    job = replace(job, known_eval_steps=(0, steps))
    continued, resumed = train(job, run, state), train(job, restored_run, restored_state)
    evaluated = [(e.result, e.train_metrics) for e in continued if isinstance(e, ev.Evaluated)]
    assert evaluated == [
        (e.result, e.train_metrics) for e in resumed if isinstance(e, ev.Evaluated)
    ]
    assert evaluated and evaluated[-1][0].env_step == 2 * steps
    metrics = [e.train_metrics for e in events + continued if isinstance(e, ev.Evaluated)]
    if agent_id != "random":
        assert any(metrics), "the agent never reported an update"
        assert all(np.isfinite(v) for m in metrics for v in m.values())


@pytest.mark.parametrize("agent_id", sorted(SMALL))
def test_shipped_configs_parse_for_their_suites(agent_id: str) -> None:
    spec = get_agent_spec(agent_id)
    config_cls = getattr(load_factory(spec), "Config", None)
    for suite in pomdpbench.list_suites():
        if not agent_config_path(spec.config_dir or spec.id, suite.id).exists():
            continue
        for task_id in suite.tasks:
            for tier in ("full", "short", "smoke"):
                values = resolve_config(spec.config_dir or spec.id, suite.id, task_id, tier)
                assert config_cls is not None
                build_config(config_cls, values, spec.id)


@pytest.mark.parametrize(
    "agent_id", ["sac-mlp", "sac-rs", "td3-mlp", "td3-rs", "ppo-mlp", "ppo-rs"]
)
def test_same_seed_gives_the_same_curve(agent_id: str) -> None:
    """Two agents built from the same job on CPU report the same losses and returns, bit for bit.

    The learners' speed helpers (fused optimizer steps, in-place activations, batched critics)
    must not bring in run-to-run noise; a different seed must change the curve, or the check
    would pass on an agent that ignores its seed.
    """
    job = replace(job_for(agent_id, "Wind-v0"), budget=STEPS)

    def curve(job: JobSpec) -> list[tuple[Any, dict[str, float]]]:
        events: list[ev.Event] = []
        run_job(job, events.append)  # seeds, builds and trains as a sweep's worker does
        assert isinstance(events[-1], ev.Finished), events[-1]
        return [(e.result, e.train_metrics) for e in events if isinstance(e, ev.Evaluated)]

    first = curve(job)
    assert any(metrics for _, metrics in first), "no update reported: the check would be empty"
    assert curve(job) == first
    assert curve(replace(job, seed=1)) != first
