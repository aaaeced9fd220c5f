"""The harness protocol: the clock, evaluation schedule, what agents see, truncations, resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helper_agents import PrivilegedRecorder, Recorder, one_hot

from pomdpbench.harness.checkpoint import latest_checkpoint
from pomdpbench.harness.loop import run_job
from pomdpbench.record import events as ev
from pomdpbench.record.job import JobSpec


def job_for(task: str, agent: str = "helper_agents:Recorder", **kw: object) -> JobSpec:
    fields: dict[str, object] = {
        "agent": agent,
        "agent_version": "test",
        "agent_entry_point": agent,
        "task": task,
        "suite": "test",
        "tier": "custom",
        "seed": 0,
        "budget": 25,
        "eval_every": 10,
        "eval_episodes": 2,
    }
    fields.update(kw)
    return JobSpec(**fields)  # type: ignore[arg-type]


def run(job: JobSpec) -> tuple[list[ev.Event], Recorder]:
    events: list[ev.Event] = []
    Recorder.instances.clear()
    run_job(job, events.append)
    return events, Recorder.instances[-1]


def evaluations(events: list[ev.Event]) -> list[ev.Evaluated]:
    return [e for e in events if isinstance(e, ev.Evaluated)]


def test_evaluation_at_zero_every_interval_and_at_the_end() -> None:
    events, agent = run(job_for("CartPole-V-v0"))
    assert [e.result.env_step for e in evaluations(events)] == [0, 10, 20, 25]
    assert all(len(e.result.returns) == 2 for e in evaluations(events))
    assert isinstance(events[0], ev.Started) and isinstance(events[-1], ev.Finished)
    assert events[-1].env_steps == 25
    # only training steps are observed, and update follows every observe
    assert len(agent.transitions) == 25 and agent.updates == 25


def test_training_acts_are_stochastic_and_evaluation_acts_deterministic() -> None:
    _, agent = run(job_for("CartPole-V-v0"))
    flags = [deterministic for _, deterministic in agent.inputs]
    assert flags.count(False) == 25
    assert flags.count(True) == len(flags) - 25 > 0


def test_previous_action_and_reward_and_episode_starts() -> None:
    _, agent = run(job_for("CartPole-V-v0", budget=120, eval_every=1000, eval_episodes=1))
    training = [inp for inp, deterministic in agent.inputs if not deterministic]
    transitions = agent.transitions
    episode_starts = 0
    for t, (inp, transition) in enumerate(zip(training, transitions, strict=False)):
        assert transition.episode_start == inp.episode_start
        np.testing.assert_array_equal(transition.obs, inp.obs)
        if inp.episode_start:
            episode_starts += 1
            assert not inp.prev_action.any() and inp.prev_reward == 0.0
        else:
            previous = transitions[t - 1]
            assert not (previous.terminated or previous.truncated)
            np.testing.assert_array_equal(inp.prev_action, one_hot(int(previous.action), 2))
            assert inp.prev_reward == previous.reward
            np.testing.assert_array_equal(inp.obs, previous.next_obs)
    assert episode_starts >= 2  # random CartPole episodes last about 20 steps
    # initial_state is asked for at every training and evaluation episode start
    evaluation_starts = sum(1 for inp, det in agent.inputs if det and inp.episode_start)
    assert agent.initial_states == episode_starts + evaluation_starts


def test_time_limits_are_truncations_not_terminations() -> None:
    _, agent = run(job_for("Pendulum-V-v0", budget=450, eval_every=1000, eval_episodes=1))
    ends = [(i, t) for i, t in enumerate(agent.transitions) if t.terminated or t.truncated]
    assert [i for i, _ in ends] == [199, 399]
    assert all(t.truncated and not t.terminated for _, t in ends)
    assert agent.transitions[200].episode_start


def test_task_end_is_a_termination() -> None:
    # The T-maze ends itself at its horizon, where the time limit also fires: both flags are
    # set and, as in Gymnasium, terminated wins (agents must not bootstrap).
    _, agent = run(job_for("TMazePassive-10-v0", budget=30, eval_every=1000, eval_episodes=1))
    ends = [i for i, t in enumerate(agent.transitions) if t.terminated or t.truncated]
    assert ends == [10, 21]
    assert all(agent.transitions[i].terminated for i in ends)


def test_privileged_state_only_for_agents_that_ask() -> None:
    _, plain = run(job_for("TMazePassive-10-v0", budget=12, eval_every=1000))
    assert all(inp.privileged is None for inp, _ in plain.inputs)
    Recorder.instances.clear()
    run_job(
        job_for(
            "TMazePassive-10-v0",
            agent="helper_agents:PrivilegedRecorder",
            budget=12,
            eval_every=1000,
        ),
        lambda e: None,
    )
    agent = Recorder.instances[-1]
    assert isinstance(agent, PrivilegedRecorder)
    assert all(
        inp.privileged is not None and inp.privileged.shape == (4,) for inp, _ in agent.inputs
    )
    assert all(t.next_privileged is not None for t in agent.transitions)
    assert agent.ctx.privileged_size == 4
    # a task without privileged state gives None even to an agent that asks
    Recorder.instances.clear()
    run_job(
        job_for(
            "Pendulum-V-v0",
            agent="helper_agents:PrivilegedRecorder",
            budget=5,
            eval_every=1000,
            eval_episodes=1,
        ),
        lambda e: None,
    )
    assert all(inp.privileged is None for inp, _ in Recorder.instances[-1].inputs)


def test_same_job_twice_gives_the_same_curve() -> None:
    job = job_for("LunarLander-V-v0", budget=300, eval_every=100, eval_episodes=2)
    first = [e.result for e in evaluations(run(job)[0])]
    second = [e.result for e in evaluations(run(job)[0])]
    assert first == second
    other_seed = [e.result for e in evaluations(run(replace(job, seed=1))[0])]
    assert [r.returns for r in other_seed] != [r.returns for r in first]


def test_success_is_read_from_the_last_step() -> None:
    events, _ = run(job_for("TMazePassive-10-v0", budget=20, eval_every=10, eval_episodes=4))
    for evaluation in evaluations(events):
        assert evaluation.result.successes is not None
        assert evaluation.result.success_rate in (0.0, 0.25, 0.5, 0.75, 1.0)
    events, _ = run(job_for("Pendulum-V-v0", budget=5, eval_every=10, eval_episodes=1))
    assert all(e.result.success_rate is None for e in evaluations(events))


def test_an_agent_error_is_reported_as_a_failed_run() -> None:
    events, _ = run(job_for("CartPole-V-v0", config={"fail_at": 7}))
    stopped = events[-1]
    assert isinstance(stopped, ev.Stopped) and stopped.status == "failed"
    assert "planted failure" in stopped.error and stopped.env_steps == 6


def test_interrupt_checkpoints_and_resume_continues(tmp_path: Path) -> None:
    job = job_for(
        "CartPole-V-v0",
        budget=60,
        eval_every=20,
        config={"interrupt_at": 33},
        checkpoint_dir=str(tmp_path / "ckpt"),
    )
    events: list[ev.Event] = []
    with pytest.raises(KeyboardInterrupt):
        run_job(job, events.append)
    assert isinstance(events[-1], ev.Stopped) and events[-1].status == "interrupted"
    checkpoint = latest_checkpoint(tmp_path / "ckpt")
    assert checkpoint is not None and checkpoint.name.endswith("32")
    done = [e.result.env_step for e in evaluations(events)]
    assert done == [0, 20]

    resumed, agent = run(replace(job, resume=True, known_eval_steps=tuple(done)))
    assert isinstance(resumed[0], ev.Started) and resumed[0].start_step == 32
    assert [e.result.env_step for e in evaluations(resumed)] == [40, 60]
    assert isinstance(resumed[-1], ev.Finished) and resumed[-1].env_steps == 60
    assert agent.updates == 33 + 28  # restored counter, then the remaining steps
    assert agent.transitions[0].episode_start  # a resumed run starts a fresh episode


def test_interrupt_during_an_evaluation_repeats_that_evaluation(tmp_path: Path) -> None:
    job = job_for("CartPole-V-v0", budget=60, eval_every=20, checkpoint_dir=str(tmp_path / "c"))
    events: list[ev.Event] = []
    calls = {"n": 0}
    original = Recorder.act

    def act(self: Recorder, inp: object, state: int, deterministic: bool) -> object:
        if deterministic and len(self.transitions) == 40:
            calls["n"] += 1
            if calls["n"] == 3:  # in the middle of the evaluation at step 40
                raise KeyboardInterrupt
        return original(self, inp, state, deterministic)  # type: ignore[arg-type]

    Recorder.act = act  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            run_job(job, events.append)
    finally:
        Recorder.act = original  # type: ignore[method-assign]
    done = tuple(e.result.env_step for e in evaluations(events))
    assert done == (0, 20)
    resumed, _ = run(replace(job, resume=True, known_eval_steps=done))
    assert [e.result.env_step for e in evaluations(resumed)] == [40, 60]
