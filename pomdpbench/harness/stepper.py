"""What an agent sees each step, built in one place for training, evaluation and the tests.

A :class:`Stepper` drives one agent on one environment. It keeps the agent's view of the
current step (observation, previous action and reward, episode-start flag, privileged state,
recurrent state) and advances it: the agent acts, the action is checked
(:mod:`pomdpbench.harness.validation`), the environment steps, and, when training, the agent
observes the :class:`~pomdpbench.agents.protocol.Transition` and updates. At an episode end it
resets the environment and the agent's recurrent state. The training loop
(:mod:`pomdpbench.harness.loop`), evaluation (:mod:`pomdpbench.harness.evaluation`), the
diagnostics, ``pomdpbench check-agent`` and the agents' tests all step through it, so the input
contract of :mod:`pomdpbench.agents.protocol` is written here once.

:meth:`Stepper.run` is the hot path of every run. It takes many steps per call with the
stepper's fields in local variables (an attribute access per step would cost more than the
harness's own work), and writes them back when it returns or raises, so a caller that
interrupts it (Ctrl-C, a failed update) still finds the step count and the pending action
checks as they were.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from pomdpbench.agents.protocol import Agent, AgentInput, Transition
from pomdpbench.harness.actions import ActionEncoder
from pomdpbench.harness.validation import BLOCK, BoxGuard, Guard, action_guard

_new = tuple.__new__  # builds the NamedTuples without their Python-level __new__


class Stepper:
    """One agent acting on one environment, in training (observed) or evaluation mode.

    ``training`` decides what the agent is told (``AgentInput.training``) and whether steps
    are observed and followed by ``update``; ``deterministic`` is passed to ``act``. ``guard``
    checks the actions (one is made for the action space when none is given); ``first_step``
    numbers the steps in its messages. ``updates=False`` observes training steps without
    calling ``update`` (for tests that inspect what an agent stored).
    """

    def __init__(
        self,
        agent: Agent,
        env: gymnasium.Env[Any, Any],
        *,
        training: bool,
        deterministic: bool = False,
        encoder: ActionEncoder | None = None,
        privileged: bool | None = None,
        guard: Guard | None = None,
        first_step: int = 0,
        updates: bool = True,
    ) -> None:
        self.agent, self.env, self.updates = agent, env, updates
        self.training, self.deterministic = training, deterministic
        self.encoder = encoder or ActionEncoder(env.action_space)
        self.privileged = bool(agent.wants_privileged) if privileged is None else privileged
        self.guard = guard or action_guard(env.action_space, first_step=first_step)
        self.filled = 0
        """Box actions written to the guard's block and not yet checked."""
        self.steps = 0
        """Steps taken by :meth:`run` since the stepper was built."""
        self.episodes = 0
        """Episodes that ended (terminated or truncated) during :meth:`run`."""
        self.metrics: dict[str, float] = {}
        """The last non-empty metrics ``update`` returned."""
        self.episode_return = 0.0
        """In evaluation: the return of the episode in progress, or of the one that just ended
        when ``run`` stopped there (training steps do not add it up: the hot path)."""
        self.action: Any = None
        """The last action stepped (after the guard's conversion)."""
        self.info: dict[str, Any] = {}
        """The last ``info`` the environment gave (of the final step when an episode ended)."""
        self.obs: Any = None
        self.prev_action: np.ndarray = self.encoder.zero
        self.prev_reward = 0.0
        self.episode_start = True
        self.priv: Any = None
        self.state: Any = None

    def reset(self, seed: int | None = None) -> None:
        """Reset the environment (seeded when ``seed`` is given) and start an episode."""
        self.begin(*self.env.reset(seed=seed))

    def begin(self, obs: Any, info: dict[str, Any]) -> None:
        """Start an episode from an observation the environment's reset just gave."""
        self.obs, self.info = obs, info
        self.state = self.agent.initial_state()
        self.prev_action, self.prev_reward, self.episode_start = self.encoder.zero, 0.0, True
        self.priv = info.get("state") if self.privileged else None
        self.episode_return = 0.0

    def agent_input(self) -> AgentInput:
        """What the agent is shown at the current step (for callers that inspect it)."""
        return AgentInput(
            self.obs,
            self.prev_action,
            self.prev_reward,
            self.episode_start,
            self.priv,
            self.training,
        )

    def check_actions(self) -> None:
        """Test the Box actions not yet checked (before an evaluation is reported, at the end)."""
        self.guard.check(self.filled)
        self.filled = 0

    def run(
        self,
        steps: int,
        *,
        stop_at_episode_end: bool = False,
        metrics_log: list[dict[str, float]] | None = None,
    ) -> int:
        """Take up to ``steps`` steps; return how many were taken.

        At an episode end the environment is reset (unseeded) and a new episode begins, unless
        ``stop_at_episode_end``: then the stepper stops right after the final step, with
        ``episode_return`` (evaluation) and ``info`` of that episode. Non-empty metrics
        of ``update`` are appended to ``metrics_log`` when one is given.
        """
        agent, training, deterministic = self.agent, self.training, self.deterministic
        act, observe, step, reset = agent.act, agent.observe, self.env.step, self.env.reset
        update = agent.update if self.updates else dict
        guard, privileged = self.guard, self.privileged
        encode, zero = self.encoder.encode, self.encoder.zero
        # Box actions: BoxGuard.accept inlined with a local row counter (a method call per step
        # would cost more than the check itself); other spaces call accept.
        box = isinstance(guard, BoxGuard)
        block = guard.block if isinstance(guard, BoxGuard) else np.zeros(0)
        shape, ndarray, accept = tuple(getattr(guard, "shape", ())), np.ndarray, guard.accept
        obs, prev_action, prev_reward, start = (
            self.obs,
            self.prev_action,
            self.prev_reward,
            self.episode_start,
        )
        priv, state, filled, metrics_seen = self.priv, self.state, self.filled, self.metrics
        total, episodes, info, action, taken = (
            self.episode_return,
            self.episodes,
            self.info,
            self.action,
            0,
        )
        try:
            while taken < steps:
                inp = _new(AgentInput, (obs, prev_action, prev_reward, start, priv, training))
                action, state = act(inp, state, deterministic)
                if box:
                    if type(action) is not ndarray or action.shape != shape:
                        action = guard.convert(action, filled)  # type: ignore[union-attr]
                    block[filled] = action
                    filled += 1
                    if filled == BLOCK:
                        guard.check(filled)
                        filled = 0
                else:
                    action = accept(action)
                next_obs, reward, terminated, truncated, info = step(action)
                reward = float(reward)
                next_priv = info.get("state") if privileged else None
                if training:
                    observe(
                        _new(
                            Transition,
                            (
                                obs,
                                action,
                                reward,
                                next_obs,
                                terminated,
                                truncated,
                                start,
                                priv,
                                next_priv,
                            ),
                        )
                    )
                    metrics = update()
                    if metrics:
                        metrics_seen = metrics
                        if metrics_log is not None:
                            metrics_log.append(metrics)
                else:
                    total += reward
                taken += 1
                if terminated or truncated:
                    episodes += 1
                    if stop_at_episode_end:
                        break
                    obs, info = reset()
                    state = agent.initial_state()
                    prev_action, prev_reward, start = zero, 0.0, True
                    priv = info.get("state") if privileged else None
                    total = 0.0
                else:
                    obs, priv = next_obs, next_priv
                    prev_action, prev_reward, start = encode(action), reward, False
        finally:
            self.obs, self.prev_action, self.prev_reward, self.episode_start = (
                obs,
                prev_action,
                prev_reward,
                start,
            )
            self.priv, self.state, self.filled, self.metrics = priv, state, filled, metrics_seen
            self.episode_return, self.episodes, self.info, self.action = (
                total,
                episodes,
                info,
                action,
            )
            self.steps += taken
        return taken

    def run_episode(self, seed: int | None = None) -> tuple[float, int, dict[str, Any]]:
        """Reset, play one whole episode, check its actions; its return, length and last info."""
        self.reset(seed)
        length = self.run(1 << 62, stop_at_episode_end=True)
        self.check_actions()
        return self.episode_return, length, self.info
