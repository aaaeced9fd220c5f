"""Wall time per 1,000 environment steps, updates included, for the agents of both papers.

S2PG's claim (Al-Hafez et al. 2024, Sec. 1 and 5): a stateful policy trained without
backpropagation through time is nearly as cheap as a stateless one and much cheaper than BPTT.
The goal: ``sac-rs`` within 1.3x of ``sac-mlp`` and at most 0.33x of ``sac-bptt-32``.

Every agent trains on the same robust-suite task with a privileged critic (Hopper-Robust-v0),
with its shipped robust-suite configuration (full tier) except the warm-up: a short warm-up of
uniform actions fills the replay, actor updates start at once (S2PG's ``warmup_transitions``
is lifted), and then a window of steps is timed through the harness's own training loop. The
on-policy agents (PPO) are timed over whole rollouts, so their window is one rollout of their
configured length plus its update. ``resel`` has no robust-suite configuration: it runs at its
sanity-suite sizes (labelled so; the paper-size update is ``benchmarks/resel_update.py``'s job).

Agents take turns (round robin) and each keeps its fastest round, so a burst of load elsewhere
does not decide a ratio. Each figure is a ratio to the memoryless agent of the same learner
(sac-mlp, td3-mlp, ppo-mlp; MF-RNN and RESeL to sac-mlp). The last line is
``sac-rs/sac-bptt-32 = R``.

Usage: python benchmarks/training_time.py [--steps 200] [--warmup 300] [--rounds 1]
                                          [--agents sac-mlp sac-rs ...]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch

from pomdpbench.agents import list_agents
from pomdpbench.agents.config import resolve_config
from pomdpbench.agents.registry import get_agent_spec
from pomdpbench.harness.checkpoint import HarnessState
from pomdpbench.harness.job import JobSpec
from pomdpbench.harness.loop import _train, build_run
from pomdpbench.harness.seeding import seed_everything

TASK, SUITE = "Hopper-Robust-v0", "robust"
AGENTS = (
    "sac-mlp",
    "sac-rs",
    "sac-bptt-5",
    "sac-bptt-32",
    "sac-window-32",
    "td3-mlp",
    "td3-rs",
    "td3-bptt-32",
    "ppo-mlp",
    "ppo-rs",
    "ppo-bptt-32",
    "mf-rnn",
    "resel",
)
BASELINE = {
    "sac": "sac-mlp",
    "td3": "td3-mlp",
    "ppo": "ppo-mlp",
    "mf": "sac-mlp",
    "resel": "sac-mlp",
}


def job_for(agent: str, warmup: int, steps: int) -> tuple[JobSpec, int]:
    """The job and the number of steps to time (a whole number of rollouts for PPO)."""
    spec = get_agent_spec(agent)
    suite = "sanity" if agent.startswith("resel") else SUITE
    task = "Pendulum-V-v0" if suite == "sanity" else TASK
    config = resolve_config(spec.config_dir or spec.id, suite, task, "full")
    if "rollout_steps" in config or agent.startswith("ppo"):
        rollout = int(config.get("rollout_steps", 2000))
        steps = rollout * max(1, round(steps / rollout))
    else:
        config.update(learning_starts=warmup, buffer_size=warmup + steps)
        if agent.startswith(("sac", "mf-rnn", "oracle")) and "resel" not in agent:
            config["actor_warmup"] = 0
    job = JobSpec(
        agent=agent,
        agent_version=spec.version,
        agent_entry_point=spec.entry_point,
        task=TASK,
        suite=SUITE,
        tier="custom",
        seed=0,
        budget=warmup + steps,
        eval_every=10**9,
        eval_episodes=1,
        config=config,
        known_eval_steps=(0,),
    )
    return job, steps


def seconds_per_1000(agent: str, warmup: int, steps: int) -> float:
    """Wall time per 1,000 steps of the timed window, after an untimed warm-up."""
    job, timed = job_for(agent, warmup, steps)
    run = build_run(job)
    state = HarnessState()
    seed_everything(0)
    sink = lambda event: None  # noqa: E731
    _train(replace(job, budget=warmup), True, *run, state, sink, None, time.perf_counter())
    start = time.perf_counter()
    _train(job, True, *run, state, sink, None, time.perf_counter())
    return (time.perf_counter() - start) / timed * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed steps per agent")
    parser.add_argument("--warmup", type=int, default=300, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--agents", nargs="+", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    known = {spec.id for spec in list_agents()}
    agents = [a for a in (args.agents or AGENTS) if a in known]
    missing = [a for a in (args.agents or AGENTS) if a not in known]
    if missing:
        print(f"not registered here, skipped: {', '.join(missing)}")
    best: dict[str, float] = {}
    for round_index in range(args.rounds):
        for agent in agents:
            seconds = seconds_per_1000(agent, args.warmup, args.steps)
            best[agent] = min(best.get(agent, float("inf")), seconds)
            print(f"round {round_index + 1}: {agent:<14} {seconds:8.2f} s / 1000 steps", flush=True)
    print(f"\n{TASK}, {args.threads} torch thread(s), best of {args.rounds} rounds")
    print(f"{'agent':<16}{'s / 1000 steps':>16}   ratio to its memoryless learner")
    for agent in agents:
        base = BASELINE[agent.split("-")[0]]
        label = f"{agent} (sanity sizes)" if agent == "resel" else agent
        ratio = f"{best[agent] / best[base]:.2f} x {base}" if base in best else "-"
        print(f"{label:<16}{best[agent]:>16.2f}   {ratio}")
    if "sac-rs" in best and "sac-bptt-32" in best:
        print(f"sac-rs/sac-bptt-32 = {best['sac-rs'] / best['sac-bptt-32']:.2f}")


if __name__ == "__main__":
    main()
