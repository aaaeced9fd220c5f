"""Any Stable-Baselines3 or sb3-contrib algorithm as a pomdpbench agent.

``--agent sb3:RecurrentPPO`` (any class name of ``stable_baselines3`` or ``sb3_contrib`` after
``sb3:``) needs no user code; ``--set key=value`` passes the algorithm's own constructor
arguments (``n_steps=128``, ``policy_kwargs={'net_arch': [64]}``, ``policy=MlpPolicy``). For a
user's own subclass or policy, subclass :class:`SB3Agent` and set ``algorithm`` (docs/agents.md).

SB3's ``learn()`` owns its loop, so it is never called. The harness keeps the clock, budget and
evaluation schedule and this adapter drives the algorithm one step at a time through the
library's own pieces, in the order its ``collect_rollouts``/``learn`` call them
(stable_baselines3/common/on_policy_algorithm.py, off_policy_algorithm.py and
sb3_contrib/ppo_recurrent/ppo_recurrent.py, 2.x):

* off-policy (SAC, TD3, DQN, TQC, ...): ``_sample_action`` in ``act``, ``_store_transition``,
  ``_update_current_progress_remaining`` and ``_on_step`` in ``observe``, and ``train`` in
  ``update`` whenever ``train_freq`` steps (or episodes) have been collected past
  ``learning_starts``;
* on-policy (PPO, A2C, RecurrentPPO): the policy's forward pass in ``act`` (with the LSTM state
  carried as the harness's recurrent state), ``rollout_buffer.add`` in ``observe`` (a time-limit
  truncation adds ``gamma * V(next_obs)`` to the reward, as SB3 does), and once ``n_steps``
  transitions are in: the returns, the progress and ``train`` in ``update``.

The model is built on a stand-in environment that only carries the spaces (SB3 needs one to
size its networks and buffers; it is never stepped). Evaluation acts go through
``model.predict`` with the recurrent state passed explicitly, so they touch no training state.
Checkpoints are the library's own ``save``/``load`` plus its buffers (``save_replay_buffer`` or
the rollout buffer through SB3's ``save_to_pkl``) and the adapter's counters.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, ClassVar

import gymnasium
import numpy as np

from pomdpbench.adapters.sb3_library import (
    ACTION_SPACES,
    ADAPTER_VERSION,
    UNSET,
    algorithm_class,
    constructor_arguments,
    constructor_config,
    given_arguments,
    library_versions,
    training_statistics,
)
from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition
from pomdpbench.errors import ConfigError
from pomdpbench.registry import TaskSpec

__all__ = ["ADAPTER_VERSION", "SB3Agent", "UNSET", "algorithm_class", "library_versions"]


class _SpacesOnlyEnv(gymnasium.Env):
    """Carries the task's spaces for SB3's constructor; the harness steps the real env."""

    def __init__(self, observation_space: Any, action_space: Any) -> None:
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[Any, dict[str, Any]]:
        """A placeholder observation; the adapter overwrites it with the harness's."""
        return np.zeros(self.observation_space.shape, self.observation_space.dtype), {}

    def step(self, action: Any) -> Any:
        """Never called: the harness owns the environment."""
        raise RuntimeError("the sb3 adapter's stand-in environment is never stepped")


