"""PPO (Schulman et al. 2017, arXiv 1707.06347) with a memory part: one learner, seven agents.

Read top to bottom like CleanRL's ``ppo_continuous_action.py``: the config, the agent, acting
(sample from a Gaussian or a categorical), collecting the rollout through ``observe``, and
checkpoints. ``update``, once the rollout is full (values, GAE, the clipped surrogate, the
value loss, minibatch epochs), is :mod:`~pomdpbench.agents.ppo.update`'s. The memory
(:mod:`~pomdpbench.agents.ppo.models`) decides only what the networks see; the agents
(:mod:`~pomdpbench.agents.ppo.zoo`) differ in nothing else.

Fidelity choices (docs/agents.md, "PPO"):

* Gaussian actions with a state-independent log-std (S2PG ``std_0``; ikostrikov ``AddBias``);
  the sample is clipped to [-1, 1] and mapped onto the action bounds, and the log-probability
  is that of the unclipped sample (as MushroomRL and ikostrikov do). Discrete: categorical.
* ``ppo-rs``: one Gaussian over [a, z'] (z' neither clipped nor squashed), the ratio over both,
  GAE with V(s, z, a_prev) and V(s', z', a) (robfiras/s2pg ``PPO_RS``).
* Observations are standardized with running statistics (MushroomRL's
  ``StandardizationPreprocessor``, SB3/ikostrikov ``VecNormalize``: clip at 10), updated once
  per rollout rather than every step so acting and training within a rollout see the same
  inputs and the ratio starts at exactly 1.
* Advantages are normalized over the whole rollout (MushroomRL and ikostrikov both do).
* A checkpoint keeps the partial rollout; after a resume the harness starts a new episode,
  which GAE treats as a cut of the previous one (bootstrap from its last next observation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from pomdpbench.agents.config import at_least, fraction, positive
from pomdpbench.agents.nets import adam
from pomdpbench.agents.ppo.models import BPTTModel, GRUModel, RSModel, WindowModel
from pomdpbench.agents.ppo.rollout import Rollout, RunningMeanStd
from pomdpbench.agents.ppo.update import PPOUpdate
from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition
from pomdpbench.errors import ConfigError
from pomdpbench.registry.specs import TaskSpec

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # S2PG's clamp of the learned log-std


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters; defaults are S2PG's PPO launchers (robfiras/s2pg) unless noted."""

    rollout_steps: int = field(default=2000, metadata=at_least(1))
    """Environment steps per update (``n_steps_per_fit``)."""
    epochs: int = field(default=10, metadata=at_least(1))
    """Passes over the rollout per update (``n_epochs_policy``; critic ``n_epochs`` 10)."""
    minibatch_size: int = field(default=32, metadata=at_least(1))
    """Steps per gradient step (``batch_size_actor``/``batch_size_critic``)."""
    actor_lr: float = field(default=1e-4, metadata=at_least(0))
    critic_lr: float = field(default=1e-4, metadata=at_least(0))
    adam_eps: float = field(default=1e-8, metadata=positive())
    """torch's Adam default (MushroomRL); ikostrikov uses 1e-5."""
    gamma: float = field(default=0.99, metadata=fraction())
    gae_lambda: float = field(default=0.95, metadata=fraction())
    clip_eps: float = field(default=0.2, metadata=positive())
    clip_value_loss: bool = False
    """Clip the value change to ``clip_eps`` as ikostrikov's PPO does; MushroomRL does not."""
    vf_coef: float = field(default=1.0, metadata=at_least(0))
    """Weight of the mean squared value error (S2PG fits the critic on its own MSE)."""
    ent_coef: float = field(default=0.0, metadata=at_least(0))
    max_grad_norm: float = field(default=0.0, metadata=at_least(0))
    """Clip the gradient norm to this; 0 turns clipping off (MushroomRL does not clip)."""
    std_0: float = field(default=1.0, metadata=positive())
    """Initial standard deviation of the Gaussian (``std_0``)."""
    hidden_sizes: tuple[int, ...] = field(default=(128, 128), metadata=at_least(1))
    """MLP widths (``n_features=128``, two layers)."""
    activation: Literal["relu", "tanh"] = "relu"
    gru_size: int = field(default=128, metadata=at_least(1))
    """Memory width: S2PG's PPO GRU is 128; ppo-gru uses 64 (ikostrikov ``hidden_size``)."""
    embedding_size: int = field(default=128, metadata=at_least(1))
    """Observation and previous-action embeddings of the S2PG GRU actors."""
    sequence_length: int = field(default=128, metadata=at_least(1))
    """ppo-gru only: longest training segment (ikostrikov's ``num_steps`` per process)."""
    normalize_obs: bool = True
    obs_clip: float = field(default=10.0, metadata=positive())
    normalize_advantage: bool = True


