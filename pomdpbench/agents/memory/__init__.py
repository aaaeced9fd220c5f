"""Memory parts: what a learner (SAC, TD3, PPO) remembers between steps, kept apart from it.

Each mechanism of the papers' baseline family is a small, separately tested piece:

* :mod:`~pomdpbench.agents.memory.window` — ``window-L``: the last L observations, zero-filled
  at an episode start (S2PG's window baselines);
* :mod:`~pomdpbench.agents.memory.tanh_gaussian` — the joint tanh-squashed Gaussian over
  (action, next internal state) of S2PG's ``rs`` policies, log-probabilities per part;
* :mod:`~pomdpbench.agents.memory.sequence_replay` — the replay of S2PG's
  ``SequenceReplayMemory`` (BPTT sequences, padding at episode starts) and the stored
  internal states that ``rs`` refreshes after actor updates (``new_state_update_tau``);
* :mod:`~pomdpbench.agents.memory.gru` — GRU encoders (BPTT actors, the ``rs`` cell, MF-RNN);
* :mod:`~pomdpbench.agents.memory.parts` — the parts an off-policy learner takes: ``mlp``,
  ``window``, ``bptt``, ``rs`` and ``gru-seq``.
"""
