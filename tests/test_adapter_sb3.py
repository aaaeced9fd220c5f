"""The Stable-Baselines3 adapter: contract, checkpoint round trip, registry, a user's subclass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
pytest.importorskip("sb3_contrib", reason="needs the [sb3] extra: pip install -e '.[sb3]'")

from pomdpbench.adapters.sb3 import SB3Agent  # noqa: E402
from pomdpbench.agents.protocol import AgentContext, AgentInput, Transition  # noqa: E402
from pomdpbench.agents.registry import build_agent, get_agent_spec  # noqa: E402
from pomdpbench.errors import ConfigError  # noqa: E402
from pomdpbench.harness.actions import ActionEncoder  # noqa: E402
from pomdpbench.harness.stepper import Stepper  # noqa: E402
from pomdpbench.registry import get_task, make_env  # noqa: E402

TINY = {
    "PPO": {"n_steps": 16, "batch_size": 8, "n_epochs": 1, "policy_kwargs": {"net_arch": [8]}},
    "RecurrentPPO": {
        "n_steps": 16,
        "batch_size": 8,
        "n_epochs": 1,
        "policy_kwargs": {"net_arch": [8], "lstm_hidden_size": 8},
    },
    "SAC": {
        "learning_starts": 10,
        "batch_size": 8,
        "buffer_size": 100,
        "policy_kwargs": {"net_arch": [8]},
    },
}
TASKS = {"PPO": "CartPole-V-v0", "RecurrentPPO": "CartPole-V-v0", "SAC": "Pendulum-F-v0"}


def build(name: str, seed: int = 0, **config: Any) -> tuple[Any, gymnasium.Env[Any, Any]]:
    task = get_task(TASKS[name])
    env = make_env(task.id)
    ctx = AgentContext(
        task=task,
        observation_space=env.observation_space,
        action_space=env.action_space,
        privileged_size=None,
        seed=seed,
        budget=1000,
        tier="custom",
        config={**TINY[name], **config},
    )
    return build_agent(get_agent_spec(f"sb3:{name}"), ctx), env


def drive(agent: Any, env: gymnasium.Env[Any, Any], steps: int, seed: int = 0) -> list[Any]:
    """``steps`` training steps through the harness's own stepper; the actions taken."""
    stepper = Stepper(agent, env, training=True)
    stepper.reset(seed)
    actions = []
    for _ in range(steps):
        stepper.run(1)
        actions.append(stepper.action)
    return actions


def evaluate(agent: Any, env: gymnasium.Env[Any, Any], steps: int) -> tuple[list[Any], Any]:
    """Up to ``steps`` evaluation steps of one episode; the actions and the recurrent state."""
    stepper = Stepper(agent, env, training=False, deterministic=True)
    stepper.reset(123)
    actions = []
    while len(actions) < steps and stepper.run(1, stop_at_episode_end=True):
        actions.append(stepper.action)
        if stepper.episodes:
            break
    return actions, stepper.state


@pytest.mark.parametrize("name", ["PPO", "RecurrentPPO", "SAC"])
def test_checkpoint_round_trip_gives_the_same_next_actions(name: str, tmp_path: Path) -> None:
    agent, env = build(name)
    drive(agent, env, 40)  # past two on-policy rollouts / the off-policy warm-up
    assert agent.model._n_updates > 0, "the tiny run should have trained"
    agent.save(tmp_path)
    clone, clone_env = build(name, seed=7)  # another seed: everything must come from the files
    clone.load(tmp_path)
    assert clone.model.num_timesteps == agent.model.num_timesteps == 40
    # The harness restores the global generators with a checkpoint (harness/seeding.py).
    torch.manual_seed(5), np.random.seed(5)
    ahead = drive(agent, env, 30, seed=3)
    torch.manual_seed(5), np.random.seed(5)
    again = drive(clone, clone_env, 30, seed=3)
    np.testing.assert_allclose(np.array(ahead, dtype=float), np.array(again, dtype=float))
    assert clone.model._n_updates == agent.model._n_updates


@pytest.mark.parametrize("name", ["PPO", "RecurrentPPO", "SAC"])
def test_evaluation_acts_leave_training_untouched(name: str) -> None:
    agent, env = build(name)
    drive(agent, env, 20)
    steps, buffer_pos = agent.model.num_timesteps, _buffer_pos(agent)
    pending = dict(agent._pending)
    evaluate(agent, make_env(TASKS[name]), 30)
    assert agent.model.num_timesteps == steps and _buffer_pos(agent) == buffer_pos
    assert agent._pending.keys() == pending.keys()


