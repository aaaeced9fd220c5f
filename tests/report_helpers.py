"""The ``pomdpbench report`` command line that the report tests build again and again.

Every report test names a suite, a tier, an output folder, a database and a bootstrap size;
spelled out one argument per line (as the formatter lays them out) the calls hid what each test
varies. ``report_args`` writes the common part once, and a test adds only its own options.
"""

from __future__ import annotations

from pathlib import Path


def report_args(
    url: str, out: Path | str, reps: int | None, *extra: str, suite: str, tier: str | None = "smoke"
) -> tuple[str, ...]:
    """``report --suite SUITE [--tier TIER] --out OUT --db URL [--reps REPS] EXTRA...``.

    ``tier=None`` and ``reps=None`` leave those options out (the command's defaults).
    """
    args = ["report", "--suite", suite]
    if tier is not None:
        args += ["--tier", tier]
    args += ["--out", str(out), "--db", url]
    if reps is not None:
        args += ["--reps", str(reps)]
    return (*args, *extra)
