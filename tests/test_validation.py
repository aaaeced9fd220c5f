"""What an agent returns is checked: a wrong action or a NaN result fails its run, in one line.

Reproductions 3 and 4 of issue 11: on the old main a (3,) action or 1e6 on Pendulum's Box(1)
was stored as a finished run, and a NaN evaluation crashed a two-worker sweep's parent with an
IntegrityError (one worker: a six-line SQL message).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from sqlalchemy.exc import IntegrityError

from pomdpbench.harness import events as ev
from pomdpbench.harness.evaluation import EvalResult
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import run_job
from pomdpbench.store import Store
from pomdpbench.store.repository import Store as StoreClass
from pomdpbench.sweep import run_sweep
from pomdpbench.sweep.display import SweepDisplay
from pomdpbench.sweep.plan import SweepRequest, plan


def job(task: str, bad: str | None, **fields: Any) -> JobSpec:
    values: dict[str, Any] = {
        "agent": "helper_agents:Misbehaving",
        "agent_version": "t",
        "task": task,
        "agent_entry_point": "helper_agents:Misbehaving",
        "suite": "sanity",
        "tier": "custom",
        "seed": 0,
        "budget": 600,
        "eval_every": 300,
        "eval_episodes": 1,
        "config": {"bad": bad} if bad else {},
    }
    values.update(fields)
    return JobSpec(**values)


def run(spec: JobSpec) -> list[ev.Event]:
    events: list[ev.Event] = []
    run_job(spec, events.append)
    return events


def failure(events: list[ev.Event]) -> str:
    last = events[-1]
    assert isinstance(last, ev.Stopped) and last.status == "failed", last
    assert "\n" not in last.error
    return last.error


@pytest.mark.parametrize(
    ("task", "bad", "fragments"),
    [
        ("Pendulum-V-v0", "shape", ("shape (3,)", "needs a float array of shape (1,)")),
        (
            "Pendulum-V-v0",
            "huge",
            ("[1000000.]", "outside low=[-1.], high=[1.]", "step 0 of the evaluation"),
        ),
        ("Pendulum-V-v0", "nan", ("is not finite",)),
        ("CartPole-V-v0", "index", ("returned 2", "integer from 0 to 1")),
        ("CartPole-V-v0", "negative", ("returned -1",)),
        ("CartPole-V-v0", "float", ("returned 1.5 (float)",)),
    ],
)
def test_a_wrong_action_fails_the_run_with_one_line(
    task: str, bad: str, fragments: tuple[str, ...]
) -> None:
    events = run(job(task, bad))
    message = failure(events)
    assert message.startswith("InvalidAgentOutput: ")
    for fragment in fragments:
        assert fragment in message, message
    # the agent misbehaves from its first action (in the step-0 evaluation): nothing is stored
    assert not any(isinstance(e, (ev.Evaluated, ev.Finished)) for e in events)


def test_a_list_of_the_right_length_is_accepted() -> None:
    events = run(job("Pendulum-V-v0", "list"))
    assert isinstance(events[-1], ev.Finished)


def test_a_nan_action_during_evaluation_stores_nothing() -> None:
    events = run(job("Pendulum-V-v0", "eval_nan"))
    message = failure(events)
    assert "of the evaluation after 0 steps" in message and "not finite" in message
    assert not any(isinstance(e, ev.Evaluated) for e in events)


def test_non_finite_evaluation_returns_fail_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from pomdpbench.harness import loop

    def nan_evaluate(*args: Any, env_step: int, **kwargs: Any) -> EvalResult:
        return EvalResult(env_step, (math.nan, 1.0), (5, 5), None)

    monkeypatch.setattr(loop, "evaluate", nan_evaluate)
    message = failure(run(job("Pendulum-V-v0", None)))
    assert "evaluation at step 0 produced non-finite returns ([nan, 1.0])" in message


def test_the_store_refuses_a_nan_evaluation_as_a_failed_run(db_url: str) -> None:
    store = Store.open(db_url)
    (spec,) = plan(SweepRequest(agent="random", tasks=("Pendulum-V-v0",), steps=20))
    from pomdpbench.registry import get_task
    from pomdpbench.store.provenance import collect

    task = get_task(spec.task)
    store.begin_run(spec, task, collect("cpu", task.simulator_package))
    nan = EvalResult(0, (math.nan,), (3,), None)
    store.apply(ev.Evaluated(spec.run_key, nan, 1.0, {}))  # was an IntegrityError
    found = store.find(spec.run_key)
    assert found is not None and found.status == "failed"
    assert "non-finite" in (found.error or "") and store.eval_steps(spec.run_key) == ()
    store.apply(ev.Finished(spec.run_key, 20, 1.0))  # a closed run is not reopened
    assert store.find(spec.run_key).status == "failed"  # type: ignore[union-attr]


def test_an_event_the_store_refuses_fails_that_run_and_the_sweep_goes_on(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = plan(SweepRequest(agent="random", tasks=("CartPole-V-v0",), steps=40, seeds=(0, 1)))
    original = StoreClass.apply

    def apply(self: StoreClass, event: ev.Event) -> None:
        if isinstance(event, ev.Evaluated) and event.run_key == jobs[0].run_key:
            raise IntegrityError("INSERT ...", {}, Exception("NOT NULL constraint failed"))
        original(self, event)

    monkeypatch.setattr(StoreClass, "apply", apply)
    store = Store.open(db_url)
    report = run_sweep(jobs, store, SweepDisplay(live=False))
    assert [s.seed for s in report.failed] == [0] and [s.seed for s in report.finished] == [1]
    failed = store.find(jobs[0].run_key)
    assert failed is not None and "NOT NULL constraint failed" in (failed.error or "")


@pytest.mark.slow  # two worker processes: about 25 s on a loaded two-core machine
def test_two_worker_sweep_with_a_nan_agent_fails_that_run_only(cli: Any, db_url: str) -> None:
    result = cli(
        "run",
        "--agent",
        "helper_agents:Misbehaving",
        "--task",
        "Pendulum-V-v0",
        "--steps",
        "400",
        "--eval-every",
        "200",
        "--eval-episodes",
        "1",
        "--seeds",
        "0",
        "1",
        "--workers",
        "2",
        "--set",
        "bad=eval_nan",
        "--set",
        "bad_seed=0",
        "--db",
        db_url,
    )
    assert result.status == 1, result.err
    assert "1 of 2 runs did not finish (1 failed)" in result.err
    assert "Traceback" not in result.err + result.out
    runs = {r["seed"]: r for r in json.loads(cli("results", "--json", "--db", db_url).out)}
    assert runs[0]["status"] == "failed" and "not finite" in runs[0]["error"]
    assert runs[1]["status"] == "finished"


def test_box_guard_costs_one_check_per_block() -> None:
    import gymnasium

    from pomdpbench.harness.validation import BLOCK, InvalidAgentOutput, action_guard

    space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    guard = action_guard(space)
    good = np.zeros(2, dtype=np.float32)
    for _ in range(BLOCK + 3):
        guard.accept(good)
    bad = np.array([0.0, 1.5], dtype=np.float32)
    guard.accept(bad)  # pending until the block is checked
    with pytest.raises(InvalidAgentOutput, match=f"step {BLOCK + 3}"):
        guard.check()
