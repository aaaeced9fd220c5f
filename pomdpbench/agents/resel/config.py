"""RESeL's hyperparameters. Defaults are the paper's values for the classic POMDP tasks.

Sources: RESeL (Luo et al., NeurIPS 2024) Table 2 and App. D.3, and the public launchers
``gen_tmuxp_mamba_*.py`` of FanmingL/Recurrent-Offpolicy-RL (cited per suite in
``baselines/resel/<suite>.toml``). Field docstrings say where each default comes from.

:class:`ReselConfig` holds what every variant shares; each context-encoder core adds only its
own settings in a subclass (:class:`ReselMambaConfig`, :class:`ReselGRUConfig`,
:class:`ReselTransformerConfig`), so a ``resel-gru`` run's configuration (and identity) names no
Mamba state size and a ``resel`` run names no attention heads. The suite files are shared by the
family: :func:`drop_other_encoders` removes another core's keys read from them, while the same
key given with ``--set`` is refused with the list of valid ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pomdpbench.agents.config import at_least, fraction, positive


@dataclass(frozen=True)
class ReselConfig:
    """Hyperparameters every RESeL variant shares: all but the sequence core's own settings."""

    # ------------------------------------------------------------------ architecture (App. D.3.2)
    pre_encoder_size: int = field(default=128, metadata=at_least(1))
    """Width of each one-layer pre-encoder (current obs, last obs, last action, last reward)."""
    encoder_hidden: tuple[int, ...] = field(default=(256,), metadata=at_least(1))
    """MLP before the sequence core (ELU); its last width is the core's width (256; Key-to-Door:
    three layers)."""
    embedding_size: int = field(default=128, metadata=at_least(1))
    """Linear layer after the core: the context embedding."""
    head_hidden: tuple[int, ...] = field(default=(256, 256), metadata=at_least(1))
    """Hidden layers of the MLP policy and of each critic head (Sec. 4.1)."""
    ensemble_size: int = field(default=8, metadata=at_least(1))
    """Critic heads (REDQ ensemble; App. C.1)."""
    target_heads: int = field(default=2, metadata=at_least(1))
    """Heads whose minimum forms the target (REDQ's M; ``redq_m=2``)."""
    reward_input: bool = False
    """Feed the last reward to the encoders (True for the meta-RL tasks, Table 2)."""
    last_obs_input: bool = True
    """Feed the last observation (``last_state_input=True`` in every launcher)."""
    random_initial_hidden: bool = False
    """Start collection episodes from a uniform [-1, 1] hidden state as the RESeL code does
    (``SAC._init_sample_hidden``); the paper's Algorithm 1 starts from zeros (line 4)."""

    # ------------------------------------------------------------------ optimization (Table 2)
    policy_lr: float = field(default=3e-4, metadata=positive())
    """Learning rate of the policy's layers outside the context encoder."""
    value_lr: float = field(default=1e-3, metadata=positive())
    """Learning rate of the critic's layers outside the context encoder."""
    policy_encoder_lr: float = field(default=1e-5, metadata=positive())
    """Learning rate of the policy's context encoder (MLP, core, MLP): ``LR_CE``."""
    value_encoder_lr: float = field(default=1e-5, metadata=positive())
    """Learning rate of the critic's context encoder (the launchers set it to the policy's)."""
    alpha_lr: float = field(default=1e-4, metadata=positive())
    """Learning rate of log alpha."""
    gamma: float = field(default=0.99, metadata=fraction())
    target_update_factor: float = field(default=0.995, metadata=fraction())
    """Soft update ``target <- 0.995 target + 0.005 online`` after every critic step."""
    batch_size: int = field(default=1999, metadata=at_least(1))
    """Minimum transitions per batch, made of whole trajectories (the launchers' 1999: two
    1000-step trajectories; Table 2 rounds it to 2000)."""
    buffer_size: int = field(default=1_000_000, metadata=at_least(1))
    """Replay capacity in transitions; whole trajectories are evicted oldest first."""
    learning_starts: int = field(default=5000, metadata=at_least(0))
    """Uniform random actions before learning; the episode in progress is finished first."""
    policy_update_every: int = field(default=2, metadata=at_least(1))
    """Critic updates per policy and temperature update (Algorithm 1, line 23)."""
    target_entropy_ratio: float = field(default=1.0, metadata=at_least(0))
    """Target entropy ``-ratio * |A|`` (continuous actions)."""
    log_alpha_max: float = 1.0
    """log alpha is clamped to at most this after each step (the RESeL code)."""
    discrete_alpha: float = field(default=0.2, metadata=at_least(0))
    """Fixed temperature for discrete actions (the RESeL code turns auto-tuning off there)."""
    q_value_guard: bool = True
    """Clamp bootstrapped values to the running range of past targets (the RESeL code's
    ``QValueGuard``; not in the paper)."""
    metrics_every: int = field(default=1000, metadata=at_least(1))
    """Report losses every this many updates."""

    @property
    def encoder_width(self) -> int:
        """Width of the sequence core (the last pre-core MLP layer)."""
        return self.encoder_hidden[-1]

    def core_options(self) -> dict[str, Any]:
        """This core's own keyword arguments of ``encoders.build_core`` (none here)."""
        return {}


