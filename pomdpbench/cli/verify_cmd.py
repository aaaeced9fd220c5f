"""``pomdpbench verify``: re-run a seeded sample of a submission's runs here and compare."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from pomdpbench.cli.common import add_db_option, fmt, print_table
from pomdpbench.errors import ConfigError, PomdpbenchError


def add_parser(commands: Any) -> None:
    """Register the ``verify`` subcommand."""
    parser = commands.add_parser(
        "verify",
        help="re-run a sample of a submission's runs and set its status",
        description="Re-run K randomly chosen (seeded) runs of a submission with the "
        "submitted agent and config, compare the curves within the tolerance (docs/"
        "submissions.md) and record the submission as verified or rejected with the evidence.",
    )
    parser.add_argument("submission", type=int, metavar="SUBMISSION", help="submission id")
    parser.add_argument("--runs", type=int, default=3, metavar="K", help="runs to re-run (3)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the choice (0)")
    parser.add_argument(
        "--tolerance",
        type=float,
        metavar="X",
        help="largest deviation allowed, in units of the task's normalized range (default: "
        "0.02 per evaluation point on the submitter's platform, 0.5 on the final score "
        "elsewhere)",
    )
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Re-run, compare, store the status and evidence; exit 1 when rejected."""
    if args.runs < 1:
        raise ConfigError(f"--runs must be at least 1, got {args.runs}")
    if args.tolerance is not None and args.tolerance < 0:
        raise ConfigError(f"--tolerance must be non-negative, got {args.tolerance}")
    if os.getcwd() not in sys.path:  # a `module:Class` agent is found as `pomdpbench run` finds it
        sys.path.append(os.getcwd())
    from pomdpbench.store import Store
    from pomdpbench.store.submissions import set_status, submission
    from pomdpbench.submission.verify import verify

    store = Store.open(args.db, create=False)
    found = submission(store.engine, args.submission)
    if found is None:
        raise PomdpbenchError(
            f"no submission {args.submission} in {store.url}: the leaderboard's Submissions "
            "view and `pomdpbench submissions` list them"
        )
    status, reasons, evidence = verify(found, args.runs, args.seed, args.tolerance)
    set_status(store.engine, store.url, args.submission, status, reasons, evidence)
    rows = [
        [
            c["task"],
            c["seed"],
            c["platform"],
            fmt(c["final_submitted"], 3),
            fmt(c["final_here"], 3),
            fmt(c["max_deviation"], 4),
            fmt(c["final_deviation"], 4),
            c["tolerance"],
            "pass" if c["passed"] else "FAIL",
        ]
        for c in evidence["checks"]
    ]
    columns = [
        "task",
        "seed",
        "platform",
        "final submitted",
        "final here",
        "max deviation",
        "final deviation",
        "tolerance",
        "result",
    ]
    print_table(f"submission {args.submission}: {status}", columns, rows)
    for reason in reasons:
        print(f"  {reason}")
    return 0 if status == "verified" else 1
