"""Seeds: run r of a task uses seed r for everything, and evaluation draws its own seeds.

* torch, numpy and Python's ``random`` are seeded with the run's seed;
* the training environment is reset with the run's seed once, then continues its own stream;
  a run resumed at step s restarts the environment with a seed derived from (seed, s);
* evaluation episode e of evaluation round k is reset with a seed derived from
  (seed, k, e). Different runs' seeds never collide, and two agents evaluated with the same
  run seed face the same starting states at the same evaluation point (a paired comparison).
"""

from __future__ import annotations

import random

import numpy as np

_EVAL_STREAM = 1
_RESUME_STREAM = 2


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    import torch  # here, not at the top: the store imports this module and must not load torch

    torch.manual_seed(seed)


def _derive(*words: int) -> int:
    return int(np.random.SeedSequence([w % 2**32 for w in words]).generate_state(1)[0])


def eval_episode_seed(seed: int, eval_index: int, episode: int) -> int:
    """Reset seed of evaluation episode ``episode`` in evaluation round ``eval_index``."""
    return _derive(seed, _EVAL_STREAM, eval_index, episode)


def resume_env_seed(seed: int, env_step: int) -> int:
    """Reset seed of the training environment when a run resumes at ``env_step``."""
    return _derive(seed, _RESUME_STREAM, env_step)


def rng_state() -> dict[str, object]:
    """The global generators' states, for a checkpoint."""
    import torch

    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }


def set_rng_state(state: dict[str, object]) -> None:
    """Restore what :func:`rng_state` returned."""
    import torch

    random.setstate(state["python"])  # type: ignore[arg-type]
    np.random.set_state(state["numpy"])  # type: ignore[arg-type]
    torch.set_rng_state(state["torch"])  # type: ignore[arg-type]
