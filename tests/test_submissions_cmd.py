"""``pomdpbench submissions`` lists a database's submissions with their status, one per line.

Two real bundles of the same four runs (``random`` on two sanity tasks, two seeds, 300 steps,
tier ``custom``), exported under two submitters, are submitted to one database: the first is
rejected (as ``verify`` would record it), which lets the second in; then the second is verified.
The listing must follow each status change and count tasks (2) apart from runs (4).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bundle_helpers import quiet

from pomdpbench.store.database import open_engine
from pomdpbench.store.submissions import set_status

TASKS = ("CartPole-V-v0", "Pendulum-V-v0")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two exports of the same four runs, by submitters Ada and Grace."""
    folder = tmp_path_factory.mktemp("bundles")
    url = f"sqlite:///{folder / 'source.db'}"
    common = ("--steps", "300", "--seeds", "0", "1", "--db", url)
    assert quiet("run", "--agent", "random", "--task", *TASKS, *common) == 0
    made = {}
    for who in ("Ada", "Grace"):
        made[who] = folder / f"{who}.zip"
        export = ("--agent", "random", "--suite", "sanity", "--tier", "custom", "--db", url)
        assert quiet("export", *export, "--out", str(made[who]), "--submitter", who) == 0
    return made


def lines_of(out: str, submitter: str) -> list[str]:
    return [line for line in out.splitlines() if f" {submitter} " in line]


def test_no_submissions_is_a_sentence_and_no_database_one_line(cli: Any, workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'board.db'}"
    open_engine(url).dispose()
    result = cli("submissions", "--db", url)
    assert result.status == 0 and result.out.startswith("no submissions in "), result.err
    assert "pomdpbench submit" in result.out
    assert json.loads(cli("submissions", "--db", url, "--json").out) == []
    missing = cli("submissions", "--db", f"sqlite:///{workdir / 'absent.db'}")
    assert missing.status == 2 and missing.err.startswith("error: no results database")
    assert len(missing.err.strip().splitlines()) == 1


def test_submissions_are_listed_with_their_status(
    cli: Any, workdir: Path, bundles: dict[str, Path]
) -> None:
    url = f"sqlite:///{workdir / 'board.db'}"
    assert cli("submit", str(bundles["Ada"]), "--db", url).status == 0
    listed = cli("submissions", "--db", url)
    assert listed.status == 0, listed.err
    (ada,) = lines_of(listed.out, "Ada")
    cells = [cell.strip() for cell in ada.strip(" │|").split("│")]
    assert cells[0] == "1" and cells[3:] == [
        "random",
        "1",
        "sanity",
        "custom",
        "2",
        "4",
        "no",
        "pending",
    ], cells

    engine = open_engine(url)
    set_status(engine, url, 1, "rejected", ["forged curve"], {"checks": []})
    assert cli("submit", str(bundles["Grace"]), "--db", url).status == 0  # runs free again
    set_status(engine, url, 2, "verified", [], {"checks": []})
    listed = cli("submissions", "--db", url)
    assert lines_of(listed.out, "Ada")[0].rstrip(" │|").endswith("rejected")
    (grace,) = lines_of(listed.out, "Grace")
    assert grace.rstrip(" │|").endswith("verified") and grace.strip(" │|").startswith("2 ")
    assert listed.out.index(" Grace ") < listed.out.index(" Ada ")  # newest first

    as_json = json.loads(cli("submissions", "--db", url, "--json").out)
    assert [(s["submission"], s["status"], s["tasks"], s["runs"]) for s in as_json] == [
        (2, "verified", 2, 4),
        (1, "rejected", 2, 4),
    ]
    assert as_json[1]["reasons"] == "forged curve" and as_json[0]["verified_at"]
    pending = cli("submissions", "--db", url, "--status", "pending")
    assert pending.status == 0 and pending.out.startswith("no pending submissions in ")
    only = cli("submissions", "--db", url, "--status", "rejected", "--json")
    assert [s["submission"] for s in json.loads(only.out)] == [1]
    engine.dispose()