class PPO(PPOUpdate):
    """PPO behind the Agent protocol; subclasses fix the memory (``memory``, ``length``)."""

    wants_privileged = False
    Config = PPOConfig
    agent_id = "ppo"
    memory: Literal["mlp", "window", "bptt", "rs", "gru"] = "mlp"
    length = 1
    defaults: dict[str, Any] = {}
    """Where an agent's source departs from PPOConfig's defaults; suite files override both."""

    @classmethod
    def check_task(cls, task: TaskSpec) -> str | None:
        """PPO acts in Box and Discrete spaces: refuse anything else before a run starts."""
        if task.action_space.startswith(("Box", "Discrete")):
            return None
        return f"{cls.agent_id} acts in Box or Discrete spaces; {task.id} has {task.action_space}"

    def __init__(self, ctx: AgentContext[PPOConfig]) -> None:
        self.cfg = cfg = ctx.config  # built by the harness from defaults and the suite file
        space = ctx.action_space
        if not isinstance(space, (spaces.Box, spaces.Discrete)):
            raise ConfigError(f"{self.agent_id} acts in Box or Discrete spaces, not {space}")
        self.device = torch.device(ctx.device)
        self.discrete = isinstance(space, spaces.Discrete)
        obs_size = int(np.prod(ctx.observation_space.shape or (1,)))
        if self.discrete:
            assert isinstance(space, spaces.Discrete)
            self.n_actions = head_size = enc_size = int(space.n)
            stored_size = 1  # the index
        else:
            assert isinstance(space, spaces.Box)
            self.n_actions = head_size = enc_size = stored_size = int(np.prod(space.shape))
            self.low = space.low.reshape(-1).astype(np.float32)
            self.high = space.high.reshape(-1).astype(np.float32)
            self.action_shape = space.shape
        self.model = self._build_model(obs_size, enc_size, head_size).to(self.device)
        # State-independent log-std over the action (and, for rs, over z' too).
        gaussian_size = (0 if self.discrete else self.n_actions) + (
            cfg.gru_size if self.model.stochastic_state else 0
        )
        self.log_std = nn.Parameter(
            torch.full((gaussian_size,), float(np.log(cfg.std_0)), device=self.device)
        )
        actor = [
            p for n, p in self.model.named_parameters() if not n.startswith(("critic", "value"))
        ]
        critic = [p for n, p in self.model.named_parameters() if n.startswith(("critic", "value"))]
        self.optimizer = adam(
            [
                {"params": [*actor, self.log_std], "lr": cfg.actor_lr},
                {"params": critic, "lr": cfg.critic_lr},
            ],
            lr=cfg.actor_lr,
            eps=cfg.adam_eps,
        )
        self.rollout = Rollout(
            cfg.rollout_steps, obs_size, enc_size, stored_size, self.model.state_size
        )
        self.obs_rms = RunningMeanStd((obs_size,))
        self.prefix = np.zeros((max(self.length - 1, 0), obs_size), np.float32)
        self.prefix_valid = 0
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(ctx.seed)
        self._pending: dict[str, Any] | None = None
        self.steps = 0
        self.updates = 0

    def _build_model(self, obs_size: int, enc_size: int, head_size: int) -> Any:
        cfg = self.cfg
        if self.memory in ("mlp", "window"):
            return WindowModel(obs_size, head_size, self.length, cfg.hidden_sizes, cfg.activation)
        if self.memory == "rs":
            return RSModel(
                obs_size,
                enc_size,
                head_size,
                cfg.gru_size,
                cfg.embedding_size,
                cfg.hidden_sizes,
                cfg.activation,
            )
        if self.memory == "bptt":
            return BPTTModel(
                obs_size, enc_size, head_size, cfg.gru_size, cfg.embedding_size, self.length
            )
        return GRUModel(obs_size, head_size, cfg.gru_size, cfg.hidden_sizes, cfg.sequence_length)

    # ------------------------------------------------------------------ acting
    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """Standardize with the statistics frozen since the last update, clipped to +-obs_clip."""
        if not self.cfg.normalize_obs:
            return np.asarray(obs, np.float32)
        std = np.sqrt(self.obs_rms.var + 1e-8)
        z = (np.asarray(obs, np.float64) - self.obs_rms.mean) / std
        return np.clip(z, -self.cfg.obs_clip, self.cfg.obs_clip).astype(np.float32)

    def initial_state(self) -> Any:
        """The memory at an episode start (None for ppo-mlp)."""
        return self.model.initial_state()

    def _log_std(self) -> torch.Tensor:
        return self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    @torch.no_grad()
    def act(self, inp: AgentInput, state: Any, deterministic: bool) -> tuple[Any, Any]:
        """Sample (or take the mode of) the action; rs also samples its next internal state."""
        if inp.episode_start:
            state = self.model.initial_state()
        acted = self.model.act(inp.obs, inp.prev_action, state, self.normalize)
        log_std, next_state = self._log_std(), acted.next_state
        raw: torch.Tensor
        if self.discrete:
            probs = acted.head[0].softmax(-1)
            raw = probs.argmax() if deterministic else self._sample_index(probs)
            action: Any = int(raw)
            raw = raw.reshape(1).float()
            z_log_std = log_std
        else:
            raw = self._sample(acted.head[0], log_std[: self.n_actions], deterministic)
            action = self._to_env(raw.cpu().numpy())
            z_log_std = log_std[self.n_actions :]
        if acted.z_mean is not None:  # rs: z' ~ N(mean, std), unclipped (S2PG PPO-RS)
            next_state = self._sample(acted.z_mean[0], z_log_std, deterministic).cpu().numpy()
        if not deterministic:
            self._pending = {
                "prev_action": inp.prev_action,
                "raw": raw.cpu().numpy(),
                "state": state,
                "acted": acted,
                "next_state": next_state,
            }
        return action, next_state

    def _sample(
        self, mean: torch.Tensor, log_std: torch.Tensor, deterministic: bool
    ) -> torch.Tensor:
        if deterministic:
            return mean
        noise = torch.randn(mean.shape, generator=self.generator, device=self.device)
        return mean + log_std.exp() * noise

    def _sample_index(self, probs: torch.Tensor) -> torch.Tensor:
        return torch.multinomial(probs, 1, generator=self.generator)[0]

    def _to_env(self, raw: np.ndarray) -> np.ndarray:
        squashed = np.clip(raw, -1.0, 1.0)
        action = self.low + (squashed + 1.0) * 0.5 * (self.high - self.low)
        return action.astype(np.float32).reshape(self.action_shape)

    def _encode(self, action: Any) -> np.ndarray:
        if self.discrete:
            return np.eye(self.n_actions, dtype=np.float32)[int(action)]
        return np.asarray(action, np.float32).reshape(-1)

    def observe(self, transition: Transition) -> None:
        """Append the step to the rollout, with what the policy sampled and remembered."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise RuntimeError(f"{self.agent_id}: observe() needs the act() of the same step first")
        if self.rollout.size == 0 and self.memory == "window":
            # The window of the rollout's first step reaches back before it: keep that part.
            raw, valid = pending["state"]
            self.prefix = raw.reshape(self.length, -1)[1:].copy()
            self.prefix_valid = min(valid, self.length - 1)
        self.rollout.add(
            obs=transition.obs,
            next_obs=transition.next_obs,
            prev_action=pending["prev_action"],
            action=pending["raw"],
            action_enc=self._encode(transition.action),
            reward=transition.reward,
            terminated=transition.terminated,
            ended=transition.terminated or transition.truncated,
            episode_start=transition.episode_start,
            state_in=pending["acted"].state_in,
            state_next=pending["next_state"] if self.model.state_size else np.zeros(0),
        )
        self.steps += 1

    # ------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        """Networks, optimizer, statistics, counters, generator, and the rollout so far."""
        directory.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "config": asdict(self.cfg),
                "model": self.model.state_dict(),
                "log_std": self.log_std.detach().clone(),
                "optimizer": self.optimizer.state_dict(),
                "obs_rms": self.obs_rms.state(),
                "prefix": self.prefix.copy(),
                "prefix_valid": self.prefix_valid,
                "generator": self.generator.get_state(),
                "steps": self.steps,
                "updates": self.updates,
            },
            directory / "ppo.pt",
        )
        self.rollout.save(directory / "rollout.npz")

    def load(self, directory: Path) -> None:
        """Read back what :meth:`save` wrote."""
        state = torch.load(directory / "ppo.pt", map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        with torch.no_grad():
            self.log_std.copy_(state["log_std"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_rms.set_state(state["obs_rms"])
        self.prefix, self.prefix_valid = state["prefix"], state["prefix_valid"]
        self.generator.set_state(state["generator"])
        self.steps, self.updates = state["steps"], state["updates"]
        self.rollout.load(directory / "rollout.npz")
        self._pending = None
