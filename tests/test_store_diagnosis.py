"""What is wrong with a results database, in one line, leaving a refused file byte-identical.

Reproduction 6 of issue 11: a corrupted page read as "results schema 0, older"; opening an
older-schema or corrupted file rewrote its header (the switch to WAL) although the message said
"left untouched"; a missing or read-only folder read as "check that the server is running"; a
read-only database could not be read by `pomdpbench results`; ``schema_version = 'abc'`` was a
traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pomdpbench.errors import StoreError
from pomdpbench.store import Store
from pomdpbench.store.models import SCHEMA_VERSION


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(path: Path, match: str, *, create: bool = True) -> str:
    """Open ``path``, expect a one-line refusal, and check the file did not change at all."""
    before = digest(path)
    with pytest.raises(StoreError, match=match) as info:
        Store.open(f"sqlite:///{path}", create=create)
    assert "\n" not in str(info.value)
    assert digest(path) == before, "a refused open modified the file"
    assert not Path(f"{path}-wal").exists()
    return str(info.value)


def old_schema_file(path: Path, version: str) -> None:
    """A file as an older pomdpbench left it: rollback journal, its own schema version."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE pomdpbench_meta (key VARCHAR(64) PRIMARY KEY, value TEXT)")
        connection.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, run_key TEXT)")
        connection.execute("INSERT INTO pomdpbench_meta VALUES ('schema_version', ?)", (version,))
    connection.close()


def test_older_schema_is_refused_byte_identical(workdir: Path) -> None:
    path = workdir / "old.db"
    old_schema_file(path, "1")
    message = refused(path, f"results schema 1, older than this pomdpbench's {SCHEMA_VERSION}")
    assert "left untouched" in message
    refused(path, "older", create=False)  # `pomdpbench results` too


def test_unreadable_schema_version_is_one_line(workdir: Path) -> None:
    path = workdir / "abc.db"
    old_schema_file(path, "abc")
    refused(path, "unreadable schema version 'abc'")


def test_newer_and_foreign_files_are_left_alone(workdir: Path) -> None:
    newer = workdir / "newer.db"
    old_schema_file(newer, "99")
    refused(newer, "newer pomdpbench")
    foreign = workdir / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER)")
    connection.close()
    refused(foreign, "not a pomdpbench results database")
    text = workdir / "notes.db"
    text.write_bytes(b"these are my notes, not a database\n" * 200)
    refused(text, "not a readable SQLite database")


def test_a_corrupted_page_is_reported_as_damage(workdir: Path) -> None:
    path = workdir / "results.db"
    Store.open(f"sqlite:///{path}").engine.dispose()  # a real file, WAL checkpointed on close
    store = Store.open(f"sqlite:///{path}")
    with store.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE filler (x TEXT)")
        for _ in range(200):
            connection.exec_driver_sql("INSERT INTO filler VALUES (?)", ("x" * 500,))
    store.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
        page = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    data = bytearray(path.read_bytes())
    last = len(data) // page - 1  # a page of the filler table, far from the schema
    data[last * page + 8 : last * page + 600] = os.urandom(592)
    path.write_bytes(bytes(data))
    message = refused(path, "is damaged")
    assert "schema 0" not in message and "restore it from a copy" in message


def test_missing_and_unwritable_folders_say_so(workdir: Path) -> None:
    with pytest.raises(StoreError, match="does not exist: create it") as info:
        Store.open(f"sqlite:///{workdir / 'nope' / 'r.db'}")
    assert "server" not in str(info.value)
    assert not (workdir / "nope").exists()


def as_unprivileged(action: Callable[[], Any]) -> Any:
    """Run ``action`` where file permissions apply: a forked child as nobody when we are root."""
    if os.geteuid() != 0:
        return action()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            outcome = {"ok": action()}
        except Exception as exc:
            outcome = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(outcome).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    outcome = json.loads(b"".join(chunks))
    if "error" in outcome:
        raise AssertionError(outcome["error"])
    return outcome["ok"]


def test_a_read_only_database_can_be_read_but_not_written() -> None:
    # not under tmp_path: pytest's folders are private to root, and the reader is nobody
    base = Path(tempfile.mkdtemp(prefix="pomdpbench-ro-"))
    folder = base / "shared"
    folder.mkdir()
    path = folder / "results.db"
    from pomdpbench.harness.loop import run_job
    from pomdpbench.sweep import plan
    from pomdpbench.sweep.plan import SweepRequest

    store = Store.open(f"sqlite:///{path}")
    (job,) = plan(SweepRequest(agent="random", tasks=("CartPole-V-v0",), steps=20))
    from pomdpbench.registry import get_task
    from pomdpbench.store.provenance import collect

    task = get_task(job.task)
    store.begin_run(job, task, collect("cpu", task.simulator_package))
    run_job(job, store.apply)
    store.engine.dispose()
    before = digest(path)
    for p in (base, folder):
        p.chmod(0o755)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:

        def read() -> list[Any]:
            return [
                (r.status, r.final_score)
                for r in Store.open(f"sqlite:///{path}", create=False).runs()
            ]

        def write() -> str:
            try:
                Store.open(f"sqlite:///{path}")
            except StoreError as exc:
                return str(exc)
            return "opened for writing"

        rows = as_unprivileged(read)
        assert len(rows) == 1 and rows[0][0] == "finished"
        message = as_unprivileged(write)
        assert "is read-only" in message and "`pomdpbench results` can still read it" in message
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert digest(path) == before
    shutil.rmtree(base)
