"""The contract between the harness and an agent.

The harness owns the loop and the clock; an agent only answers four calls:

* ``initial_state()`` gives the recurrent state at an episode start (``None`` if memoryless);
* ``act(inp, state, deterministic)`` maps one :class:`AgentInput` to an action and the next
  state. The harness passes the previous action (a float vector: the action itself for Box
  spaces, one-hot for Discrete; zeros at an episode start), the previous reward (0.0 at a
  start), the episode-start flag, and the privileged state when the task has one and the agent
  sets ``wants_privileged``;
* ``observe(transition)`` hands over the training transition that just happened (evaluation
  steps are never observed);
* ``update()`` is called once after every training step; the agent decides whether and how
  much to learn (warm-up, update-to-data ratio) and returns scalar metrics (may be empty).

``save(directory)`` / ``load(directory)`` write and read everything needed to continue
training (networks, optimizers, replay buffer, the agent's own random generators); the harness
creates ``directory`` before calling ``save``.

The order of calls, which agents may rely on (``tests/test_protocol.py`` checks it):

* a training step is always ``act`` (``inp.training`` True), then ``observe`` of that very
  step, then ``update``; nothing else comes between them;
* ``initial_state`` is called at every episode start, before its first ``act``;
* an evaluation round (``inp.training`` False, at step 0, every ``eval_every`` steps and at
  the end) runs whole episodes of ``initial_state`` and ``act`` only, between a training
  step's ``update`` and the next training ``act``; the training episode in progress then
  continues with the state the harness kept for it;
* ``save`` runs between two training steps (after an evaluation, or on an interrupt), and
  ``load`` right after the agent is built, before any other call.

Episodes may be cut without a final ``terminated``/``truncated`` transition: when a run resumes
from a checkpoint the harness starts a fresh episode. An agent that stores whole trajectories
must treat a transition with ``episode_start=True`` as closing the previous trajectory (as a
truncation: bootstrap from its last state).

Hyperparameters: an agent class declares the frozen dataclass it takes as ``Config`` (see
:class:`Configurable`; every shipped agent does). The harness builds it once per run, from the
class's optional ``defaults`` mapping under the run's resolved hyperparameters (its suite file's
layers and ``--set``; :mod:`pomdpbench.agents.config`), and passes the instance as
``ctx.config``; the sweep builds it before any run starts too, so an unknown name, a wrong type
or a value out of range is refused in one line. An agent without ``Config`` gets the plain
mapping. What identifies a run is that mapping, not the dataclass, so a new field with a default
leaves the identity of existing runs alone.

This mirrors Stable-Baselines3's ``PolicyPredictor`` (explicit state and episode starts) but
keeps learning behind ``observe``/``update`` so the harness can count every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar, runtime_checkable

import gymnasium
import numpy as np

from pomdpbench.record.vocabulary import Tier
from pomdpbench.registry.specs import TaskSpec

ConfigT = TypeVar("ConfigT")


class AgentInput(NamedTuple):
    """What the policy may look at for one step."""

    obs: np.ndarray
    prev_action: np.ndarray
    """Float vector: the previous action (one-hot if Discrete); zeros at an episode start."""
    prev_reward: float
    episode_start: bool
    privileged: np.ndarray | None
    """``info["state"]`` of the current step when the agent asked for it, else None."""
    training: bool = True
    """True on a training step (its transition will be observed), False in an evaluation."""


class Transition(NamedTuple):
    """One training step, as the harness saw it."""

    obs: np.ndarray
    action: Any
    """The action as given to the environment (int for Discrete, float array for Box)."""
    reward: float
    next_obs: np.ndarray
    terminated: bool
    """A true end of the task: do not bootstrap. Wins when both flags are set (a task that
    ends itself exactly at its time limit, like the T-maze, reports both)."""
    truncated: bool
    """A time limit: the episode stops but the value of ``next_obs`` still counts."""
    episode_start: bool
    """``obs`` is the first observation of an episode."""
    privileged: np.ndarray | None
    next_privileged: np.ndarray | None


@dataclass(frozen=True)
class AgentContext(Generic[ConfigT]):
    """Everything an agent may know when it is built."""

    task: TaskSpec
    observation_space: gymnasium.spaces.Space[Any]
    action_space: gymnasium.spaces.Space[Any]
    privileged_size: int | None
    """Length of the privileged state, or None if the task exposes none."""
    seed: int
    budget: int
    """Training steps of this run; agents may size buffers or schedules from it."""
    tier: Tier
    device: str = "cpu"
    config: ConfigT = field(default_factory=dict)  # type: ignore[assignment]
    """The agent's ``Config`` instance, built by the harness from the hyperparameters resolved
    from baselines/<agent>/<suite>.toml and ``--set``; the plain mapping for an agent without
    ``Config`` (and in the context :func:`~pomdpbench.agents.registry.build_agent` is given)."""


@runtime_checkable
class Configurable(Protocol):
    """The class side of an agent that declares its hyperparameters.

    ``Config`` is a frozen dataclass whose fields may declare allowed ranges
    (:func:`pomdpbench.agents.config.positive` and friends); the harness passes an instance as
    ``ctx.config`` (module docstring). A class may also set ``defaults``, a mapping its registered
    id puts under the suite file's values (e.g. ``sac-rs``'s memory part).
    """

    Config: ClassVar[type[Any] | None]


@runtime_checkable
class Agent(Protocol):
    """What the harness calls. See the module docstring for the rules."""

    wants_privileged: bool

    def initial_state(self) -> Any:
        """Recurrent state at an episode start (None for memoryless agents)."""
        ...

    def act(self, inp: AgentInput, state: Any, deterministic: bool) -> tuple[Any, Any]:
        """Return ``(action, next_state)`` for one step."""
        ...

    def observe(self, transition: Transition) -> None:
        """Take the training transition that just happened."""
        ...

    def update(self) -> dict[str, float]:
        """Learn (or not) after a training step; return scalar metrics, possibly empty."""
        ...

    def save(self, directory: Path) -> None:
        """Write everything needed to continue training into ``directory``."""
        ...

    def load(self, directory: Path) -> None:
        """Read back what :meth:`save` wrote."""
        ...


def action_size(space: gymnasium.spaces.Space[Any]) -> int:
    """Length of the float vector that encodes an action of ``space`` (one-hot if Discrete)."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gymnasium.spaces.Box):
        return int(np.prod(space.shape))
    raise TypeError(f"pomdpbench agents support Box and Discrete action spaces, got {space}")
