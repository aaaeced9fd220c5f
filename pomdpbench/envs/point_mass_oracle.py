"""Moved to :mod:`pomdpbench.diagnostics.point_mass_oracle`; kept for its recorded command.

Older stored task specs cite ``python -m pomdpbench.envs.point_mass_oracle`` as the source of
the memory suite's ``target`` scores; that command still measures them.
"""

from __future__ import annotations

from pomdpbench.diagnostics.point_mass_oracle import (
    ORACLES,
    ScriptedOracle,
    action_towards,
    main,
    measure_oracle,
)

__all__ = ["ORACLES", "ScriptedOracle", "action_towards", "main", "measure_oracle"]

if __name__ == "__main__":
    main()
