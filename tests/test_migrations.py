"""Schema migrations: a database of every earlier schema version reaches the current one.

The version-1 database is built from the frozen DDL that version emitted
(tests/fixtures/schema_v1/<dialect>.sql) and filled as that version filled it: runs of every
status with their evaluations, the reported figures and their checksum. ``pomdpbench db
upgrade`` must keep every row and leave the schema exactly what ``models.py`` creates, on SQLite
and on PostgreSQL alike.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import REPO
from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from test_store_postgres import RUN, one_line_error

from pomdpbench.errors import StoreError
from pomdpbench.store import Store, migrate
from pomdpbench.store.models import SCHEMA_VERSION, Base
from pomdpbench.store.reported import (
    CHECKSUM_KEY,
    _checksum,
    read_reported_csv,
    reported_csv_path,
    reported_for_suite,
    sync_state,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).parent / "fixtures" / "schema_v1"
V1_RUNS = [  # (run_key, status, final_score, evaluated steps)
    ("v1-finished-0", "finished", 0.75, (0, 50, 100)),
    ("v1-finished-1", "finished", 0.25, (0, 50, 100)),
    ("v1-interrupted", "interrupted", None, (0, 50)),
    ("v1-failed", "failed", None, ()),
]


def v1_ddl(dialect: str) -> list[str]:
    script = (FIXTURES / f"{dialect}.sql").read_text()
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]


def write_v1_database(url: str) -> None:
    """A database as pomdpbench's schema 1 left it, written without today's models."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in v1_ddl(engine.dialect.name):
            connection.exec_driver_sql(statement)
    tables = MetaData()
    tables.reflect(engine)
    runs, evaluations = tables.tables["runs"], tables.tables["evaluations"]
    now = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    with engine.begin() as connection:
        connection.execute(
            tables.tables["pomdpbench_meta"].insert(),
            [
                {"key": "schema_version", "value": "1"},
                {"key": CHECKSUM_KEY, "value": _checksum(reported_csv_path())},
            ],
        )
        reported = [
            {**{k: v for k, v in row.items() if k != "environment"}, "note": row["environment"]}
            for row in read_reported_csv()
        ]
        connection.execute(tables.tables["reported_results"].insert(), reported)
        for seed, (key, status, score, steps) in enumerate(V1_RUNS):
            inserted = connection.execute(
                runs.insert(),
                {
                    "run_key": key,
                    "agent": "random",
                    "agent_version": "1",
                    "agent_config": {"lr": 0.001},
                    "config_hash": "c" * 16,
                    "task": "TMazePassive-10-v0",
                    "task_version": 0,
                    "suite": "diagnostic",
                    "tier": "custom",
                    "seed": seed,
                    "budget_steps": 100,
                    "eval_every": 50,
                    "eval_episodes": 2,
                    "metric": "success",
                    "protocol_version": 1,
                    "task_spec": {"final_fraction": 0.05},
                    "status": status,
                    "env_steps": max(steps, default=0),
                    "checkpoint_step": None,
                    "final_score": score,
                    "auc": score,
                    "wall_time_s": 1.5,
                    "steps_per_s": 66.0,
                    "error": "killed" if status != "finished" else None,
                    "host": "old-host",
                    "pid": 4242,
                    "device": "cpu",
                    "python_version": "3.11.7",
                    "packages": {"torch": "2.5.0"},
                    "pomdpbench_version": "0.1.0",
                    "git_commit": "a" * 40,
                    "git_dirty": False,
                    "created_at": now,
                    "started_at": now,
                    "finished_at": now if status == "finished" else None,
                    "updated_at": now,
                },
            )
            run_id = inserted.inserted_primary_key[0]
            for step in steps:
                connection.execute(
                    evaluations.insert(),
                    {
                        "run_id": run_id,
                        "env_step": step,
                        "mean_return": step / 100,
                        "std_return": 0.5,
                        "success_rate": step / 100,
                        "episodes": 2,
                        "mean_length": 11.0,
                        "returns": [0.0, step / 50],
                        "wall_time_s": 1.0,
                        "train_metrics": {"loss": 0.5},
                        "created_at": now,
                    },
                )
    engine.dispose()


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(connection.scalar(text(f"SELECT count(*) FROM {name}")) or 0)
            for name in ("runs", "evaluations", "reported_results")
        }


def schema_differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match models.py."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = list(compare_metadata(context, Base.metadata))
        if engine.dialect.name == "sqlite" and _submission_fk_cascades(connection):
            # Schema 3 adds runs.submission_id on SQLite as a column with its own REFERENCES
            # clause (SQLite cannot add a constraint); SQLAlchemy's reflection of such an inline
            # key drops its ON DELETE, so the comparison sees a remove/add pair. PRAGMA says
            # the key is there and cascades, so that pair is not a difference.
            differences = [d for d in differences if not _is_submission_fk(d)]
        return differences


def _submission_fk_cascades(connection: Any) -> bool:
    keys = connection.exec_driver_sql("PRAGMA foreign_key_list(runs)").mappings().all()
    return any(
        k["from"] == "submission_id" and k["table"] == "submissions" and k["on_delete"] == "CASCADE"
        for k in keys
    )


def _is_submission_fk(difference: Any) -> bool:
    kind, constraint = difference[0], difference[1] if len(difference) > 1 else None
    return kind in ("remove_fk", "add_fk") and [c.name for c in constraint.columns] == [
        "submission_id"
    ]


def stored(engine: Engine) -> tuple[str | None, str | None]:
    """(pomdpbench_meta.schema_version, alembic_version)."""
    with engine.connect() as connection:
        version = connection.scalar(
            text("SELECT value FROM pomdpbench_meta WHERE key = 'schema_version'")
        )
        return version, migrate.current_revision(connection)


