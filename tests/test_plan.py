"""Planning a sweep: tiers, seeds, configuration layers and run identity."""

from __future__ import annotations

import doctest
import re
import shlex
from dataclasses import replace
from pathlib import Path

import pytest

import pomdpbench
from pomdpbench.agents import config as config_module
from pomdpbench.cli.reference_cmd import measure_random
from pomdpbench.envs import masked
from pomdpbench.errors import ConfigError
from pomdpbench.sweep import SweepRequest, plan


def keys(request: SweepRequest) -> list[str]:
    return [job.run_key for job in plan(request)]


def test_default_seeds_follow_the_tier() -> None:
    base = SweepRequest(agent="random", tasks=("CartPole-V-v0",))
    assert [j.seed for j in plan(base)] == [0]  # smoke by default
    assert [j.seed for j in plan(replace(base, tier="full"))] == [0, 1, 2, 3, 4, 5]
    assert [j.seed for j in plan(replace(base, num_seeds=3))] == [0, 1, 2]
    assert [j.seed for j in plan(replace(base, seeds=(4, 2, 4)))] == [4, 2]
    with pytest.raises(ConfigError):
        plan(replace(base, seeds=(1,), num_seeds=2))


def test_tiers_and_custom_protocols() -> None:
    base = SweepRequest(agent="random", tasks=("Pendulum-V-v0",), seeds=(0,))
    (full,) = plan(replace(base, tier="full"))
    assert (full.tier, full.budget, full.eval_every, full.eval_episodes) == (
        "full",
        50000,
        1000,
        20,
    )
    (short,) = plan(replace(base, tier="short"))
    assert (short.budget, short.eval_every) == (5000, 500)
    (custom,) = plan(replace(base, steps=3000))
    assert (custom.tier, custom.budget, custom.eval_every) == ("custom", 3000, 300)
    (changed,) = plan(replace(base, tier="full", eval_episodes=3))
    # a changed protocol keeps its tier and is recorded as an override, part of its identity
    assert (changed.tier, changed.protocol_override) == ("full", "eval_episodes=3")
    assert changed.run_key != full.run_key and full.protocol_override is None
    (same,) = plan(replace(base, tier="full", eval_every=1000, eval_episodes=20))
    assert same.protocol_override is None and same.run_key == full.run_key


def test_protocol_overrides_keep_the_tier_seeds_and_config_layers() -> None:
    # reproduction 9: --budget full --eval-every N ran smoke's single seed
    jobs = plan(SweepRequest(agent="random", tasks=("Pendulum-V-v0",), tier="full", eval_every=500))
    assert [j.seed for j in jobs] == [0, 1, 2, 3, 4, 5]
    assert {(j.tier, j.eval_every, j.protocol_override) for j in jobs} == {
        ("full", 500, "eval_every=500")
    }
    # --budget smoke --eval-episodes 2 dropped [tier.smoke] (RESeL kept learning_starts = 5000)
    (resel,) = plan(SweepRequest(agent="resel", tasks=("HopperBLT-P-v0",), eval_episodes=2))
    assert resel.tier == "smoke" and resel.config["learning_starts"] == 1500
    assert resel.eval_episodes == 2 and resel.protocol_override == "eval_episodes=2"


@pytest.mark.parametrize("flag", ["eval_every", "eval_episodes"])
@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_protocol_overrides_are_refused(flag: str, value: int) -> None:
    # reproduction 4/5: 0 was silently replaced by the default, -3 was a traceback
    request = SweepRequest(agent="random", tasks=("Pendulum-V-v0",), **{flag: value})
    with pytest.raises(ConfigError, match=f"--{flag.replace('_', '-')} must be a positive"):
        plan(request)


def test_configuration_layers() -> None:
    def config(task: str, tier: str, **overrides: object) -> dict[str, object]:
        request = SweepRequest(agent="sac-mlp", tasks=(task,), tier=tier, seeds=(0,))
        (job,) = plan(replace(request, overrides=overrides))
        return job.config

    assert config("Pendulum-V-v0", "full")["gamma"] == 0.9  # [task."Pendulum-*"]
    assert config("CartPole-V-v0", "full")["gamma"] == 0.99  # suite file top level
    assert config("CartPole-V-v0", "full")["learning_starts"] == 200  # task table
    assert config("CartPole-V-v0", "smoke")["learning_starts"] == 500  # tier table wins
    assert config("CartPole-V-v0", "smoke", learning_starts=7)["learning_starts"] == 7  # --set
    assert config("TMazePassive-30-v0", "full")["initial_alpha"] == 0.1  # diagnostic.toml


def test_run_identity() -> None:
    base = SweepRequest(agent="sac-mlp", tasks=("CartPole-V-v0",), tier="short", seeds=(0, 1))
    first = keys(base)
    assert first == keys(base) and len(set(first)) == 2
    assert keys(replace(base, device="cuda", threads=7, workers=3)) == first
    assert keys(replace(base, overrides={"gamma": 0.95})) != first
    assert keys(replace(base, tier="full")) != first


def test_checkpoint_folders_are_per_run(tmp_path: Path) -> None:
    jobs = plan(SweepRequest(agent="random", suite="diagnostic", checkpoint_root=tmp_path))
    folders = {job.checkpoint_dir for job in jobs}
    assert len(folders) == 3 and all(f.startswith(str(tmp_path)) for f in folders)


@pytest.mark.parametrize("suite", ["sanity", "diagnostic"])
def test_reference_scores_reproduce_from_their_recorded_command(suite: str) -> None:
    seen = set()
    for task in pomdpbench.list_tasks(suite):
        assert {"random", "target"} <= set(task.references), task.id
        random_ref = task.references["random"]
        command = re.search(r"`(pomdpbench reference [^`]+)`", random_ref.source)
        assert command, random_ref.source
        args = shlex.split(command.group(1))
        episodes, seed = (
            int(args[args.index("--episodes") + 1]),
            int(args[args.index("--seed") + 1]),
        )
        family = task.id.rsplit("-", 2)[0]
        if family in seen:  # F/P/V variants share the random policy's return
            continue
        seen.add(family)
        measured = measure_random(task.id, episodes, seed)["mean"]
        assert measured == pytest.approx(random_ref.score, rel=1e-3, abs=1e-3), task.id


@pytest.mark.parametrize("module", [config_module, masked])
def test_docstring_examples(module: object) -> None:
    failures, _ = doctest.testmod(module)  # type: ignore[arg-type]
    assert failures == 0
