"""Key-to-Door: a credit-assignment task, written fresh on numpy (pycolab needs Python < 3.10).

``maps`` holds the original's maps, colours and constants, ``game`` its rules frame by frame,
``env`` the Gymnasium environment registered as ``KeyToDoor-<N>-v0``.
"""

from pomdpbench.envs.key_to_door.env import KeyToDoorEnv

__all__ = ["KeyToDoorEnv"]