class SB3Agent:
    """The harness's agent around one SB3 algorithm instance (see the module docstring).

    Subclasses set ``algorithm`` (an SB3 class or subclass) and may set ``policy`` (a policy
    name or class); ``version``/``description`` are read by the agent registry.
    """

    algorithm: ClassVar[type[Any] | None] = None
    policy: ClassVar[Any] = None
    """Policy name or class; None picks ``MlpLstmPolicy`` where the algorithm has one (the
    recurrent ones), else ``MlpPolicy``. ``--set policy=...`` overrides it."""
    wants_privileged = False
    Config: ClassVar[type[Any] | None] = None
    """The constructor's arguments as a dataclass, so the sweep refuses an unknown ``--set``
    name before any run starts (as for shipped agents); set for every subclass."""

    def __init__(self, ctx: AgentContext[Any]) -> None:
        if self.algorithm is None:
            raise ConfigError("an SB3Agent subclass must set `algorithm` to an SB3 class")
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

        self.ctx = ctx
        self.off_policy = issubclass(self.algorithm, OffPolicyAlgorithm)
        kwargs = given_arguments(ctx.config)
        policy = kwargs.pop("policy", self.policy) or self._default_policy()
        self._check_arguments(self.algorithm, kwargs)
        self._env = _SpacesOnlyEnv(ctx.observation_space, ctx.action_space)
        self.model = self.algorithm(
            policy, self._env, seed=ctx.seed, device=ctx.device, verbose=0, **kwargs
        )
        self.model.set_logger(Logger(folder=None, output_formats=[]))  # silence SB3's logger
        self.model._setup_learn(ctx.budget, None, True, "pomdpbench", False)
        self.recurrent = hasattr(self.model, "_last_lstm_states")
        self._zero_lstm = copy.deepcopy(getattr(self.model, "_last_lstm_states", None))
        self._pending: dict[str, Any] = {}
        self._steps = 0  # collected since the last train (rollout steps or train_freq steps)
        self._episodes = 0
        self._last_done = False

    @classmethod
    def check_task(cls, task: TaskSpec) -> str | None:
        """Refuse a task whose action space the algorithm cannot act in, before any run.

        SB3 checks this only when the model is built (an assertion); the table is SB3's own
        documentation of action-space support ("RL Algorithms" in its docs, and sb3-contrib's),
        looked up along the class's bases so a user's subclass inherits it.
        """
        if cls.algorithm is None:
            return None
        kind = "Discrete" if task.action_space.startswith("Discrete") else "Box"
        for base in cls.algorithm.__mro__:
            supported = ACTION_SPACES.get(base.__name__)
            if supported is not None and kind not in supported:
                return (
                    f"{cls.algorithm.__name__} acts only in {' or '.join(supported)} action "
                    f"spaces and {task.id} has {task.action_space}: pick a task with "
                    f"{supported[0]} actions or another algorithm"
                )
            if supported is not None:
                return None
        return None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.algorithm is not None:
            cls.Config = constructor_config(cls.algorithm)

    def _default_policy(self) -> str:
        aliases = getattr(self.algorithm, "policy_aliases", {})
        return "MlpLstmPolicy" if "MlpLstmPolicy" in aliases else "MlpPolicy"

    @staticmethod
    def _check_arguments(algorithm: type[Any], kwargs: dict[str, Any]) -> None:
        accepted = constructor_arguments(algorithm)
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            valid = sorted(accepted - {"self", "policy", "env", "seed", "device", "verbose"})
            raise ConfigError(
                f"unknown hyperparameter(s) {', '.join(unknown)} for "
                f"{algorithm.__name__}; valid: {', '.join(valid)}"
            )

    # -- the protocol -------------------------------------------------------------------------

    def initial_state(self) -> Any:
        """None: SB3 policies start their LSTM from zeros and reset it at episode starts."""
        return None

    def act(self, inp: AgentInput, state: Any, deterministic: bool) -> tuple[Any, Any]:
        """Evaluation through ``predict``; a training step through the algorithm's sampling."""
        if not inp.training:
            action, state = self.model.predict(
                inp.obs,
                state=state,
                episode_start=np.array([inp.episode_start]),
                deterministic=deterministic,
            )
            return self._env_action(action), state
        if self.off_policy:
            return self._act_off_policy(inp), None
        return self._act_on_policy(inp, state)

    def observe(self, transition: Transition) -> None:
        """Store the training transition in the algorithm's buffer."""
        model = self.model
        model.num_timesteps += 1
        done = bool(transition.terminated or transition.truncated)
        timeout = bool(transition.truncated and not transition.terminated)
        reward = np.array([transition.reward], dtype=np.float32)
        next_obs = np.asarray(transition.next_obs)[None]
        self._steps += 1
        self._episodes += int(done)
        self._last_done = done
        if self.off_policy:
            infos = [{"terminal_observation": next_obs[0], "TimeLimit.truncated": timeout}]
            model._store_transition(
                model.replay_buffer,
                self._pending["buffer_action"],
                next_obs,
                reward,
                np.array([done]),
                infos if done else [{}],
            )
            model._update_current_progress_remaining(model.num_timesteps, model._total_timesteps)
            model._on_step()
            if done:
                model._episode_num += 1
                if model.action_noise is not None:
                    model.action_noise.reset()
            return
        pending = self._pending
        if timeout:
            reward[0] += model.gamma * float(self._value(next_obs, pending["next_state"], False))
        extra = {"lstm_states": pending["state"]} if self.recurrent else {}
        model.rollout_buffer.add(
            np.asarray(transition.obs)[None],
            pending["buffer_action"],
            reward,
            np.array([transition.episode_start]),
            pending["values"],
            pending["log_probs"],
            **extra,
        )
        pending["next_obs"] = next_obs

    def update(self) -> dict[str, float]:
        """Train when the algorithm's own schedule says so; return nothing between."""
        model = self.model
        if self.off_policy:
            if not self._collected_enough():
                return {}
            steps, self._steps, self._episodes = self._steps, 0, 0
            gradient_steps = model.gradient_steps if model.gradient_steps >= 0 else steps
            if model.num_timesteps > model.learning_starts and gradient_steps > 0:
                model.train(batch_size=model.batch_size, gradient_steps=gradient_steps)
                model.policy.set_training_mode(False)
                return {"updates": float(model._n_updates), **training_statistics(model)}
            return {}
        if self._steps < model.n_steps:
            return {}
        self._steps = 0
        import torch

        last = self._value(self._pending["next_obs"], self._pending["next_state"], self._last_done)
        model.rollout_buffer.compute_returns_and_advantage(
            last_values=torch.as_tensor([[float(last)]]), dones=np.array([self._last_done])
        )
        model._update_current_progress_remaining(model.num_timesteps, model._total_timesteps)
        model.train()
        model.policy.set_training_mode(False)
        model.rollout_buffer.reset()
        if model.use_sde:
            model.policy.reset_noise(1)
        return {"updates": float(model._n_updates), **training_statistics(model)}

    def save(self, directory: Path) -> None:
        """The library's own save, its buffer, and the adapter's counters."""
        from stable_baselines3.common.save_util import save_to_pkl

        self.model.save(directory / "model.zip")
        if self.off_policy:
            self.model.save_replay_buffer(directory / "replay_buffer.pkl")
        else:
            save_to_pkl(directory / "rollout_buffer.pkl", self.model.rollout_buffer)
        counters = {"steps": self._steps, "episodes": self._episodes, "done": self._last_done}
        (directory / "adapter.json").write_text(json.dumps(counters))
        save_to_pkl(directory / "pending.pkl", self._pending)

    def load(self, directory: Path) -> None:
        """Read back what :meth:`save` wrote."""
        from stable_baselines3.common.logger import Logger
        from stable_baselines3.common.save_util import load_from_pkl

        assert self.algorithm is not None
        total = self.model._total_timesteps
        self.model = self.algorithm.load(
            directory / "model.zip", env=self._env, device=self.ctx.device
        )
        self.model.set_logger(Logger(folder=None, output_formats=[]))
        self.model._total_timesteps = total
        if self.off_policy:
            self.model.load_replay_buffer(directory / "replay_buffer.pkl")
        else:
            self.model.rollout_buffer = load_from_pkl(directory / "rollout_buffer.pkl")
        counters = json.loads((directory / "adapter.json").read_text())
        self._steps, self._episodes = counters["steps"], counters["episodes"]
        self._last_done = counters["done"]
        self._pending = load_from_pkl(directory / "pending.pkl")

    # -- one step of SB3's collect_rollouts ---------------------------------------------------

    def _act_off_policy(self, inp: AgentInput) -> Any:
        model = self.model
        if model.use_sde and model.sde_sample_freq > 0 and self._steps % model.sde_sample_freq == 0:
            model.actor.reset_noise(1)
        model._last_obs = np.asarray(inp.obs)[None]
        action, buffer_action = model._sample_action(model.learning_starts, model.action_noise, 1)
        self._pending = {"buffer_action": buffer_action}
        return self._env_action(action[0])

    def _act_on_policy(self, inp: AgentInput, state: Any) -> tuple[Any, Any]:
        import torch
        from gymnasium import spaces
        from stable_baselines3.common.utils import obs_as_tensor

        model, policy = self.model, self.model.policy
        if model.use_sde and model.sde_sample_freq > 0 and self._steps % model.sde_sample_freq == 0:
            policy.reset_noise(1)
        obs = obs_as_tensor(np.asarray(inp.obs)[None], model.device)
        with torch.no_grad():
            if self.recurrent:
                state = self._zero_lstm if state is None else state
                starts = torch.tensor([float(inp.episode_start)], device=model.device)
                actions, values, log_probs, next_state = policy(obs, state, starts)
            else:
                actions, values, log_probs = policy(obs)
                next_state = None
        actions = actions.cpu().numpy()
        env_action = actions
        if isinstance(model.action_space, spaces.Box):
            if getattr(policy, "squash_output", False):
                env_action = policy.unscale_action(actions)
            else:
                env_action = np.clip(actions, model.action_space.low, model.action_space.high)
        elif isinstance(model.action_space, spaces.Discrete):
            actions = actions.reshape(-1, 1)
        self._pending = {
            "buffer_action": actions,
            "values": values,
            "log_probs": log_probs,
            "state": state,
            "next_state": next_state,
        }
        return self._env_action(env_action[0]), next_state

    def _value(self, obs: np.ndarray, lstm_state: Any, episode_start: bool) -> float:
        import torch
        from stable_baselines3.common.utils import obs_as_tensor

        tensor = obs_as_tensor(obs, self.model.device)
        with torch.no_grad():
            if self.recurrent:
                starts = torch.tensor([float(episode_start)], device=self.model.device)
                value = self.model.policy.predict_values(tensor, lstm_state.vf, starts)
            else:
                value = self.model.policy.predict_values(tensor)
        return float(value.flatten()[0])

    def _collected_enough(self) -> bool:
        from stable_baselines3.common.type_aliases import TrainFrequencyUnit

        freq = self.model.train_freq
        if freq.unit == TrainFrequencyUnit.STEP:
            return self._steps >= freq.frequency
        return self._episodes >= freq.frequency

    def _env_action(self, action: Any) -> Any:
        if isinstance(self.ctx.action_space, gymnasium.spaces.Discrete):
            return int(np.asarray(action).reshape(-1)[0])
        return np.asarray(action, dtype=np.float32).reshape(self.ctx.action_space.shape)


_CLASSES: dict[str, type[SB3Agent]] = {}


def __getattr__(name: str) -> type[SB3Agent]:
    """``pomdpbench.adapters.sb3:PPO`` is the agent class around SB3's ``PPO`` (made once)."""
    if name.startswith("__"):
        raise AttributeError(name)
    if name not in _CLASSES:
        cls = algorithm_class(name)
        _CLASSES[name] = type(name, (SB3Agent,), {"algorithm": cls, "__module__": __name__})
    return _CLASSES[name]