def test_recurrent_state_is_carried_through_evaluation() -> None:
    agent, _ = build("RecurrentPPO")
    env = make_env("CartPole-V-v0")
    _, state = evaluate(agent, env, 5)
    hidden = np.asarray(state[0])
    assert hidden.shape == (1, 1, 8) and np.abs(hidden).sum() > 0
    encoder = ActionEncoder(env.action_space)
    obs = env.observation_space.sample()
    carried = agent.act(AgentInput(obs, encoder.zero, 0.0, False, None, False), state, True)[1]
    reset = agent.act(AgentInput(obs, encoder.zero, 0.0, True, None, False), state, True)[1]
    assert not np.allclose(np.asarray(carried[0]), np.asarray(reset[0]))  # the episode start resets


def test_truncation_bootstraps_and_termination_does_not() -> None:
    agent, env = build("PPO", n_steps=64)
    obs, _ = env.reset(seed=0)
    encoder = ActionEncoder(env.action_space)
    rewards = []
    for terminated, truncated in [(False, True), (True, False), (True, True)]:
        inp = AgentInput(obs, encoder.zero, 0.0, True, None, True)
        action, _ = agent.act(inp, None, False)
        agent.observe(Transition(obs, action, 1.0, obs, terminated, truncated, True, None, None))
        rewards.append(
            float(agent.model.rollout_buffer.rewards[agent.model.rollout_buffer.pos - 1, 0])
        )
    value = agent._value(obs[None], None, False)
    assert rewards[0] == pytest.approx(1.0 + agent.model.gamma * value, rel=1e-5)
    assert rewards[1:] == [1.0, 1.0]


def test_hyperparameters_pass_through_and_unknown_ones_are_refused() -> None:
    agent, _ = build("SAC", gamma=0.9, tau=0.01)
    assert agent.model.gamma == 0.9 and agent.model.tau == 0.01
    with pytest.raises(ConfigError, match="unknown hyperparameter.*n_stepz.*valid:.*learning_rate"):
        build("PPO", n_stepz=3)


def test_registry_resolves_any_algorithm_by_name() -> None:
    spec = get_agent_spec("sb3:TQC")
    assert spec.entry_point == "pomdpbench.adapters.sb3:TQC"
    assert "stable-baselines3-" in spec.version and "sb3-contrib-" in spec.version
    from pomdpbench.adapters import sb3

    assert sb3.TQC.algorithm.__name__ == "TQC" and sb3.DQN.algorithm.__module__.startswith(
        "stable_baselines3"
    )
    with pytest.raises(ConfigError, match="no SB3 algorithm named 'NoSuchAlgo'; known: .*A2C"):
        sb3.NoSuchAlgo  # noqa: B018


def documented_user_module() -> str:
    """The module docs/agents.md shows for a user's own RecurrentPPO subclass."""
    docs = (Path(__file__).parent.parent / "docs" / "agents.md").read_text()
    block = docs.split("<!-- sb3-user-module -->", 1)[1].split("```python\n", 1)[1]
    return block.split("```", 1)[0]


def test_the_documented_user_module_runs_end_to_end(cli: Any, workdir: Path, db_url: str) -> None:
    module = documented_user_module()
    assert len(module.strip().splitlines()) <= 15, "the issue promises at most 15 lines"
    (workdir / "my_sb3_agent.py").write_text(module)  # a name no other test imports
    result = cli(
        "run",
        "--agent",
        "my_sb3_agent:MyAgent",
        "--task",
        "CartPole-V-v0",
        "--steps",
        "40",
        "--eval-every",
        "20",
        "--eval-episodes",
        "1",
        "--set",
        "n_steps=16",
        "--set",
        "batch_size=8",
        "--db",
        db_url,
    )
    assert result.status == 0, result.err
    (run,) = json.loads(cli("results", "--db", db_url, "--json").out)
    assert run["status"] == "finished" and run["agent_version"] == "1.0", run


def test_missing_algorithm_argument_is_a_config_error() -> None:
    class Empty(SB3Agent):
        pass

    task = get_task("CartPole-V-v0")
    env = make_env(task.id)
    ctx = AgentContext(task, env.observation_space, env.action_space, None, 0, 10, "custom")
    with pytest.raises(ConfigError, match="must set `algorithm`"):
        Empty(ctx)


def _buffer_pos(agent: Any) -> int:
    buffer = agent.model.replay_buffer if agent.off_policy else agent.model.rollout_buffer
    return int(buffer.pos)


def test_run_sb3_recurrent_ppo_needs_no_user_code(cli: Any, db_url: str) -> None:
    result = cli(
        "run",
        "--agent",
        "sb3:RecurrentPPO",
        "--task",
        "CartPole-V-v0",
        "--steps",
        "64",
        "--eval-every",
        "32",
        "--eval-episodes",
        "1",
        "--set",
        "n_steps=32",
        "--set",
        "batch_size=16",
        "--set",
        "n_epochs=1",
        "--db",
        db_url,
    )
    assert result.status == 0, result.err
    (run,) = json.loads(cli("results", "--db", db_url, "--json").out)
    assert run["status"] == "finished" and run["agent"] == "sb3:RecurrentPPO"
    assert run["agent_version"].endswith("+adapter-1")


