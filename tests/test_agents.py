"""Every shipped agent passes ``pomdpbench check-agent`` (Gymnasium's check_env idea, over the
whole registry).

The very checks of the command (:func:`pomdpbench.harness.agent_checks.run_checks`, on the
harness's own stepper) drive each agent on a Box task and on a Discrete task with a privileged
state: its actions are of the space, it learns (finite metrics), is deterministic under a
seed, does not learn from evaluations, resets its memory at episode starts, and saves and
loads so that the restored agent keeps training exactly as the original.

Each registered agent needs an entry in ``SMALL``: a configuration small enough to update
within a hundred steps. The test fails for an agent without one, so a new agent cannot be
registered untested.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import pomdpbench
from pomdpbench.agents import list_agents
from pomdpbench.agents.config import (
    agent_config,
    agent_config_path,
    resolve_run_config,
)
from pomdpbench.agents.protocol import Configurable
from pomdpbench.agents.registry import AgentKind, get_agent_spec, load_factory
from pomdpbench.harness import events as ev
from pomdpbench.harness.agent_checks import CHECKS, run_checks
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import run_job
from pomdpbench.registry import TIERS

SMALL: dict[str, dict[str, Any]] = {
    "random": {},
}
_RESEL_SMALL: dict[str, Any] = {
    "pre_encoder_size": 8,
    "encoder_hidden": [16],
    "embedding_size": 8,
    "head_hidden": [16, 16],
    "ensemble_size": 2,
    "batch_size": 1,
    "learning_starts": 64,
    "metrics_every": 10,
}
SMALL["resel"] = SMALL["resel-same-lr"] = {**_RESEL_SMALL, "mamba_state": 4}
SMALL["resel-gru"] = _RESEL_SMALL
SMALL["resel-transformer"] = {**_RESEL_SMALL, "transformer_heads": 2, "transformer_layers": 1}
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
        for agent in (
            "ppo-mlp",
            "ppo-window-5",
            "ppo-window-32",
            "ppo-bptt-5",
            "ppo-bptt-32",
            "ppo-rs",
            "ppo-gru",
        )
    }
)
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
# steps): the two stretches end an episode, which RESeL needs before it learns from whole
# episodes. The command's defaults (pomdpbench.cli.check_cmd.DEFAULT_TASKS) are the same.
TASKS = ("Wind-v0", "TMazePassive-10-v0")
STEPS = 60
"""Steps of each of the check's two training stretches (the round trip's third is half)."""


def shipped() -> list[str]:
    return [spec.id for spec in list_agents() if spec.kind is AgentKind.REGISTERED]


def test_every_shipped_agent_has_a_contract_configuration() -> None:
    assert set(shipped()) <= set(SMALL), "add the new agent to SMALL"


def job_for(agent_id: str, task_id: str) -> JobSpec:
    """The agent on the task with its small configuration."""
    spec = get_agent_spec(agent_id)
    return JobSpec(
        agent=agent_id,
        agent_version=spec.version,
        agent_entry_point=spec.entry_point,
        task=task_id,
        suite="test",
        tier="custom",
        seed=0,
        budget=2 * STEPS,
        eval_every=STEPS,
        eval_episodes=1,
        config=dict(SMALL[agent_id]),
    )


def refusal(agent_id: str, task_id: str) -> str | None:
    check = getattr(load_factory(get_agent_spec(agent_id)), "check_task", None)
    return check(pomdpbench.get_task(task_id)) if callable(check) else None


@pytest.mark.parametrize("task_id", TASKS)
@pytest.mark.parametrize("agent_id", sorted(SMALL))
def test_agent_passes_check_agent(agent_id: str, task_id: str) -> None:
    if refusal(agent_id, task_id):
        pytest.skip("the agent refuses this task before any run (tested in its own tests)")
    results = {result.name: result for result in run_checks(job_for(agent_id, task_id), STEPS)}
    assert set(results) == set(CHECKS)
    failed = [result.line() for result in results.values() if result.status != "pass"]
    assert not failed, "\n".join(failed)
    if agent_id != "random":
        assert "updates reported metrics" in results["act/observe/update"].reason


@pytest.mark.parametrize("agent_id", sorted(SMALL))
def test_shipped_configs_parse_for_their_suites(agent_id: str) -> None:
    spec = get_agent_spec(agent_id)
    factory = load_factory(spec)
    folder = spec.baselines_folder
    assert isinstance(factory, Configurable) and factory.Config is not None, "declare Config"
    for suite in pomdpbench.list_suites():
        if folder is None or not agent_config_path(folder, suite.id).exists():
            continue
        for task_id in suite.tasks:
            for tier in TIERS:
                values = resolve_run_config(factory, folder, suite.id, task_id, tier)
                agent_config(factory, values, spec.id)


@pytest.mark.parametrize(
    "agent_id", ["sac-mlp", "sac-rs", "td3-mlp", "td3-rs", "ppo-mlp", "ppo-rs"]
)
def test_same_seed_gives_the_same_curve(agent_id: str) -> None:
    """Two agents built from the same job on CPU report the same losses and returns, bit for bit.

    The learners' speed helpers (fused optimizer steps, in-place activations, batched critics)
    must not bring in run-to-run noise; a different seed must change the curve, or the check
    would pass on an agent that ignores its seed.
    """
    job = replace(job_for(agent_id, "Wind-v0"), budget=160)  # past a 64-step PPO rollout

    def curve(job: JobSpec) -> list[tuple[Any, dict[str, float]]]:
        events: list[ev.Event] = []
        run_job(job, events.append)  # seeds, builds and trains as a sweep's worker does
        assert isinstance(events[-1], ev.Finished), events[-1]
        return [(e.result, e.train_metrics) for e in events if isinstance(e, ev.Evaluated)]

    first = curve(job)
    assert any(metrics for _, metrics in first), "no update reported: the check would be empty"
    assert curve(job) == first
    assert curve(replace(job, seed=1)) != first
