"""``pomdpbench render``: save the frames of one episode so a person can look at a task.

One episode of uniformly random actions (seeded, so the same command shows the same episode),
rendered with the task's ``render_mode="rgb_array"``: a PNG per step (``step_0000.png`` is the
first observation), a GIF of the whole episode, or both. Pillow writes the images.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from pomdpbench.errors import ConfigError
from pomdpbench.registry import get_task, make_env

FORMATS = ("png", "gif", "both")


def add_parser(commands: Any) -> None:
    """Register the ``render`` subcommand."""
    parser = commands.add_parser(
        "render",
        help="save the frames of one random episode of a task (PNG per step or GIF)",
        description="Play one episode of a task with seeded uniform-random actions and save "
        "its rendered frames.",
    )
    parser.add_argument("task", help="task id, e.g. KeyToDoor-60-v0")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the images")
    parser.add_argument("--seed", type=int, default=0, help="episode and action seed (default 0)")
    parser.add_argument(
        "--format",
        default="png",
        choices=FORMATS,
        help="a PNG per step (default), one GIF, or both",
    )
    parser.add_argument(
        "--max-steps", type=int, metavar="N", help="stop after N steps (default: the horizon)"
    )
    parser.add_argument("--fps", type=float, default=8.0, help="GIF frames per second (default 8)")
    parser.set_defaults(handler=run)


def record_episode(task_id: str, seed: int, max_steps: int | None) -> list[np.ndarray]:
    """The RGB frames of one seeded random episode: the reset frame, then one per step."""
    task = get_task(task_id)
    probe = make_env(task.id)
    modes = probe.metadata.get("render_modes", ())
    probe.close()
    if "rgb_array" not in modes:
        raise ConfigError(
            f"task {task_id} cannot render frames: its environment has no 'rgb_array' render "
            "mode; pick a task that has one (e.g. KeyToDoor-60-v0)"
        )
    try:
        env = make_env(task.id, render_mode="rgb_array")
    except gymnasium.error.Error as exc:  # e.g. a missing rendering dependency
        raise ConfigError(f"task {task_id} cannot render frames: {exc}") from None
    limit = task.max_episode_steps if max_steps is None else max_steps
    env.action_space.seed(seed)
    env.reset(seed=seed)
    try:
        frames = [_frame(env, task_id)]
    except ConfigError:
        raise
    except Exception as exc:  # no OpenGL context for MuJoCo, most often
        env.close()
        raise ConfigError(
            f"task {task_id} cannot render here ({type(exc).__name__}: {exc}); MuJoCo tasks "
            "need an OpenGL backend: set MUJOCO_GL=egl (or osmesa)"
        ) from None
    for _ in range(limit):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        frames.append(_frame(env, task_id))
        if terminated or truncated:
            break
    env.close()
    return frames


def _frame(env: gymnasium.Env[Any, Any], task_id: str) -> np.ndarray:
    frame = env.render()
    if not isinstance(frame, np.ndarray):
        raise ConfigError(f"task {task_id} returned no frame from render()")
    return frame


def save_frames(frames: list[np.ndarray], out: Path, fmt: str, fps: float) -> list[Path]:
    """Write ``frames`` as PNGs and/or a GIF into ``out``; return the written paths."""
    from PIL import Image

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}; choose another --out") from None
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    written: list[Path] = []
    if fmt in ("png", "both"):
        for index, image in enumerate(images):
            path = out / f"step_{index:04d}.png"
            image.save(path, compress_level=1)  # fast; the images are small anyway
            written.append(path)
    if fmt in ("gif", "both"):
        path = out / "episode.gif"
        duration = max(1, int(round(1000.0 / fps)))
        images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=0)
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    """Record and save one episode."""
    if args.max_steps is not None and args.max_steps < 0:
        raise ConfigError(f"--max-steps must be 0 or more, got {args.max_steps}")
    if args.fps <= 0:
        raise ConfigError(f"--fps must be positive, got {args.fps}")
    frames = record_episode(args.task, args.seed, args.max_steps)
    written = save_frames(frames, Path(args.out), args.format, args.fps)
    steps = len(frames) - 1
    print(f"{args.task}: {steps} steps, {len(written)} file(s) written to {args.out}")
    return 0
