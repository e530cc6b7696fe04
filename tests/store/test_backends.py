"""One behaviour on both backends: migrations, the writer, transactions, the readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import StateError
from reconciler.report.status import history_rows, status_data
from reconciler.store import pg
from reconciler.store.db import MIGRATIONS, Connection, Store, state_exists, state_label
from reconciler.store.state import StateWriter, snapshot
from reconciler.ui import data
from tests.ui import synthetic

PROCESS = {"use_case": "echo", "title": "Echo", "type": "assistant", "visibility": "{}",
           "owner_user": "alice", "owner_org": "acme"}


def test_migrations_run_once_and_reopening_changes_nothing(store: Store, location: str) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    StateWriter(store).bump_version()
    again = Store(location)
    try:
        assert again.schema_version() == len(MIGRATIONS)
        assert snapshot(again).version == 1
    finally:
        again.close()


def test_writer_round_trip_booleans_json_and_upserts(store: Store) -> None:
    writer = StateWriter(store)
    writer.upsert("processes", {**PROCESS, "removed": True}, "use_case")
    writer.upsert("processes", {**PROCESS, "title": "Echo 2", "removed": False}, "use_case")
    writer.upsert("instances", {
        "id": "echo-acme", "use_case": "echo", "owner_user": None, "owner_org": "acme",
        "environment": "prod", "automatic": True, "version": "1.0.0", "pinned": False,
        "active": True, "state": "active", "state_detail": None,
        "sharing": {"level": "org"}, "parameters": {"k": [1, 2]},
        "created_at": "t", "updated_at": "t"}, "id")
    writer.upsert("workflow_mappings", {"instance_id": "echo-acme", "workflow_id": "main",
                                        "n8n_id": "n1", "content_hash": "h"},
                  ("instance_id", "workflow_id"))
    for _ in range(3):
        writer.bump_version()
    state = snapshot(store)
    assert state.version == 3
    assert state.processes["echo"].removed is False
    inst = state.instances["echo-acme"]
    assert (inst.automatic, inst.pinned, inst.active) == (True, False, True)
    assert inst.parameters == {"k": [1, 2]} and inst.sharing == {"level": "org"}
    assert state.mappings[("echo-acme", "main")].n8n_id == "n1"
    title = store.conn.execute("SELECT title FROM processes WHERE use_case=?", ("echo",))
    assert title.fetchone()[0] == "Echo 2"


def test_ids_rowcounts_and_insert_or_ignore(store: Store) -> None:
    writer = StateWriter(store)
    first = writer.insert_returning_id("INSERT INTO runs (started_at, trigger) VALUES (?, ?)",
                                       "t", "cli")
    second = writer.insert_returning_id("INSERT INTO runs (started_at, trigger) VALUES (?, ?)",
                                        "t", "cli")
    assert (first, second) == (1, 2)
    for _ in range(2):
        writer.add_notice("echo-acme", "update_available", "2.0.0", "100% new? yes")
    rows = store.conn.execute("SELECT message FROM notices").fetchall()
    assert [r[0] for r in rows] == ["100% new? yes"]
    assert store.mark_interrupted() == 2
    assert store.mark_interrupted() == 0
    with store.transaction() as c:
        cur = c.execute("UPDATE runs SET outcome='x' WHERE outcome='interrupted'")
    assert cur.rowcount == 2


def test_explicit_ids_number_on_like_sqlite(store: Store) -> None:
    with store.transaction() as c:
        c.execute("INSERT INTO runs (id, started_at, trigger) VALUES (?, ?, ?)", (7, "t", "x"))
    new = StateWriter(store).insert_returning_id(
        "INSERT INTO runs (started_at, trigger) VALUES (?, ?)", "t", "x")
    assert new == 8


def test_a_failed_transaction_writes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as c:
        c.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("a", "1"))
        raise RuntimeError("boom")
    assert store.conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 0


def test_a_fence_refuses_every_write_transaction(store: Store) -> None:
    def refuse(_conn: Connection) -> None:
        raise StateError("deposed")

    store.fence = refuse
    with pytest.raises(StateError, match="deposed"):
        StateWriter(store).bump_version()
    store.fence = None
    assert snapshot(store).version == 0


def test_literals_keep_question_marks_and_percents(store: Store) -> None:
    StateWriter(store).execute("INSERT INTO meta (key, value) VALUES ('q?', ?)", "50%")
    found = store.conn.execute("SELECT key, value FROM meta WHERE value LIKE '5%' "
                               "AND key = 'q?'").fetchall()
    assert [tuple(r) for r in found] == [("q?", "50%")]
    bare = store.conn.execute("SELECT value FROM meta WHERE value LIKE '%0%'").fetchall()
    assert [r[0] for r in bare] == ["50%"]  # no parameters: the same escaping holds


def test_the_reserved_user_column_reads_and_writes(store: Store) -> None:
    with store.transaction() as c:
        c.execute("INSERT INTO memberships (org, user, role) VALUES (?, ?, ?)",
                  ("acme", "alice", "admin"))
    assert store.rows("memberships") == [{"org": "acme", "user": "alice", "role": "admin"}]


def test_readers_of_the_dashboard_and_reports_agree(tmp_path: Path, location: str) -> None:
    """The same synthetic state gives the same pages on this backend as on SQLite."""
    built = synthetic.build(Path(location), orgs=2, per_org=12, runs=6)
    reference = synthetic.build(tmp_path / "reference.sqlite", orgs=2, per_org=12, runs=6)
    try:
        for scope in (data.Scope(None), data.Scope("org1")):
            for read in (data.overview, data.processes):
                assert read(built, scope) == read(reference, scope)
            for page in (data.instances, data.runs, data.executions):
                assert page(built, scope).__dict__ == page(reference, scope).__dict__
        assert status_data(built) == status_data(reference)
        assert history_rows(built, 5) == history_rows(reference, 5)
    finally:
        built.close()
        reference.close()


def test_locations(tmp_path: Path) -> None:
    url = "postgresql://rec:s3cret@db.example:5432/state"
    assert pg.postgres_url(Path(url)) == url  # a Path folds the slashes; they come back
    assert state_exists(Path(url)) and not state_exists(tmp_path / "none.sqlite")
    assert "s3cret" not in state_label(url) and "db.example:5432/state" in state_label(url)
    assert pg.postgres_url(tmp_path / "state.sqlite") is None