def test_a_version_1_database_upgrades_keeping_every_row(cli: Any, store_url: str) -> None:
    write_v1_database(store_url)
    raw = create_engine(store_url)
    before = counts(raw)
    assert before == {"runs": 4, "evaluations": 8, "reported_results": 202}
    with pytest.raises(StoreError, match="results schema 1, older") as refused:
        Store.open(store_url)
    assert f"run `pomdpbench db upgrade --db {store_url}`" in str(refused.value)
    one_line_error(cli("results", "--db", store_url), "pomdpbench db upgrade")
    assert counts(raw) == before and stored(raw) == ("1", None)  # left untouched

    upgraded = cli("db", "upgrade", "--db", store_url)
    assert upgraded.status == 0, upgraded.err
    assert f"from schema 1 to {SCHEMA_VERSION}; every row kept" in upgraded.out
    assert "4 runs" in upgraded.out and "8 evaluations" in upgraded.out
    assert counts(raw) == before
    assert stored(raw) == (str(SCHEMA_VERSION), str(SCHEMA_VERSION))
    assert schema_differences(raw) == []  # exactly the tables models.py creates

    store = Store.open(store_url)
    runs = {run.run_key: run for run in store.runs()}
    assert {k: (r.status, r.final_score, r.protocol_override) for k, r in runs.items()} == {
        key: (status, score, None) for key, status, score, _ in V1_RUNS
    }
    for key, _, _, steps in V1_RUNS:
        assert store.curve(key) == [(s, s / 100, s / 100) for s in steps]
    assert runs["v1-failed"].error == "killed" and runs["v1-finished-0"].host == "old-host"
    assert sync_state(store.engine) == "current"
    assert len(reported_for_suite(store.engine)) == 202
    # the upgraded database takes new runs, leases included
    assert cli(*RUN, "--db", store_url).status == 0
    assert len(Store.open(store_url).runs()) == 6
    again = cli("db", "upgrade", "--db", store_url)
    assert again.status == 0 and f"at schema {SCHEMA_VERSION} already: nothing to do" in again.out


def test_a_failed_migration_changes_nothing(cli: Any, store_url: str) -> None:
    """Both backends run the upgrade as one transaction: a step that fails undoes the others."""
    write_v1_database(store_url)
    raw = create_engine(store_url)
    with raw.begin() as connection:  # a stray table the second revision wants to create
        connection.execute(text("CREATE TABLE run_leases (run_key VARCHAR(40) PRIMARY KEY)"))
    line = one_line_error(cli("db", "upgrade", "--db", store_url), "nothing was changed")
    assert "upgrading" in line
    columns = {c["name"] for c in inspect(raw).get_columns("runs")}
    assert "protocol_override" not in columns  # the first step of revision 2 was undone
    assert stored(raw) == ("1", None) and counts(raw)["runs"] == 4


def test_every_revision_in_turn_builds_the_models_schema(workdir: Path) -> None:
    """From an empty database, revision N leaves schema_version N; the head is models.py."""
    url = f"sqlite:///{workdir / 'chain.db'}"
    engine = create_engine(url)
    revisions = [s.revision for s in reversed(list(migrate.script_directory().walk_revisions()))]
    assert revisions == [str(n) for n in range(1, SCHEMA_VERSION + 1)]
    assert migrate.head_revision() == str(SCHEMA_VERSION)
    for revision in revisions:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), revision)
        assert stored(engine) == (revision, revision)
    assert schema_differences(engine) == []


def test_a_new_database_is_stamped_at_the_head(store_url: str) -> None:
    engine = Store.open(store_url).engine
    assert stored(engine) == (str(SCHEMA_VERSION), str(SCHEMA_VERSION))
    assert schema_differences(engine) == []


def test_a_current_database_without_alembic_version_is_stamped(cli: Any, db_url: str) -> None:
    """Databases of schema 2 made before the migrations existed carry no alembic_version."""
    engine = Store.open(db_url).engine
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    done = cli("db", "upgrade", "--db", db_url)
    assert done.status == 0 and "nothing to do" in done.out
    assert stored(engine) == (str(SCHEMA_VERSION), str(SCHEMA_VERSION))


@pytest.mark.parametrize(
    ("prepare", "needle"),
    [
        ("newer", f"written by a newer pomdpbench (schema 99 > {SCHEMA_VERSION})"),
        ("foreign", "not a pomdpbench results database"),
        ("absent", "nothing to upgrade"),
    ],
)
def test_what_cannot_be_upgraded_is_one_line(
    cli: Any, workdir: Path, prepare: str, needle: str
) -> None:
    url = f"sqlite:///{workdir / 'x.db'}"
    if prepare == "newer":
        engine = Store.open(url).engine
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE pomdpbench_meta SET value = '99' WHERE key = 'schema_version'")
            )
    elif prepare == "foreign":
        with create_engine(url).begin() as connection:
            connection.execute(text("CREATE TABLE notes (id INTEGER)"))
    one_line_error(cli("db", "upgrade", "--db", url), needle)


def test_the_migrations_ship_inside_the_package() -> None:
    """An installed (non-editable) copy must find env.py, the template and every revision."""
    import pomdpbench

    folder = Path(pomdpbench.__file__).parent / "store" / "migrations"
    assert folder == migrate.MIGRATIONS_DIR
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {"pomdpbench.store.migrations", "pomdpbench.store.migrations.versions"} <= set(
        config["packages"]
    )
    assert "script.py.mako" in config["package-data"]["pomdpbench.store.migrations"]
    revisions = sorted(p.name for p in (folder / "versions").glob("0*.py"))
    assert len(revisions) == SCHEMA_VERSION, revisions  # one file per schema version
