"""Checkpoints that let a killed or interrupted run continue.

A checkpoint is a folder ``<run dir>/step-<N>/`` holding the agent's own files (``agent/``,
written by ``agent.save``) and the harness's counters and global RNG states
(``harness.pkl``). The file ``<run dir>/LATEST`` names the newest complete checkpoint and is
replaced atomically only after the folder is fully written, so a kill during a save leaves the
previous checkpoint in force. Older folders are removed after the switch.
"""

from __future__ import annotations

import os
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pomdpbench.agents.protocol import Agent
from pomdpbench.errors import CheckpointError


@dataclass
class HarnessState:
    """The harness's part of a checkpoint."""

    env_step: int = 0
    episodes: int = 0
    eval_index: int = 0
    """Evaluation rounds done (fixes the seeds of later rounds)."""
    wall_time_s: float = 0.0
    rng: dict[str, Any] = field(default_factory=dict)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint folder of a run, if any."""
    marker = run_dir / "LATEST"
    if not marker.exists():
        return None
    folder = run_dir / marker.read_text().strip()
    return folder if folder.is_dir() else None


def save_checkpoint(run_dir: Path, agent: Agent, state: HarnessState) -> Path:
    """Write a checkpoint at ``state.env_step`` and make it the latest."""
    run_dir.mkdir(parents=True, exist_ok=True)
    name = f"step-{state.env_step:012d}"
    folder = run_dir / name
    partial = run_dir / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    (partial / "agent").mkdir()  # the protocol promises save() a directory that exists
    agent.save(partial / "agent")
    with (partial / "harness.pkl").open("wb") as handle:
        pickle.dump(state, handle)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    marker_tmp = run_dir / "LATEST.tmp"
    marker_tmp.write_text(name)
    os.replace(marker_tmp, run_dir / "LATEST")
    for old in run_dir.iterdir():
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def load_checkpoint(folder: Path, agent: Agent) -> HarnessState:
    """Restore the agent from ``folder`` and return the harness state stored with it."""
    try:
        with (folder / "harness.pkl").open("rb") as handle:
            state = pickle.load(handle)
        agent.load(folder / "agent")
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, RuntimeError) as exc:
        raise CheckpointError(
            f"checkpoint {folder} cannot be read ({exc}): delete it to start the run afresh"
        ) from None
    if not isinstance(state, HarnessState):
        raise CheckpointError(f"{folder} is not a pomdpbench checkpoint: delete it")
    return state


def remove_checkpoints(run_dir: Path) -> None:
    """Delete a finished run's checkpoints."""
    shutil.rmtree(run_dir, ignore_errors=True)