@dataclass(frozen=True)
class ReselMambaConfig(ReselConfig):
    """``resel`` (and ``resel-same-lr``): the paper's Mamba core."""

    mamba_state: int = field(default=64, metadata=at_least(1))
    """Mamba state size (``smamba_b1_c8_s64_ff``)."""
    mamba_conv: int = field(default=8, metadata=at_least(0))
    """Width of Mamba's causal convolution; 0 removes it (Key-to-Door)."""
    mamba_expand: int = field(default=2, metadata=at_least(1))
    """Mamba expansion factor (the Mamba default the RESeL code keeps)."""
    mamba_blocks: int = field(default=1, metadata=at_least(1))
    """Mamba blocks (4 for Key-to-Door 500)."""
    mamba_feedforward: bool = True
    """Position-wise feed-forward after the blocks (all tasks but Key-to-Door)."""

    def core_options(self) -> dict[str, Any]:
        """The Mamba block's settings."""
        return {
            "mamba_state": self.mamba_state,
            "mamba_conv": self.mamba_conv,
            "mamba_expand": self.mamba_expand,
            "mamba_blocks": self.mamba_blocks,
            "mamba_feedforward": self.mamba_feedforward,
        }


@dataclass(frozen=True)
class ReselGRUConfig(ReselConfig):
    """``resel-gru``: a one-layer GRU as wide as the encoder MLP, nothing of its own to set."""


@dataclass(frozen=True)
class ReselTransformerConfig(ReselConfig):
    """RESeL-Transformer: the public GPT launcher's width, heads and layers, all else as RESeL."""

    encoder_hidden: tuple[int, ...] = (512,)
    """``gpt_dim = 8 * 64`` in ``gen_tmuxp_gpt_pomdp.py``."""
    transformer_heads: int = field(default=8, metadata=at_least(1))
    """Attention heads (``cgpt_h8_l4`` in ``gen_tmuxp_gpt_pomdp.py``)."""
    transformer_layers: int = field(default=4, metadata=at_least(1))
    """Decoder layers (``cgpt_h8_l4``)."""

    def core_options(self) -> dict[str, Any]:
        """The decoder's heads and layers."""
        return {
            "transformer_heads": self.transformer_heads,
            "transformer_layers": self.transformer_layers,
        }


ENCODER_CONFIGS: tuple[type[ReselConfig], ...] = (
    ReselMambaConfig,
    ReselGRUConfig,
    ReselTransformerConfig,
)


def core_fields(config: type[ReselConfig]) -> frozenset[str]:
    """The names ``config`` adds to :class:`ReselConfig` (its core's own settings)."""
    shared = {f.name for f in fields(ReselConfig)}
    return frozenset(f.name for f in fields(config)) - shared


def drop_other_encoders(
    config: type[ReselConfig], values: Mapping[str, Any], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``values`` without another core's settings that came from a shared suite file.

    A key the user named (``overrides``, from ``--set``) is kept, so that building the config
    refuses it with the valid names instead of ignoring it.
    """
    own = core_fields(config)
    others = frozenset().union(*(core_fields(c) for c in ENCODER_CONFIGS)) - own
    named = set(overrides or {})
    return {k: v for k, v in values.items() if k not in others or k in named}
