"""The task registry: every shipped task conforms to its declared spec; registration rules.

:func:`test_task_conforms_to_the_registry_contract` is the one conformance test of every task of
every shipped suite file (Gymnasium's ``check_env`` idea, at the strictness the suites need):
the suite-specific test files check what is particular to their tasks, not this contract again.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import pomdpbench
from pomdpbench.errors import ConfigError, UnknownIdError
from pomdpbench.paths import tasks_dir
from pomdpbench.record.vocabulary import PROTOCOL_TIERS, Tier
from pomdpbench.registry import TaskSpec, TierProtocol, load_suite_file, register_task
from pomdpbench.registry.specs import split_version

# The shipped suite files (other tests register probe tasks of their own at import time).
ALL_TASKS = [
    task.id for path in sorted(tasks_dir().glob("*.toml")) for task in load_suite_file(path)[1]
]
NOT_REIMPLEMENTED = {"sanity"}
"""Suites of Gymnasium's own environments under pomdp-baselines' masks: nothing re-implemented,
so no deviation to state (LunarLander's own is checked in tests/test_masks.py)."""


def make(task_id: str, **kwargs: object) -> gymnasium.Env:
    with warnings.catch_warnings():  # PyBullet and MuJoCo announce themselves
        warnings.simplefilter("ignore")
        return gymnasium.make(task_id, **kwargs)


def _space_string(space: gymnasium.Space) -> str:
    if isinstance(space, gymnasium.spaces.Discrete):
        return f"Discrete({space.n})"
    assert isinstance(space, gymnasium.spaces.Box)
    return f"Box({int(np.prod(space.shape))})"


def check_spaces_and_horizon(spec: TaskSpec, env: gymnasium.Env) -> None:
    """The declared sizes, a unit action box, the horizon; the first observation is in space."""
    assert env.observation_space.shape == (spec.observation_size,)
    assert _space_string(env.action_space) == spec.action_space
    assert env.spec is not None and env.spec.max_episode_steps == spec.max_episode_steps
    if isinstance(env.action_space, gymnasium.spaces.Box):
        assert np.all(env.action_space.low == -1.0) and np.all(env.action_space.high == 1.0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (spec.observation_size,)
    assert env.observation_space.contains(obs)


def check_privileged_state(spec: TaskSpec, env: gymnasium.Env) -> None:
    """``info["state"]`` exactly when the spec declares one, the same size at reset and step."""
    _, info = env.reset(seed=0)
    assert ("state" in info) == (spec.privileged is not None)
    if spec.privileged is None:
        return
    size = info["state"].shape
    _, _, _, _, step_info = env.step(env.action_space.sample())
    assert step_info["state"].shape == size
    if "privileged_size" in spec.metadata:
        assert size == (spec.metadata["privileged_size"],)


def check_evaluation_env(spec: TaskSpec, env: gymnasium.Env) -> None:
    """The evaluation environment (held-out tasks) builds with the same observation size."""
    eval_env = make(spec.id, **spec.eval_kwargs)
    try:
        assert eval_env.reset(seed=0)[0].shape == env.reset(seed=0)[0].shape
    finally:
        eval_env.close()


def check_protocol_references_and_sources(spec: TaskSpec) -> None:
    """Every protocol tier, a metric, sources, the two reference scores and the version."""
    assert set(PROTOCOL_TIERS) <= set(spec.tiers)
    full, short, smoke = (spec.protocol(tier) for tier in PROTOCOL_TIERS)
    assert smoke.budget <= full.budget and short.budget <= full.budget
    assert spec.metric in ("return", "success")
    assert spec.source or pomdpbench.get_suite(spec.suite).source
    assert spec.id.endswith(f"-v{spec.version}")
    assert {"random", "target"} <= set(spec.references)
    assert spec.references["target"].score > spec.references["random"].score
    assert "pomdpbench reference" in spec.references["random"].source
    assert all(np.isfinite(ref.score) and ref.source for ref in spec.references.values())
    if spec.suite not in NOT_REIMPLEMENTED:
        assert spec.deviations, "every re-implementation states how it differs"


def check_seeding(task_id: str) -> None:
    """The same seed replays the episode (observations, rewards, privileged state); another
    seed gives another one."""

    def trace(seed: int) -> np.ndarray:
        env = make(task_id)
        env.action_space.seed(3)
        obs, info = env.reset(seed=seed)
        seen = [obs, info.get("state", np.zeros(0))]
        for _ in range(60):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            seen += [obs, np.array([reward]), info.get("state", np.zeros(0))]
            if terminated or truncated:
                seen.append(env.reset()[0])
        env.close()
        return np.concatenate([np.ravel(x).astype(np.float64) for x in seen])

    first = trace(123)
    np.testing.assert_array_equal(first, trace(123))
    other = trace(124)
    assert first.shape != other.shape or not np.array_equal(first, other), "seed has no effect"


@pytest.mark.filterwarnings("ignore::UserWarning:gymnasium.utils.env_checker")
@pytest.mark.parametrize("task_id", ALL_TASKS)
def test_task_conforms_to_the_registry_contract(task_id: str) -> None:
    spec = pomdpbench.get_task(task_id)
    check_protocol_references_and_sources(spec)
    env = make(task_id)
    try:
        check_spaces_and_horizon(spec, env)
        check_privileged_state(spec, env)
        check_evaluation_env(spec, env)
        check_env(env, skip_render_check=True)
    finally:
        env.close()
    check_seeding(task_id)


def test_suites_list_their_tasks() -> None:
    suites = {suite.id: suite for suite in pomdpbench.list_suites()}
    assert {"sanity", "diagnostic"} <= set(suites)
    assert set(suites["sanity"].tasks) == {
        f"{name}-{kind}-v0"
        for name in ("Pendulum", "CartPole", "LunarLander")
        for kind in ("F", "P", "V")
    }
    assert len(suites["sanity"].seeds[Tier.FULL]) == 6


def test_import_registers_tasks_in_a_fresh_interpreter() -> None:
    code = (
        "import gymnasium, pomdpbench; env = gymnasium.make('CartPole-V-v0'); "
        "print(env.observation_space.shape)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "(2,)"


def _spec(task_id: str) -> TaskSpec:
    tier = TierProtocol(budget=100, eval_every=50, eval_episodes=1)
    return TaskSpec(
        id=task_id,
        suite="tests",
        entry_point="pomdpbench.envs.tmaze:PassiveTMaze",
        max_episode_steps=4,
        metric="success",
        observation_size=2,
        action_space="Discrete(4)",
        tiers={"full": tier, "short": tier, "smoke": tier},
        simulator="numpy",
        simulator_package="pomdpbench",
        kwargs={"corridor_length": 3},
    )


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ConfigError, match="already registered"):
        register_task(_spec("TMazePassive-10-v0"))


def test_register_task_makes_it_available_to_gymnasium() -> None:
    register_task(_spec("TestOnlyTMaze-3-v0"))
    env = gymnasium.make("TestOnlyTMaze-3-v0")
    assert env.spec is not None and env.spec.max_episode_steps == 4
    assert pomdpbench.get_task("TestOnlyTMaze-3-v0").version == 0


def test_unknown_task_suggests_close_ids() -> None:
    with pytest.raises(UnknownIdError, match="did you mean 'Pendulum-V-v0'"):
        pomdpbench.get_task("Pendulum-V-v1")


def test_split_version() -> None:
    assert split_version("LunarLander-P-v0") == ("LunarLander-P", 0)
    assert split_version("TMazePassive-100-v12") == ("TMazePassive-100", 12)
    with pytest.raises(ValueError, match="-v<N>"):
        split_version("NoVersion")


SUITE_HEAD = """
[suite]
id = "tiny"
metric = "success"
[defaults]
entry_point = "pomdpbench.envs.tmaze:PassiveTMaze"
simulator = "numpy"
simulator_package = "pomdpbench"
observation_size = 2
action_space = "Discrete(4)"
eval_episodes = 5
smoke = { budget = 10, eval_every = 5, eval_episodes = 1 }
"""


def test_loader_derives_short_tier_and_reads_references(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        SUITE_HEAD
        + """
[[task]]
id = "Tiny-v0"
kwargs = { corridor_length = 2 }
max_episode_steps = 3
budget = 1000
eval_every = 200
references.random = { score = 0.1, source = "measured" }
references.target = { score = 1.0, source = "optimum" }
"""
    )
    suite, (task,) = load_suite_file(path)
    assert suite.tasks == ("Tiny-v0",)
    assert task.protocol("short") == TierProtocol(budget=100, eval_every=10, eval_episodes=5)
    assert task.protocol("smoke") == TierProtocol(budget=10, eval_every=5, eval_episodes=1)
    assert task.normalize(0.55) == pytest.approx(0.5)


def test_task_tables_merge_with_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "merge.toml"
    path.write_text(
        SUITE_HEAD.replace(
            "[defaults]", "[defaults]\nreferences.target = { score = 1.0, source = 'opt' }"
        )
        + """
[[task]]
id = "Merged-v0"
kwargs = { corridor_length = 2 }
max_episode_steps = 3
budget = 100
eval_every = 10
references.random = { score = 0.0, source = "measured" }
smoke = { budget = 20 }
"""
    )
    _, (task,) = load_suite_file(path)
    assert set(task.references) == {"random", "target"}
    assert task.protocol("smoke") == TierProtocol(budget=20, eval_every=5, eval_episodes=1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[task]]\nid = "T-v0"\nmax_episode_steps = 3\nbudget = 10\neval_every = 5\ncolour = 1',
            "unknown key",
        ),
        (
            '[[task]]\nid = "T-v0"\nmax_episode_steps = 3\neval_every = 5',
            "missing required key 'budget'",
        ),
        ("[[task]\nid = 1", "malformed TOML"),
    ],
)
def test_loader_rejects_malformed_suite_files(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SUITE_HEAD + body)
    with pytest.raises(ConfigError, match=message):
        load_suite_file(path)