def test_unknown_algorithm_and_hyperparameter_are_one_line_errors(cli: Any, db_url: str) -> None:
    result = cli(
        "run", "--agent", "sb3:Nope", "--task", "CartPole-V-v0", "--steps", "5", "--db", db_url
    )
    assert result.status != 0 and "no SB3 algorithm named 'Nope'" in result.err
    assert "Traceback" not in result.err


def test_an_interrupted_sb3_run_resumes_to_its_budget(tmp_path: Path) -> None:
    from dataclasses import replace

    from pomdpbench.harness.loop import run_job
    from pomdpbench.record import events as ev
    from pomdpbench.record.job import JobSpec

    job = JobSpec(
        agent="sb3:SAC",
        agent_version="t",
        agent_entry_point="pomdpbench.adapters.sb3:SAC",
        task="Pendulum-F-v0",
        suite="sanity",
        tier="custom",
        seed=0,
        budget=60,
        eval_every=30,
        eval_episodes=1,
        config=TINY["SAC"],
        checkpoint_dir=str(tmp_path / "c"),
        checkpoint_every_s=0.0,
    )
    events: list[ev.Event] = []
    calls = {"n": 0}
    original = SB3Agent.update

    def update(self: SB3Agent) -> dict[str, float]:
        calls["n"] += 1
        if calls["n"] == 45:
            raise KeyboardInterrupt
        return original(self)

    SB3Agent.update = update  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            run_job(job, events.append)
    finally:
        SB3Agent.update = original  # type: ignore[method-assign]
    assert any(isinstance(e, ev.Checkpointed) for e in events)
    resumed: list[ev.Event] = []
    run_job(replace(job, resume=True, known_eval_steps=(0, 30)), resumed.append)
    assert isinstance(resumed[-1], ev.Finished) and resumed[-1].env_steps == 60, resumed[-1]


def test_without_the_extra_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from pomdpbench.adapters import sb3, sb3_library

    original = sb3_library.importlib.import_module

    def missing(name: str, *args: Any) -> Any:
        if name in ("stable_baselines3", "sb3_contrib"):
            raise ImportError(name)
        return original(name, *args)

    monkeypatch.setattr(sb3_library.importlib, "import_module", missing)
    with pytest.raises(
        ConfigError,
        match=r"needs stable-baselines3: install the extra: pip install 'pomdpbench\[sb3\]'",
    ):
        sb3.algorithm_class("RecurrentPPO")


def test_the_sweep_refuses_an_unknown_hyperparameter_before_any_run(cli: Any, db_url: str) -> None:
    result = cli(
        "run",
        "--agent",
        "sb3:PPO",
        "--task",
        "CartPole-V-v0",
        "--steps",
        "5",
        "--set",
        "n_stepz=3",
        "--db",
        db_url,
    )
    assert result.status == 2 and "unknown hyperparameter(s) n_stepz" in result.err
    assert "valid:" in result.err and "n_steps" in result.err and "start " not in result.err


@pytest.mark.parametrize(("name", "value_loss"), [("PPO", "value_loss"), ("SAC", "critic_loss")])
def test_the_librarys_training_statistics_are_the_metrics(name: str, value_loss: str) -> None:
    """SB3's own train/* statistics reach the stability plots under the shipped agents' names."""
    agent, env = build(name)
    reported: list[dict[str, float]] = []
    update = agent.update
    agent.update = lambda: reported.append(update()) or reported[-1]
    drive(agent, env, 40)
    last = [m for m in reported if m][-1]
    assert np.isfinite(last[value_loss]) and last[value_loss] >= 0.0
    assert last["updates"] == agent.model._n_updates
    assert last[value_loss] == agent.model.logger.name_to_value[f"train/{value_loss}"]


def test_an_action_space_the_algorithm_lacks_is_refused_before_any_run(
    cli: Any, db_url: str
) -> None:
    """SB3 asserts the action space only when it builds the model: the plan refuses it first."""
    sac = cli(
        "run", "--agent", "sb3:SAC", "--task", "TMazePassive-10-v0", "--steps", "50", "--db", db_url
    )
    assert sac.status == 2 and len(sac.err.strip().splitlines()) == 1, sac.err
    assert "SAC acts only in Box action spaces" in sac.err and "Traceback" not in sac.err
    dqn = cli(
        "run", "--agent", "sb3:DQN", "--task", "Pendulum-V-v0", "--steps", "50", "--db", db_url
    )
    assert dqn.status == 2 and "DQN acts only in Discrete action spaces" in dqn.err
    for algorithm, task in (("RecurrentPPO", "TMazePassive-10-v0"), ("RecurrentPPO", "Wind-v0")):
        assert sb3_agent_class(algorithm).check_task(get_task(task)) is None


def sb3_agent_class(name: str) -> type[SB3Agent]:
    import pomdpbench.adapters.sb3 as adapter

    return getattr(adapter, name)
