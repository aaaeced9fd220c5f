"""RESeL (Luo et al., NeurIPS 2024): the agent, its networks, encoders and trajectory buffer.

Import :mod:`pomdpbench.agents.resel.agent` for the agent classes; this package file stays
empty so that listing agents does not import torch.
"""
