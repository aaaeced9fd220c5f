"""RESeL's policy and critic, each with its own context encoder (RESeL Sec. 4.1, App. D.3.2).

Context encoder: one linear pre-encoder of 128 units per input (current observation, last
observation, last action, last reward when the suite says so), concatenated without activation;
then the *encoder stack* — an MLP (256, ELU), the sequence core (Mamba / GRU / Transformer),
ELU, and a linear layer to the 128-d embedding. Only the stack gets the context-encoder learning
rate (:meth:`ContextEncoder.stack_parameters`), as in the RESeL code's ``prepare_param_list``
(``sac_full_length_rnn_redq_sep_optim.py``), which puts the pre-encoders at the normal rate.

Policy: ``Linear(obs -> 128)`` concatenated with the embedding, MLP (256, 256, ELU), then
``2|A|`` outputs read as (log std, mean) of a tanh-squashed Gaussian (log std clamped to
[-20, 2]), or ``|A|`` logits for discrete actions with probabilities ``(softmax + 0.01)``
renormalized (``contextual_sac_discrete_policy.py``). Critic: ``Linear(obs -> 128)`` and
``Linear(action -> 128)`` with the embedding, then an ensemble of 8 MLPs (256, 256, ELU) with
one output (or one per discrete action). MLP layers after the pre-encoders are Xavier-uniform
with zero biases (``RNNBase.xavier_initialize_weights``); pre-encoders keep PyTorch's default.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pomdpbench.agents.nets import EnsembleLinear, Linear, ensemble_members
from pomdpbench.agents.resel.config import ReselConfig
from pomdpbench.agents.resel.encoders import CoreKind, Layout, build_core

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # ContextualSACPolicySingleHead in the RESeL code
DISCRETE_PROB_FLOOR = 0.01  # ContextualSACDiscretePolicy.process_model_out


class Tokens(NamedTuple):
    """Encoder inputs per token, each ``(..., size)``: o_t, o_{t-1}, a_{t-1}, r_{t-1} (0 at t=0)."""

    obs: Tensor
    last_obs: Tensor
    last_action: Tensor
    last_reward: Tensor


def _xavier(layer: nn.Linear | EnsembleLinear) -> None:
    with torch.no_grad():
        if isinstance(layer, EnsembleLinear):
            bound = math.sqrt(6.0 / (layer.in_size + layer.out_size))
            layer.weight.uniform_(-bound, bound)
        else:
            nn.init.xavier_uniform_(layer.weight)
        layer.bias.zero_()


def _mlp(in_size: int, hidden: Sequence[int], out_size: int, ensemble: int = 0) -> nn.Sequential:
    """ELU MLP with a linear output, Xavier-initialized; an ensemble when ``ensemble > 0``."""
    layers: list[nn.Module] = []
    width = in_size
    for size in [*hidden, out_size]:
        linear = EnsembleLinear(ensemble, width, size) if ensemble else Linear(width, size)
        _xavier(linear)
        layers += [linear, nn.ELU()]
        width = size
    return nn.Sequential(*layers[:-1])


class ContextEncoder(nn.Module):
    """Pre-encoders, then the encoder stack (MLP, core, ELU, linear) to the context embedding."""

    def __init__(self, obs_size: int, action_size: int, cfg: ReselConfig, kind: CoreKind) -> None:
        super().__init__()
        size = cfg.pre_encoder_size
        self.reward_input = cfg.reward_input
        self.last_obs_input = cfg.last_obs_input
        self.obs_encoder = Linear(obs_size, size)
        self.last_obs_encoder = Linear(obs_size, size) if cfg.last_obs_input else None
        self.last_action_encoder = Linear(action_size, size)
        self.last_reward_encoder = Linear(1, size) if cfg.reward_input else None
        inputs = 2 + int(cfg.last_obs_input) + int(cfg.reward_input)
        self.mlp_in = _mlp(inputs * size, cfg.encoder_hidden[:-1], cfg.encoder_width)
        self.core = build_core(kind, cfg.encoder_width, **cfg.core_options())
        self.mlp_out = Linear(cfg.encoder_width, cfg.embedding_size)
        _xavier(self.mlp_out)

    def stack_parameters(self) -> Iterator[nn.Parameter]:
        """The parameters trained at the context-encoder learning rate (MLP, core, MLP)."""
        for module in (self.mlp_in, self.core, self.mlp_out):
            yield from module.parameters()

    def _pre_encode(self, tokens: Tokens) -> Tensor:
        parts = [self.obs_encoder(tokens.obs)]
        if self.last_obs_encoder is not None:
            parts.append(self.last_obs_encoder(tokens.last_obs))
        parts.append(self.last_action_encoder(tokens.last_action))
        if self.last_reward_encoder is not None:
            parts.append(self.last_reward_encoder(tokens.last_reward))
        return F.elu(self.mlp_in(torch.cat(parts, dim=-1)))

    def forward(self, tokens: Tokens, layout: Layout) -> Tensor:
        """``(rows, length, embedding)`` for packed trajectories."""
        hidden = self.core(self._pre_encode(tokens), layout)
        out: Tensor = self.mlp_out(F.elu(hidden))
        return out

    def initial_state(self, batch: int, random: bool = False) -> Any:
        """The core's state before the first token."""
        return self.core.initial_state(batch, random)

    def step(self, tokens: Tokens, state: Any) -> tuple[Tensor, Any]:
        """One token per batch row: ``(batch, embedding)`` and the next state."""
        hidden, state = self.core.step(self._pre_encode(tokens), state)
        return self.mlp_out(F.elu(hidden)), state


