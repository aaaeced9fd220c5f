"""PPO with a memory part: ``ppo-mlp``, ``ppo-window-L``, ``ppo-bptt-L``, ``ppo-rs``, ``ppo-gru``.

* :mod:`~pomdpbench.agents.ppo.learner` — the learner (config, acting, collecting, checkpoints);
* :mod:`~pomdpbench.agents.ppo.update` — its update: targets, GAE, the clipped-PPO epochs;
* :mod:`~pomdpbench.agents.ppo.loss` — the clipped surrogate and the value error;
* :mod:`~pomdpbench.agents.ppo.zoo` — the seven agents and their sources' defaults;
* :mod:`~pomdpbench.agents.ppo.models` — the actor-critic network of each memory;
* :mod:`~pomdpbench.agents.ppo.rollout` — the rollout, GAE and the sequences cut from it.
"""
