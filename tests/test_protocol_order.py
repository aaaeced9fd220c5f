"""The order of the harness's calls that protocol.py promises, and what ``AgentInput.training``,
``save`` and a ``module:Class`` agent's declared version get."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
from helper_agents import Recorder
from test_protocol import job_for, run

from pomdpbench.agents.protocol import AgentInput, Transition
from pomdpbench.agents.registry import get_agent_spec


class CallLog(Recorder):
    """A Recorder that also logs every call in order."""

    version = "2.1"
    description = "logs the order of the harness's calls"
    log: ClassVar[list[tuple[str, Any]]] = []

    def initial_state(self) -> int:
        CallLog.log.append(("initial_state", None))
        return super().initial_state()

    def act(self, inp: AgentInput, state: int, deterministic: bool) -> tuple[Any, int]:
        CallLog.log.append(("act", inp.training))
        return super().act(inp, state, deterministic)

    def observe(self, transition: Transition) -> None:
        CallLog.log.append(("observe", None))
        super().observe(transition)

    def update(self) -> dict[str, float]:
        CallLog.log.append(("update", None))
        return super().update()

    def save(self, directory: Path) -> None:
        CallLog.log.append(("save", directory.is_dir()))
        super().save(directory)

    def load(self, directory: Path) -> None:
        CallLog.log.append(("load", None))
        super().load(directory)


def logged(job: Any) -> list[tuple[str, Any]]:
    CallLog.log.clear()
    run(job)
    return list(CallLog.log)


def test_training_steps_are_act_observe_update_and_evaluations_only_act(tmp_path: Path) -> None:
    job = job_for(
        "CartPole-V-v0",
        agent="test_protocol_order:CallLog",
        budget=45,
        eval_every=20,
        checkpoint_dir=str(tmp_path / "c"),
        checkpoint_every_s=0.0,
    )
    log = logged(job)
    names = [name for name, _ in log]
    for i, (name, training) in enumerate(log):
        if name == "act" and training:
            assert names[i + 1 : i + 3] == ["observe", "update"], log[i : i + 3]
        if name in ("observe", "update"):
            assert log[i - 1 if name == "observe" else i - 2] == ("act", True)
    assert names.count("observe") == names.count("update") == 45
    evaluation_acts = [
        i for i, (name, training) in enumerate(log) if name == "act" and not training
    ]
    assert evaluation_acts, "evaluations at 0, 20, 40 and 45"
    for i in evaluation_acts:  # never inside a training step
        assert names[i - 1] in ("act", "initial_state", "update", "save"), names[i - 2 : i + 1]
    # two checkpoints (after the evaluations at 20 and 40), each into a directory that exists
    assert [value for name, value in log if name == "save"] == [True, True]


def test_every_episode_starts_with_initial_state() -> None:
    job = job_for("CartPole-V-v0", agent="test_protocol_order:CallLog", budget=80, eval_every=40)
    CallLog.log.clear()
    _, agent = run(job)
    starts = sum(inp.episode_start for inp, _ in agent.inputs)
    assert agent.initial_states >= starts > 2
    flags = [inp.training for inp, _ in agent.inputs]
    deterministic = [d for _, d in agent.inputs]
    assert flags == [not d for d in deterministic]  # CartPole evaluates deterministically


def test_a_resumed_agent_is_loaded_before_any_other_call(tmp_path: Path) -> None:
    job = job_for(
        "CartPole-V-v0",
        agent="test_protocol_order:CallLog",
        budget=30,
        eval_every=10,
        checkpoint_dir=str(tmp_path / "c"),
        checkpoint_every_s=0.0,
    )
    first = replace(job, config={"interrupt_at": 25})
    CallLog.log.clear()
    with pytest.raises(KeyboardInterrupt):
        run(first)
    log = logged(replace(job, resume=True, known_eval_steps=(0, 10, 20)))
    assert log[0] == ("load", None)


def test_a_module_path_agent_declares_its_version_and_description() -> None:
    spec = get_agent_spec("test_protocol_order:CallLog")
    assert spec.version == "2.1" and spec.description.startswith("logs the order")
    assert get_agent_spec("helper_agents:Recorder").version == "unknown"