class _Contextual(nn.Module):
    """What the policy and the critic share: a context encoder and a map of the observation."""

    def __init__(
        self, obs_size: int, action_size: int, discrete: bool, cfg: ReselConfig, kind: CoreKind
    ) -> None:
        super().__init__()
        self.discrete = discrete
        self.encoder = ContextEncoder(obs_size, action_size, cfg, kind)
        self.obs_map = Linear(obs_size, cfg.pre_encoder_size)


class Actor(_Contextual):
    """The policy: context encoder plus an MLP on (embedding, current observation)."""

    def __init__(
        self, obs_size: int, action_size: int, discrete: bool, cfg: ReselConfig, kind: CoreKind
    ) -> None:
        super().__init__(obs_size, action_size, discrete, cfg, kind)
        outputs = action_size if discrete else 2 * action_size
        self.head = _mlp(cfg.pre_encoder_size + cfg.embedding_size, cfg.head_hidden, outputs)

    def from_embedding(self, embedding: Tensor, obs: Tensor) -> Tensor:
        """Raw head outputs: logits, or (log std, mean) of the pre-tanh Gaussian."""
        out: Tensor = self.head(torch.cat([self.obs_map(obs), embedding], dim=-1))
        return out

    def forward(self, tokens: Tokens, layout: Layout) -> Tensor:
        """Head outputs at every token of a packed batch."""
        return self.from_embedding(self.encoder(tokens, layout), tokens.obs)

    def step(self, tokens: Tokens, state: Any) -> tuple[Tensor, Any]:
        """Head outputs for one token per batch row, and the next encoder state."""
        embedding, state = self.encoder.step(tokens, state)
        return self.from_embedding(embedding, tokens.obs), state


class Critic(_Contextual):
    """Context encoder plus an ensemble of Q heads on (observation, action, embedding)."""

    def __init__(
        self, obs_size: int, action_size: int, discrete: bool, cfg: ReselConfig, kind: CoreKind
    ) -> None:
        super().__init__(obs_size, action_size, discrete, cfg, kind)
        self.action_map = None if discrete else Linear(action_size, cfg.pre_encoder_size)
        inputs = cfg.pre_encoder_size * (1 if discrete else 2) + cfg.embedding_size
        outputs = action_size if discrete else 1
        self.heads = _mlp(inputs, cfg.head_hidden, outputs, ensemble=cfg.ensemble_size)

    def q_values(
        self, embedding: Tensor, obs: Tensor, action: Tensor | None, heads: Tensor | None = None
    ) -> Tensor:
        """``(ensemble, M, 1)`` for continuous actions, ``(ensemble, M, |A|)`` for discrete.

        With ``heads``, only those heads (in that order), without running the others.
        """
        parts = [self.obs_map(obs)]
        if self.action_map is not None and action is not None:
            parts.append(self.action_map(action))
        inputs = torch.cat([*parts, embedding], dim=-1)
        out: Tensor = (
            self.heads(inputs) if heads is None else ensemble_members(self.heads, heads, inputs)
        )
        return out


def gaussian_sample(out: Tensor, deterministic: bool = False) -> tuple[Tensor, Tensor]:
    """Tanh-squashed action and its log-probability from (log std, mean) head outputs."""
    log_std, mean = out.chunk(2, dim=-1)
    if deterministic:
        return torch.tanh(mean), torch.zeros_like(mean[..., 0])
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    noise = torch.randn_like(mean)
    pre_tanh = mean + noise * log_std.exp()
    log_prob = (-0.5 * noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
    # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), written stably.
    log_prob = log_prob - (2.0 * (math.log(2.0) - pre_tanh - F.softplus(-2.0 * pre_tanh))).sum(-1)
    return torch.tanh(pre_tanh), log_prob


def categorical_log_probs(logits: Tensor) -> Tensor:
    """Log-probabilities of ``(softmax + 0.01)`` renormalized, as the RESeL code's policy."""
    probs = F.softmax(logits, dim=-1) + DISCRETE_PROB_FLOOR
    return torch.log(probs / probs.sum(-1, keepdim=True))
