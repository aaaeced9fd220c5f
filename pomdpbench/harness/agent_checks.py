"""The contract checks of ``pomdpbench check-agent``, run on the harness's own code.

Gymnasium's ``check_env`` idea for agents: before a submission, drive an agent through the
harness's :class:`~pomdpbench.harness.stepper.Stepper` and evaluation on one task and report,
check by check, whether it honours :mod:`pomdpbench.agents.protocol`. The fast tests run the
same checks over every shipped agent (tests/test_agents.py).

Every check compares agents built the harness's way (:func:`pomdpbench.harness.loop.build_run`
after :func:`~pomdpbench.harness.seeding.seed_everything`) and driven the same way, so a
difference can only come from the agent:

* ``build``, ``spaces``, ``act/observe/update``: agent A trains two stretches of ``steps``
  steps; every action it returns (and those of the reset probe) must be of the action space:
  a float numpy array of its shape inside its bounds, or an integer in range; metrics finite.
* ``determinism``: agent B, built with the same seed, takes the same actions and reports the
  same metrics over the first stretch.
* ``evaluation isolation``: B runs an evaluation between its two stretches, then continues
  the training episode it was in. Its second stretch must match A's (which was not
  evaluated), with the global generators set back as before the evaluation. Where it does not,
  agent D is evaluated on other episodes of the same length: if D matches B, the evaluation's
  *content* did not reach training (the agent's own random generator advanced in the
  evaluation, which passes with a note); otherwise evaluation steps leaked into learning, or
  the training episode's memory was not carried in the state ``act`` returned.
* ``episode reset``: two fresh agents act (evaluation mode, deterministic) on the first steps
  of two different episodes, then on the same episode; they must act the same on it. The two
  prefixes have the same length, so an agent that samples even when asked to be deterministic
  draws as many numbers in both and still passes; an agent that carries memory across an
  episode start does not.
* ``save/load``, ``round trip``: A saves after its second stretch; agent C, built with
  another seed, loads the files and, like A, plays a third stretch from a fresh episode (as a
  resumed run does) with the same global generators: the same actions and metrics.

What the checks record and compare (traces, raw actions, the action-space test, the results)
lives in :mod:`pomdpbench.harness.check_records`.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.agents.protocol import Agent
from pomdpbench.harness.check_records import (
    CheckFailed,
    CheckResult,
    RawActions,
    Trace,
    action_problem,
    describe,
)
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import build_run
from pomdpbench.harness.seeding import rng_state, seed_everything, set_rng_state
from pomdpbench.harness.stepper import Stepper
from pomdpbench.harness.validation import InvalidAgentOutput

CHECKS = (
    "build",
    "spaces",
    "act/observe/update",
    "determinism",
    "evaluation isolation",
    "episode reset",
    "save/load",
    "round trip",
)
PREFIX_STEPS = 8
"""Steps of the two different episode beginnings in the reset probe."""
PROBE_STEPS = 40
"""Most steps of the episode both agents then play in the reset probe (and of an evaluation)."""


_NOT_RUN = CheckResult("", "skip", "")


def run_checks(job: JobSpec, steps: int = 80) -> list[CheckResult]:
    """Every check of the module docstring for ``job``'s agent, task, seed and config.

    ``steps`` is the length of each training stretch (the third, of the round trip, is half
    as long); the agent's budget is set to the steps it will take.
    """
    import torch

    job = replace(job, budget=2 * steps + steps // 2 + 1)
    threads = torch.get_num_threads()
    torch.set_num_threads(job.threads)
    try:
        return _Checker(job, steps).run()
    finally:
        torch.set_num_threads(threads)


class _Checker:
    def __init__(self, job: JobSpec, steps: int) -> None:
        self.job, self.steps = job, steps
        self.results: dict[str, CheckResult] = {}
        self.raw: list[tuple[gymnasium.spaces.Space[Any], RawActions]] = []
        self.deterministic_eval = True

    def run(self) -> list[CheckResult]:
        stages = (
            self._build_and_train,
            self._determinism_and_isolation,
            self._episode_reset,
            self._round_trip,
        )
        for stage in stages:
            try:
                stage()
            except CheckFailed as failure:
                self._record(failure.name, "fail", failure.reason)
            except InvalidAgentOutput as exc:
                self._record("spaces", "fail", str(exc))
            if self.results.get("act/observe/update", _NOT_RUN).status != "pass":
                break
        if "spaces" not in self.results and any(recorder.seen for _, recorder in self.raw):
            self._record("spaces", *self._spaces())
        for name in CHECKS:
            if name not in self.results:
                self._record(name, "skip", "not run: " + self._blocker())
        return [self.results[name] for name in CHECKS]

    def _record(self, name: str, status: str, reason: str) -> None:
        self.results.setdefault(name, CheckResult(name, status, reason))

    def _blocker(self) -> str:
        failed = [r.name for r in self.results.values() if r.status == "fail"]
        return f"needs {failed[0]} to pass" if failed else "an earlier check stopped"

    def _agent(self, seed_offset: int = 0, raw: bool = False) -> tuple[Agent, Any, Any]:
        """An agent built the harness's way, with the training and evaluation environments."""
        job = replace(self.job, seed=self.job.seed + seed_offset)
        seed_everything(job.seed)
        try:
            agent, env, eval_env = build_run(job)
        except Exception as exc:  # noqa: BLE001 - reported as the check's reason
            raise CheckFailed("build", describe(exc)) from None
        if raw:
            recorder = RawActions(agent)
            try:
                agent.act = recorder  # type: ignore[method-assign]
                self.raw.append((env.action_space, recorder))
            except (AttributeError, TypeError):
                pass  # the harness's guard still checks its actions
        return agent, env, eval_env

    def _stretch(self, name: str, stepper: Stepper, steps: int) -> Trace:
        """``steps`` training steps, step by step; any exception fails check ``name``."""
        trace = Trace([], [])
        for _ in range(steps):
            log: list[dict[str, float]] = []
            try:
                stepper.run(1, metrics_log=log)
            except InvalidAgentOutput:
                raise
            except Exception as exc:  # noqa: BLE001
                raise CheckFailed(name, describe(exc)) from None
            action = stepper.action
            trace.actions.append(action.copy() if isinstance(action, np.ndarray) else action)
            trace.metrics.append(dict(log[0]) if log else {})
        try:
            stepper.check_actions()
        except InvalidAgentOutput:
            raise
        return trace

    def _trainer(self, agent: Agent, env: Any, seed: int | None = None) -> Stepper:
        stepper = Stepper(agent, env, training=True)
        stepper.reset(self.job.seed if seed is None else seed)
        return stepper

    def _build_and_train(self) -> None:
        from pomdpbench.registry import get_task

        self.deterministic_eval = get_task(self.job.task).deterministic_eval
        agent, env, eval_env = self._agent(raw=True)
        self._record("build", "pass", f"built on {self.job.task} ({env.action_space} actions)")
        self.a = agent
        self.a_stepper = self._trainer(agent, env)
        self.a1 = self._stretch("act/observe/update", self.a_stepper, self.steps)
        self.a2 = self._stretch("act/observe/update", self.a_stepper, self.steps)
        metrics = [m for m in self.a1.metrics + self.a2.metrics if m]
        bad = [m for m in metrics if not all(np.isfinite(float(v)) for v in m.values())]
        if bad:
            raise CheckFailed("act/observe/update", f"update returned non-finite metrics {bad[0]}")
        learned = (
            f"{len(metrics)} updates reported metrics"
            if metrics
            else "update never reported metrics: if it is still warming up, learning was not "
            "checked (shorten the warm-up with --set or raise --steps)"
        )
        self._record("act/observe/update", "pass", f"{2 * self.steps} training steps; {learned}")

    def _determinism_and_isolation(self) -> None:
        agent, env, eval_env = self._agent()
        stepper = self._trainer(agent, env)
        b1 = self._stretch("determinism", stepper, self.steps)
        difference = self.a1.first_difference(b1)
        if difference:
            raise CheckFailed(
                "determinism",
                f"two agents built with seed {self.job.seed} differ at "
                f"{difference}: seed every generator from ctx.seed",
            )
        self._record(
            "determinism",
            "pass",
            f"two agents built with seed {self.job.seed} agree over {self.steps} training steps",
        )
        b2 = self._evaluated_stretch(agent, stepper, eval_env, episode_seed=101)
        difference = self.a2.first_difference(b2)
        if difference is None:
            self._record(
                "evaluation isolation",
                "pass",
                "training after an evaluation continues exactly as without it",
            )
            return
        agent, env, eval_env = self._agent()
        stepper = self._trainer(agent, env)
        self._stretch("evaluation isolation", stepper, self.steps)
        d2 = self._evaluated_stretch(agent, stepper, eval_env, episode_seed=202)
        if b2.first_difference(d2) is None:
            self._record(
                "evaluation isolation",
                "pass",
                "what an evaluation saw never reached "
                "training (note: an evaluation shifts the training after it, e.g. the "
                "agent's own generator advances when it acts)",
            )
            return
        raise CheckFailed(
            "evaluation isolation",
            f"training after an evaluation depends on what it saw (without an evaluation vs "
            f"after one, {difference}): learn only from observe(), never from act() with "
            "inp.training False, and keep the episode's memory in the state act "
            "returns",
        )

    def _evaluated_stretch(
        self, agent: Agent, stepper: Stepper, eval_env: Any, episode_seed: int
    ) -> Trace:
        """An evaluation of :data:`PROBE_STEPS` steps (episodes cut), then the next stretch."""
        saved = rng_state()
        evaluation = Stepper(agent, eval_env, training=False, deterministic=self.deterministic_eval)
        try:
            evaluation.reset(episode_seed)
            evaluation.run(PROBE_STEPS)
        except InvalidAgentOutput:
            raise
        except Exception as exc:  # noqa: BLE001
            raise CheckFailed("evaluation isolation", describe(exc)) from None
        evaluation.check_actions()
        set_rng_state(saved)
        return self._stretch("evaluation isolation", stepper, self.steps)

    def _episode_reset(self) -> None:
        if self.results.get("determinism", _NOT_RUN).status != "pass":
            return
        first, second = self._probe(prefix_seed=11), self._probe(prefix_seed=12)
        difference = Trace(first, []).first_difference(Trace(second, []))
        if difference:
            raise CheckFailed(
                "episode reset",
                f"the same episode got other actions after another "
                f"episode's first steps ({difference}): start from initial_state() and "
                "forget everything when inp.episode_start is True",
            )
        self._record(
            "episode reset", "pass", "an episode is played the same whatever came before it"
        )

    def _probe(self, prefix_seed: int) -> list[Any]:
        """A fresh agent's actions on one episode after :data:`PREFIX_STEPS` other steps."""
        agent, _, eval_env = self._agent(raw=True)
        stepper = Stepper(agent, eval_env, training=False, deterministic=True)
        actions: list[Any] = []
        try:
            stepper.reset(prefix_seed)
            stepper.run(PREFIX_STEPS)
            stepper.reset(13)
            ended = stepper.episodes
            while stepper.episodes == ended and len(actions) < PROBE_STEPS:
                stepper.run(1, stop_at_episode_end=True)
                action = stepper.action
                actions.append(action.copy() if isinstance(action, np.ndarray) else action)
        except InvalidAgentOutput:
            raise
        except Exception as exc:  # noqa: BLE001
            raise CheckFailed("episode reset", describe(exc)) from None
        stepper.check_actions()
        return actions

    def _round_trip(self) -> None:
        with tempfile.TemporaryDirectory(prefix="pomdpbench-check-") as tmp:
            folder = Path(tmp) / "agent"
            folder.mkdir()
            try:
                self.a.save(folder)
            except Exception as exc:  # noqa: BLE001
                raise CheckFailed("save/load", f"save: {describe(exc)}") from None
            saved = rng_state()
            a3 = self._stretch(
                "round trip", self._trainer(self.a, self.a_stepper.env, 7), self.steps // 2
            )
            restored, env, _ = self._agent(seed_offset=1)
            try:
                restored.load(folder)
            except Exception as exc:  # noqa: BLE001
                raise CheckFailed("save/load", f"load: {describe(exc)}") from None
            written = sum(1 for path in folder.rglob("*") if path.is_file())
            self._record("save/load", "pass", f"saved {written} file(s); a fresh agent loaded them")
            set_rng_state(saved)
            c3 = self._stretch("round trip", self._trainer(restored, env, 7), self.steps // 2)
        difference = a3.first_difference(c3)
        if difference:
            raise CheckFailed(
                "round trip",
                f"the agent loaded from the checkpoint (built with "
                f"another seed) differs from the original at {difference}: save "
                "everything training needs, its own generators too",
            )
        self._record(
            "round trip",
            "pass",
            f"the loaded agent takes the original's next {self.steps // 2} actions and updates",
        )

    def _spaces(self) -> tuple[str, str]:
        for space, recorder in self.raw:
            for action in recorder.seen:
                problem = action_problem(space, action)
                if problem:
                    return "fail", problem
        seen = sum(len(recorder.seen) for _, recorder in self.raw)
        return "pass", f"{seen} actions of the action space (shape, dtype, bounds)"
