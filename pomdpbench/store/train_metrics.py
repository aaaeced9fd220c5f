"""Read the training metrics the evaluations stored, as a long pandas table.

At every evaluation the harness stores the agent's latest training metrics (the dict its last
reporting ``update`` returned: losses, gradient norms, temperature...) in
``evaluations.train_metrics``. The training-stability plots (RESeL Figs. 4-5, gradient norm
and value loss over training) are functions of the frame returned here
(:mod:`pomdpbench.stats.stability`). The query filters by task, so the leaderboard's per-task
view reads one task's blobs only, not a whole suite's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Engine, select

from pomdpbench.record.vocabulary import RunStatus
from pomdpbench.store.models import Evaluation, Run
from pomdpbench.store.queries import SUITE_PROTOCOL
from pomdpbench.store.submissions import POOLED

COLUMNS = ["run_id", "env_step", "metric", "value"]


def suite_train_metrics(
    engine: Engine, suite: str, tier: str, tasks: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per (finished run, evaluation step, metric) of ``suite`` in ``tier``.

    Columns: run_id, env_step, metric, value. Evaluations before the agent's first report
    (warm-up) have no rows. Values that are not numbers (an outside agent's strings) are left
    out; NaN and infinite values are kept (a diverged loss is what these plots are for): the
    store writes them as JSON null (:func:`pomdpbench.store.database.strict_json`), so a null
    comes back as NaN.

    Args:
        engine: the store.
        suite: the suite id.
        tier: the budget tier.
        tasks: only these tasks (default: every task of the suite).
    """
    query = (
        select(Evaluation.run_id, Evaluation.env_step, Evaluation.train_metrics)
        .join(Run, Run.id == Evaluation.run_id)
        .where(Run.suite == suite, Run.tier == tier, Run.status == RunStatus.FINISHED)
        .where(SUITE_PROTOCOL, POOLED)
        .order_by(Evaluation.run_id, Evaluation.env_step)
    )
    if tasks is not None:
        query = query.where(Run.task.in_(list(tasks)))
    rows: list[tuple[int, int, str, float]] = []
    with engine.connect() as connection:
        for run_id, env_step, metrics in connection.execute(query):
            for name, value in (metrics or {}).items():
                number = as_number(value)
                if number is not None:
                    rows.append((int(run_id), int(env_step), str(name), number))
    return pd.DataFrame(rows, columns=COLUMNS)


def as_number(value: object) -> float | None:
    """``value`` as a float (NaN and infinities included), or None if it is not a number.

    None is NaN: the metric was reported, with a value that was not finite (stored as null).
    """
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
