"""Export, submit and import: a real bundle round-trips, and every tampering is refused unwritten.

The bundle is random's sanity smoke sweep (9 runs), exported once per module. Each tampering
case edits it as a forger would (re-hashing and re-scoring where that hides the edit) and
must be rejected with its own reason, in one line, exit 2, the database byte-identical.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bundle_helpers import (
    Files,
    edit_run,
    file_hash,
    read,
    rehash,
    run_named,
    runs,
    source_bundle,
    write,
)
from conftest import REPO

from pomdpbench.store import queries
from pomdpbench.store.database import open_engine
from pomdpbench.store.submissions import local_records, set_status, submission
from pomdpbench.submission.bundle import MANIFEST

TASK = "CartPole-V-v0"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return source_bundle(tmp_path_factory.mktemp("source"))


@pytest.fixture
def empty_db(workdir: Path) -> tuple[str, Path]:
    path = workdir / "leaderboard.db"
    open_engine(f"sqlite:///{path}").dispose()
    return f"sqlite:///{path}", path


def one_line_error(result: Any, *needles: str) -> None:
    assert result.status == 2, (result.out, result.err)
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert result.err.startswith("error: ") and "Traceback" not in result.err
    for needle in needles:
        assert needle in result.err, result.err


def test_export_submit_round_trip_keeps_every_evaluation(
    cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path]
) -> None:
    url, bundle = source
    target, _ = empty_db
    done = cli("submit", str(bundle), "--db", target, "--submitter", "ada")
    assert done.status == 0, done.err
    assert "submission 1: pending, 9 runs" in done.out
    exported = {r["run_key"]: r for r in local_records(open_engine(url, create=False))}
    stored = submission(open_engine(target, create=False), 1)
    assert stored is not None and stored["status"] == "pending" and stored["submitter"] == "ada"
    assert stored["complete"] is True and len(stored["runs"]) == len(exported) == 9
    for record in stored["runs"]:
        original = exported[record["run_key"]]
        assert record["evaluations"] == original["evaluations"]
        for field in ("agent_config", "task_spec", "packages", "git_commit", "final_score", "seed"):
            assert record[field] == original[field], field


def test_submitted_runs_stay_out_of_the_statistics_until_verified(
    cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path]
) -> None:
    target, _ = empty_db
    assert cli("submit", str(source[1]), "--db", target).status == 0
    engine = open_engine(target, create=False)
    assert queries.suite_tier_counts(engine).empty
    assert queries.suite_runs(engine, "sanity", "smoke").empty
    assert json.loads(cli("results", "--db", target, "--json").out) == []
    listed = queries.submitted_runs(engine)
    assert len(listed) == 9 and set(listed["status"]) == {"pending"}
    assert list(queries.submissions(engine)["status"]) == ["pending"]
    set_status(engine, target, 1, "verified", [], {"checks": []})
    assert len(queries.suite_runs(engine, "sanity", "smoke")) == 9
    assert len(queries.suite_evaluations(engine, "sanity", "smoke")) == 27


def test_the_same_bundle_twice_is_refused(
    cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path]
) -> None:
    target, path = empty_db
    assert cli("submit", str(source[1]), "--db", target).status == 0
    before = dump(path)  # the database was opened (to find the first), so compare contents
    one_line_error(
        cli("submit", str(source[1]), "--db", target), "submitted already (submission 1)"
    )
    assert dump(path) == before


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


def drop_run(files: Files, task: str) -> Files:
    name = run_named(files, task)
    return {n: d for n, d in files.items() if n != name}


def pickle_inside(files: Files) -> Files:
    disguised = {**files, "runs/0123456789abcdef0123.json": pickle.dumps({"evil": print})}
    return rehash(disguised)


TAMPERINGS: dict[str, tuple[Callable[[Files], Files], str]] = {
    "changed score": (
        lambda f: rehash(edit_run(f, TASK, lambda r: r.update(final_score=r["final_score"] + 50))),
        "not what its evaluations give",
    ),
    "changed hash": (
        lambda f: edit_run(f, TASK, lambda r: r["evaluations"][-1].update(mean_return=199.0)),
        "does not match the manifest: it was changed",
    ),
    "missing seed": (
        lambda f: rehash(drop_run(f, TASK)),
        f"says complete but the suite's smoke runs lack {TASK} seed 0",
    ),
    "another budget": (
        lambda f: rehash(edit_run(f, TASK, lambda r: r.update(budget_steps=4000))),
        "budget 4,000, the suite's smoke protocol has 2,000",
    ),
    "unknown task version": (
        lambda f: rehash(
            edit_run(f, TASK, lambda r: r.update(task="CartPole-V-v9", task_version=9))
        ),
        "unknown task version CartPole-V-v9",
    ),
    "extra file": (
        lambda f: {**f, "runs/README.json": b"{}"},
        "extra file runs/README.json is not listed in the manifest",
    ),
    "pickle inside": (pickle_inside, "runs/0123456789abcdef0123.json is a pickle"),
    "schema violation": (
        lambda f: rehash(f, lambda m: m.update(tier=5)),
        "manifest.json breaks the schema at tier",
    ),
    "doctored curve without rescoring": (
        lambda f: rehash(
            edit_run(f, TASK, lambda r: r["evaluations"][-1].update(mean_return=199.0))
        ),
        "a score was changed",
    ),
    "edited config": (
        lambda f: rehash(edit_run(f, TASK, lambda r: r["agent_config"].update(lr=1.0))),
        "its run key is not the hash of its identity",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_a_tampered_bundle_is_rejected_and_nothing_is_written(
    case: str, cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path], workdir: Path
) -> None:
    tamper, reason = TAMPERINGS[case]
    target, path = empty_db
    bad = write(tamper(read(source[1])), workdir / "tampered.zip")
    before = file_hash(path)
    one_line_error(cli("submit", str(bad), "--db", target), "nothing written", reason)
    assert file_hash(path) == before
    one_line_error(cli("import", str(bad), "--db", target), reason)  # import checks the same
    assert file_hash(path) == before


def test_an_honestly_incomplete_bundle_is_accepted_as_incomplete(
    cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path], workdir: Path
) -> None:
    def mark(manifest: dict[str, Any]) -> None:
        manifest.update(complete=False, missing=[{"task": TASK, "seed": 0}])

    partial = write(rehash(drop_run(read(source[1]), TASK), mark), workdir / "partial.zip")
    done = cli("submit", str(partial), "--db", empty_db[0])
    assert done.status == 0 and "incomplete (1 missing)" in done.out, done.err
    stored = submission(open_engine(empty_db[0], create=False), 1)
    assert stored is not None and stored["complete"] is False and len(stored["runs"]) == 8


def test_a_corrupt_zip_is_one_line_and_exit_2(
    cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path], workdir: Path
) -> None:
    data = source[1].read_bytes()
    (workdir / "cut.zip").write_bytes(data[: len(data) // 2])
    before = file_hash(empty_db[1])
    for command in ("submit", "import"):
        one_line_error(
            cli(command, "cut.zip", "--db", empty_db[0]), "is not a readable zip archive"
        )
    # a damaged byte anywhere in the members: a CRC, a deflate stream (zlib.error, once a
    # traceback) or a header fails; each is one line
    for tenth in range(1, 9):
        flipped = bytearray(data)
        flipped[len(data) * tenth // 10] ^= 0xFF
        (workdir / "flipped.zip").write_bytes(bytes(flipped))
        one_line_error(cli("submit", "flipped.zip", "--db", empty_db[0]))
    one_line_error(cli("submit", "absent.zip", "--db", empty_db[0]), "no bundle at absent.zip")
    assert file_hash(empty_db[1]) == before


def test_import_of_a_database_and_a_bundle_is_idempotent(
    cli: Any, source: tuple[str, Path], workdir: Path
) -> None:
    url, bundle = source
    other = source[0].removeprefix("sqlite:///")
    target = f"sqlite:///{workdir / 'mine.db'}"
    counts = []
    for _ in range(2):
        for item in (other, str(bundle)):
            assert cli("import", item, "--db", target).status == 0
        engine = open_engine(target, create=False)
        records = local_records(engine)
        counts.append((len(records), sum(len(r["evaluations"]) for r in records)))
        engine.dispose()
    assert counts == [(9, 27), (9, 27)]
    assert "imported 0 runs, 9 already here" in cli("import", other, "--db", target).out
    assert {r["run_key"] for r in local_records(open_engine(url, create=False))} == {
        r["run_key"] for r in local_records(open_engine(target, create=False))
    }
    one_line_error(cli("import", "mine.db", "--db", target), "is the database being imported into")


def test_export_refuses_what_it_cannot_bundle_in_one_line(
    cli: Any, source: tuple[str, Path], workdir: Path
) -> None:
    url = source[0]
    out = str(workdir / "b.zip")
    one_line_error(
        cli("export", "--agent", "sac-mlp", "--suite", "sanity", "--out", out, "--db", url),
        "no run of sac-mlp on suite sanity",
    )
    one_line_error(
        cli("export", "--agent", "random", "--suite", "sanity", "--out", "b.txt", "--db", url),
        "should end in .zip",
    )
    one_line_error(
        cli(
            "export",
            "--agent",
            "random",
            "--suite",
            "sanity",
            "--tier",
            "full",
            "--out",
            out,
            "--db",
            url,
        ),
        "no finished run of random on suite sanity (full tier)",
    )
    one_line_error(
        cli("export", "--agent", "random", "--suite", "sanitty", "--out", out, "--db", url),
        "unknown suite 'sanitty'",
    )


def test_a_bundle_is_data_only_and_its_manifest_lists_every_file(source: tuple[str, Path]) -> None:
    files = read(source[1])
    manifest = json.loads(files[MANIFEST])
    assert set(files) == {MANIFEST, *(entry["path"] for entry in manifest["files"])}
    assert all(name.endswith((".json", ".csv")) for name in files)
    assert len(runs(files)) == manifest["runs"] == 9 and manifest["complete"] is True


def test_the_published_schema_is_the_one_used_and_a_valid_schema() -> None:
    from jsonschema import Draft202012Validator

    shipped = REPO / "pomdpbench" / "submission" / "submission-schema.json"
    published = REPO / "docs" / "submission-schema.json"
    assert shipped.read_bytes() == published.read_bytes(), "cp the package's schema to docs/"
    Draft202012Validator.check_schema(json.loads(published.read_text()))


def test_the_bundle_code_writes_no_sql() -> None:
    for path in (REPO / "pomdpbench" / "submission").glob("*.py"):
        assert "sqlalchemy" not in path.read_text(), f"{path.name} talks SQL: use pomdpbench.store"


def test_verify_of_an_unknown_submission_is_one_line(cli: Any, empty_db: tuple[str, Path]) -> None:
    one_line_error(cli("verify", "7", "--db", empty_db[0]), "no submission 7")
    one_line_error(
        cli("verify", "1", "--runs", "0", "--db", empty_db[0]), "--runs must be at least 1"
    )


def test_copying_a_bundle_keeps_it_valid(
    cli: Any, source: tuple[str, Path], empty_db: tuple[str, Path], workdir: Path
) -> None:
    copy = workdir / "copy.zip"
    shutil.copy(source[1], copy)
    rewritten = write(read(copy), workdir / "rezipped.zip")  # another zip tool, same members
    assert cli("submit", str(rewritten), "--db", empty_db[0]).status == 0


def test_submitting_runs_that_are_also_local_keeps_them_apart(
    cli: Any, source: tuple[str, Path], workdir: Path
) -> None:
    original = sqlite3.connect(source[0].removeprefix("sqlite:///"))
    copy = sqlite3.connect(workdir / "both.db")
    original.backup(copy)  # the write-ahead log's pages included
    original.close()
    copy.close()
    target = f"sqlite:///{workdir / 'both.db'}"
    assert cli("submit", str(source[1]), "--db", target).status == 0  # same run keys as local
    engine = open_engine(target, create=False)
    assert len(queries.suite_runs(engine, "sanity", "smoke")) == 9  # the local ones only
    assert len(local_records(engine)) == 9 and len(queries.submitted_runs(engine)) == 9
    with sqlite3.connect(workdir / "both.db") as connection:
        keys = [
            k for (k,) in connection.execute("SELECT run_key FROM runs WHERE submission_id = 1")
        ]
    assert len(keys) == 9 and all(key.endswith("@s1") for key in keys)
