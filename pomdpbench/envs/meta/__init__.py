"""Meta-RL tasks of varibad / pomdp-baselines / RESeL: AntDir, CheetahDir, HalfCheetahVel, Wind.

``trial`` turns an MDP with a hidden task into a k-episode trial (varibad's ``VariBadWrapper``),
``locomotion`` and ``wind`` hold the MDPs, ``tasks`` the task sets, splits and entry points.
"""

from pomdpbench.envs.meta.tasks import ant_dir, cheetah_dir, cheetah_vel, wind
from pomdpbench.envs.meta.trial import MetaTrialEnv

__all__ = ["MetaTrialEnv", "ant_dir", "cheetah_dir", "cheetah_vel", "wind"]
