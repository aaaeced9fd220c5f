"""What a task's wrappers cost: steps/s through the task divided by its bare base environment.

For every registered task that is built on a base environment (``kwargs["base_id"]``, or the
Shimmy id ``dm_control/<domain_task>-v0`` of a ``dmc`` task), the same pre-drawn uniform
actions run (a) through ``gymnasium.make(task_id)`` and (b) through ``gymnasium.make(base_id)``
with the task's horizon, fed the very actions the task's layers handed the base in a dry run.
A task with a frame skip of k hands its base k actions per step; the bare side then runs those
k base steps per task step, and the bare column counts task steps (k base steps each).
Both sides simulate the same trajectory and carry the same Gymnasium wrappers (time limit,
order enforcing, checker), so the ratio is the cost of the task's own layers (masking, gravity
and mass randomization, privileged state, frame skip). The two run in
alternating blocks of ``--block`` steps in this one process, and the ratio is the median over
blocks of bare time / task time, so that load from other processes, which changes over seconds,
hits both sides alike. The goal is task/bare >= 0.95. The ``us/step`` column is the time the
task's layers add to one step (from the totals of both sides).

Peak memory of one environment: a fresh interpreter per task imports everything, resets its
peak resident set size, builds the task's environment, runs 2000 steps and reports how far the
peak rose above the size before (simulator buffers included, which ``tracemalloc`` would not
see). Linux only.

Usage: python benchmarks/task_throughput.py [--suite S ...] [--steps 10000] [--block 250]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import subprocess
import sys
import time
import warnings
from typing import Any

import gymnasium
import numpy as np

import pomdpbench
from pomdpbench.envs.bullet import quiet_c_stdout

SIMULATOR_MODULES = ("pybullet_envs_gymnasium", "shimmy")
"""Modules that register base ids with Gymnasium when imported."""


def import_simulators() -> None:
    for module in SIMULATOR_MODULES:
        with contextlib.suppress(ImportError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(module)


def make(env_id: str, **kwargs: Any) -> gymnasium.Env[Any, Any]:
    with warnings.catch_warnings(), quiet_c_stdout():
        warnings.simplefilter("ignore")  # "-v4 is out of date" and similar
        env = gymnasium.make(env_id, **kwargs)
        env.reset(seed=0)
    return env


def draw_actions(space: gymnasium.Space[Any], steps: int) -> list[Any]:
    """Uniform actions of ``space`` (a task's: Box in [-1, 1] or Discrete), fixed seed."""
    space.seed(0)
    return [space.sample() for _ in range(steps)]


def sent_to_base(task: gymnasium.Env[Any, Any], actions: list[Any]) -> list[Any]:
    """The actions the task's layers hand its base environment, recorded in one dry run.

    Replaying exactly these on the bare environment keeps both on the same trajectory even where
    the dynamics are chaotic (Humanoid): a rounding difference in the action mapping would send
    them into different contacts and so different solver work.
    """
    inner: Any = task.unwrapped
    if type(inner).__module__.startswith("shimmy"):
        # dmc tasks step the dm_control environment Shimmy wraps (pomdpbench/envs/dmc.py);
        # the bare Shimmy environment hands that same object the same actions.
        inner = inner._env
    original = inner.step
    sent: list[Any] = []

    def recording(action: Any) -> Any:
        sent.append(np.array(action, copy=True))
        return original(action)

    inner.step = recording  # type: ignore[method-assign]
    try:
        task.reset(seed=1)
        run_block(task, actions)
    finally:
        del inner.step
    return sent


def run_block(env: gymnasium.Env[Any, Any], actions: list[Any]) -> float:
    """Seconds ``env`` takes for ``actions``, resetting at episode ends."""
    step, reset = env.step, env.reset
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    return time.perf_counter() - start


def base_of(spec: Any) -> tuple[str, int] | None:
    """The base environment id of a task and how many base steps one task step takes."""
    if "base_id" in spec.kwargs:
        return spec.kwargs["base_id"], 1
    if "domain_task" in spec.kwargs:  # the dmc suite: Shimmy's dm_control id
        return f"dm_control/{spec.kwargs['domain_task']}-v0", int(spec.kwargs.get("frame_skip", 1))
    return None


def paired_rates(
    bare: gymnasium.Env[Any, Any],
    task: gymnasium.Env[Any, Any],
    bare_actions: list[Any],
    task_actions: list[Any],
    block: int,
    repeat: int = 1,
) -> tuple[float, float, float]:
    """Bare and task steps/s over all blocks, and the median of the per-block ratios.

    ``repeat`` base steps make one task step (a frame skip); rates count task steps.
    """
    bare.reset(seed=1)
    task.reset(seed=1)
    bare_total = task_total = 0.0
    ratios = []
    for index, start in enumerate(range(0, len(task_actions), block)):
        stop = start + block
        bare_block = bare_actions[start * repeat : stop * repeat]
        if index % 2:
            task_time = run_block(task, task_actions[start:stop])
            bare_time = run_block(bare, bare_block)
        else:
            bare_time = run_block(bare, bare_block)
            task_time = run_block(task, task_actions[start:stop])
        bare_total += bare_time
        task_total += task_time
        ratios.append(bare_time / task_time)
    steps = len(task_actions)
    return steps / bare_total, steps / task_total, float(np.median(ratios))


def peak_memory_mib(task_id: str, steps: int) -> float:
    """Rise of the peak resident set size of a fresh process that builds and runs the task."""
    done = subprocess.run(
        [sys.executable, __file__, "--memory-probe", task_id, "--steps", str(steps)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_probe(task_id: str, steps: int) -> None:
    """Child side of :func:`peak_memory_mib`: print the peak rise in MiB.

    Imports leave a high-water mark of their own, so the peak is reset first (writing 5 to
    ``/proc/self/clear_refs`` sets VmHWM to the current VmRSS, Linux >= 4.0); what is printed is
    the new peak minus the resident size before the environment was built.
    """
    import_simulators()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _status_kib("VmRSS")
    env = make(task_id)
    for action in draw_actions(env.action_space, steps):
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    print((_status_kib("VmHWM") - before) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", nargs="+", help="only these suites (default: every task)")
    parser.add_argument("--steps", type=int, default=10_000, help="steps per task and side")
    parser.add_argument("--block", type=int, default=250, help="steps per alternating block")
    parser.add_argument("--memory-probe", metavar="TASK", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe, args.steps)
        return
    import_simulators()
    if args.suite:
        tasks = [t for suite in args.suite for t in pomdpbench.list_tasks(suite)]
    else:
        tasks = pomdpbench.list_tasks()
    header = ("task", "bare steps/s", "task steps/s", "task/bare", "us/step", "peak MiB")
    print("{:<26} {:>13} {:>13} {:>10} {:>8} {:>9}".format(*header))
    worst: dict[str, tuple[float, str]] = {}  # per suite: (ratio, task)
    for spec in tasks:
        base = base_of(spec)
        if base is None:
            print(f"{spec.id:<26} {'(no base environment)':>28}")
            continue
        base_id, repeat = base
        task_env = make(spec.id)
        bare_env = make(base_id, max_episode_steps=spec.max_episode_steps * repeat)
        actions = draw_actions(task_env.action_space, args.steps)
        base_actions = sent_to_base(task_env, actions)
        if len(base_actions) != repeat * len(actions):
            raise RuntimeError(f"{spec.id}: {len(base_actions)} base steps for {len(actions)}")
        bare_rate, task_rate, ratio = paired_rates(
            bare_env, task_env, base_actions, actions, args.block, repeat
        )
        task_env.close()
        bare_env.close()
        memory = peak_memory_mib(spec.id, min(args.steps, 2000))
        added_us = 1e6 * (1 / task_rate - 1 / bare_rate)
        print(
            f"{spec.id:<26} {bare_rate:>13,.0f} {task_rate:>13,.0f} {ratio:>10.3f}"
            f" {added_us:>8.1f} {memory:>9.1f}"
        )
        if spec.suite not in worst or ratio < worst[spec.suite][0]:
            worst[spec.suite] = (ratio, spec.id)
    for suite, (ratio, task_id) in worst.items():
        print(f"worst in {suite}: {ratio:.3f} ({task_id})")
    if worst:
        print(f"worst wrapper/bare = {min(worst.values())[0]:.3f}")


if __name__ == "__main__":
    main()
