"""The workspace database: migrations, pragmas, transactions, searches."""

from __future__ import annotations

import sqlite3

import pytest

from chequeverify.errors import StorageError
from chequeverify.storage import DB_NAME, SCHEMA_VERSION, Store


@pytest.fixture
def fresh_db(tmp_path):
    store = Store(tmp_path / DB_NAME)
    yield store
    store.close()


def test_new_workspace_is_migrated_with_wal_and_foreign_keys(fresh_db, tmp_path):
    assert fresh_db.migrated == list(range(1, SCHEMA_VERSION + 1))
    assert fresh_db.schema_version == SCHEMA_VERSION
    assert fresh_db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert fresh_db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    tables = set(fresh_db.db.table_names())
    assert {"users", "accounts", "signatories", "reference_signatures", "cheques", "decisions", "audit",
            "audit_head", "settings"} <= tables
    fresh_db.close()
    again = Store(tmp_path / DB_NAME)
    assert again.migrated == []  # nothing re-applied
    again.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / DB_NAME
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StorageError, match="newer"):
        Store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / DB_NAME
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not a chequeverify workspace"):
        Store(path)


def test_transaction_rolls_back_everything_on_error(fresh_db):
    with pytest.raises(RuntimeError):
        with fresh_db.transaction():
            fresh_db.add_account("1", "A", "any one", False, "sue")
            fresh_db.append_audit("account_added", user="sue", account="1")
            raise RuntimeError("boom")
    assert fresh_db.get_account("1") is None
    assert fresh_db.audit_events() == []
    assert fresh_db.check_audit().ok


def test_nested_transactions_use_savepoints(fresh_db):
    with fresh_db.transaction():
        fresh_db.add_account("1", "A", "any one", False, "sue")
        with pytest.raises(ValueError):
            with fresh_db.transaction():
                fresh_db.add_account("2", "B", "any one", False, "sue")
                raise ValueError
    assert fresh_db.get_account("1") is not None
    assert fresh_db.get_account("2") is None


def test_sqlite_errors_become_storage_errors(fresh_db):
    with fresh_db.transaction():
        fresh_db.add_account("1", "A", "any one", False, "sue")
    with pytest.raises(StorageError):
        with fresh_db.transaction():
            fresh_db.add_account("1", "again", "any one", False, "sue")  # UNIQUE
    with pytest.raises(StorageError):
        with fresh_db.transaction():
            fresh_db.add_signatory(999, "ghost", None, None, None, "sue")  # foreign key


def test_account_search_matches_number_holder_and_signatory(fresh_db):
    with fresh_db.transaction():
        a = fresh_db.add_account("100-200", "Ada Lovelace", "any one", False, "sue")
        fresh_db.add_account("300-400", "Charles Babbage", "any two", False, "sue")
        fresh_db.add_account("WL-1", "Known forgers", "any one", True, "sue")
        fresh_db.add_signatory(a, "Grace Hopper", None, None, None, "sue")
    numbers = lambda rows: [r["number"] for r in rows]  # noqa: E731
    assert numbers(fresh_db.list_accounts("lovelace")) == ["100-200"]
    assert numbers(fresh_db.list_accounts("300")) == ["300-400"]
    assert numbers(fresh_db.list_accounts("hopper")) == ["100-200"]
    assert numbers(fresh_db.list_accounts("%")) == []  # LIKE wildcards are literal
    assert numbers(fresh_db.list_accounts(watchlist=True)) == ["WL-1"]
    assert len(fresh_db.list_accounts(limit=2)) == 2
    assert fresh_db.get_account("100-200")["signatory_count"] == 1


def test_settings_and_reference_version(fresh_db):
    assert fresh_db.references_version() == 0
    with fresh_db.transaction():
        fresh_db.bump_references_version()
        fresh_db.set_setting("k", "v", changed_by="sue")
    assert fresh_db.references_version() == 1
    assert fresh_db.get_setting("k") == "v"
    assert fresh_db.setting_row("k")["changed_by"] == "sue"


def test_a_second_connection_waits_for_the_writer(tmp_path):
    a = Store(tmp_path / DB_NAME)
    b = Store(tmp_path / DB_NAME)
    with a.transaction():
        a.add_account("1", "A", "any one", False, "sue")
        # b can still read the committed state while a writes (WAL)
        assert b.get_account("1") is None
    assert b.get_account("1") is not None
    a.close()
    b.close()



OPEN_AT_ONCE = """
import sys
from chequeverify.errors import ChequeVerifyError
from chequeverify.storage import Store
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # the start signal: every process opens the workspace at the same moment
try:
    store = Store(sys.argv[1])
    print("ok", store.schema_version, len(store.migrated))
except ChequeVerifyError as exc:
    print("FAIL", exc)
"""


def open_at_once(path, processes=4, *, hold=None):
    """Start ``processes`` Pythons, let each import the store, then have them all open ``path`` at once.

    ``hold``: a connection holding the write lock, released half a second
    after the start: every process has read the schema version by then and
    waits for the lock, so they all race for it at the same moment.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, str(path)], cwd=repo, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(processes)]  # fmt: skip
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        if hold is not None:
            time.sleep(0.5)
            hold.execute("ROLLBACK")
            hold.close()
        return [p.communicate(timeout=60)[0].strip() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


@pytest.mark.parametrize("start", ["absent", "empty", "older"])
def test_processes_opening_a_workspace_at_once_migrate_it_once(tmp_path, start):
    """Several app instances open a new (or older-schema) workspace at the same moment: all succeed.

    Each reads the schema version again once it holds the write lock, so the
    ones that waited apply nothing (before the fix they re-ran migration 1
    and failed with "table users already exists"). ``absent``: no file yet
    (they also race to switch it to WAL); ``empty``: a new, empty WAL file;
    ``older``: a workspace at schema 1. For the last two the test holds the
    write lock until every process is waiting for it.
    """
    from chequeverify.storage.migrations import MIGRATIONS

    for trial in range(5 if start == "absent" else 2):
        path = tmp_path / str(trial) / DB_NAME
        path.parent.mkdir()
        hold = None
        if start != "absent":
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("PRAGMA journal_mode = wal")
            if start == "older":  # as an earlier release left it
                for statement in MIGRATIONS[1]:
                    conn.execute(statement)
                conn.execute("PRAGMA user_version = 1")
            conn.execute("BEGIN IMMEDIATE")
            hold = conn
        outs = open_at_once(path, hold=hold)
        assert all(o.startswith(f"ok {SCHEMA_VERSION} ") for o in outs), outs
        expected = SCHEMA_VERSION - (1 if start == "older" else 0)
        assert sum(int(o.split()[2]) for o in outs) == expected, outs  # each migration applied exactly once
        store = Store(path)
        assert store.migrated == [] and store.check_audit().ok
        store.close()
