"""``pomdpbench submissions``: the submissions of a database and their status, one per line.

``submit`` prints the id it gave a bundle and ``verify SUBMISSION`` needs one, but until this
command the only list of them was the leaderboard's Submissions view, a web page. A maintainer
working in a shell sees here which submissions are still *pending* (to verify), which were
*verified* (pooled into the statistics) or *rejected*, and what each holds.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from pomdpbench.cli.common import add_db_option, print_json, print_table

COLUMNS = [
    "id",
    "submitted (UTC)",
    "submitter",
    "agent",
    "version",
    "suite",
    "tier",
    "tasks",
    "runs",
    "complete",
    "status",
]


def add_parser(commands: Any) -> None:
    """Register the ``submissions`` subcommand."""
    from pomdpbench.store.models import SUBMISSION_STATUSES

    parser = commands.add_parser(
        "submissions",
        help="list the submissions in a database with their status",
        description="One line per submission, newest first: id, when and by whom it was "
        "submitted, agent and version, suite, tier, the number of tasks and runs, whether it "
        "is complete, and its status (pending, verified or rejected). --json adds the "
        "reasons of a rejection and when it was verified.",
    )
    parser.add_argument("--status", choices=SUBMISSION_STATUSES, help="only this status")
    add_db_option(parser)
    parser.add_argument(
        "--json", action="store_true", help="print a JSON list, one object per submission"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the submissions (none is a sentence, not an error)."""
    from pomdpbench.store import Store

    store = Store.open(args.db, create=False)
    found = listed(store.engine)
    if args.status:
        found = [s for s in found if s["status"] == args.status]
    if args.json:
        print_json(found)
        return 0
    if not found:
        which = f"{args.status} submissions" if args.status else "submissions"
        print(f"no {which} in {store.url}: `pomdpbench submit BUNDLE.zip` stores one")
        return 0
    rows = [
        [
            s["submission"],
            _when(s["submitted_at"]),
            s["submitter"],
            s["agent"],
            s["agent_version"],
            s["suite"],
            s["tier"],
            s["tasks"],
            s["runs"],
            "yes" if s["complete"] else "no",
            s["status"],
        ]
        for s in found
    ]
    print_table(f"{len(found)} submissions in {store.url}", COLUMNS, rows)
    return 0


def listed(engine: Any) -> list[dict[str, Any]]:
    """Every submission, newest first (``queries.submissions``), with how many tasks it covers."""
    from pomdpbench.store import queries

    frame = queries.submissions(engine)
    runs = queries.submitted_runs(engine)
    tasks = runs.groupby("submission")["task"].nunique().to_dict() if len(runs) else {}
    out = []
    for row in frame.to_dict("records"):
        entry = {key: _plain(value) for key, value in row.items()}
        entry["tasks"] = int(tasks.get(entry["submission"], 0))
        out.append(entry)
    return out


def _plain(value: Any) -> Any:
    """A pandas/numpy cell as the Python value JSON and the table print (NaT/NaN: None)."""
    import pandas as pd

    if not isinstance(value, (str, list, dict)) and pd.isna(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime()
    return value


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "-" if value is None else str(value)
