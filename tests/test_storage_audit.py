"""The audit log: append-only triggers and the SHA-256 chain that catches edits made around them."""

from __future__ import annotations

import sqlite3

import pytest

from chequeverify.errors import StorageError
from chequeverify.storage import DB_NAME, Store
from chequeverify.storage.audit import GENESIS, row_hash


@pytest.fixture
def logged(tmp_path):
    store = Store(tmp_path / DB_NAME)
    with store.transaction():
        for i in range(1, 7):
            store.append_audit("event", user=f"u{i}", account="1", subject=f"s{i}", details={"i": i, "text": "é"})
    store.close()
    return tmp_path / DB_NAME


def raw(path):
    """A plain sqlite3 connection, as someone editing the file would use, with the triggers dropped."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def check(path):
    store = Store(path)
    try:
        return store.check_audit()
    finally:
        store.close()


def test_chain_links_each_row_to_the_previous(logged):
    store = Store(logged)
    rows = store.audit_events(newest_first=False)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["prev_hash"] == GENESIS
    for prev, row in zip(rows, rows[1:]):
        assert row["prev_hash"] == prev["hash"]
    r = rows[2]
    assert r["hash"] == row_hash(r["seq"], r["at"], r["user"], r["kind"], r["account"], r["subject"], r["details"],
                                 r["prev_hash"])
    assert store.check_audit().ok and store.check_audit().rows == 6
    store.close()


def test_triggers_refuse_update_and_delete(logged):
    store = Store(logged)
    with pytest.raises(StorageError, match="append-only"):
        with store.transaction():
            store.conn.execute("UPDATE audit SET user = 'mallory' WHERE seq = 2")
    with pytest.raises(StorageError, match="append-only"):
        with store.transaction():
            store.conn.execute("DELETE FROM audit WHERE seq = 2")
    conn = sqlite3.connect(logged)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE audit SET details = '{}' WHERE seq = 3")
    conn.close()
    store.close()


@pytest.mark.parametrize("column,value", [("user", "mallory"), ("details", '{"i":3,"text":"x"}'),
                                          ("at", "2000-01-01T00:00:00Z"), ("kind", "login"), ("account", "2")])
def test_an_edited_row_is_reported(logged, column, value):
    conn = raw(logged)
    conn.execute(f"UPDATE audit SET {column} = ? WHERE seq = 3", (value,))
    conn.commit()
    conn.close()
    result = check(logged)
    assert not result.ok and result.first_bad_seq == 3 and "altered" in result.problem


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(logged):
    conn = raw(logged)
    r = conn.execute("SELECT seq, at, user, kind, account, subject, details, prev_hash FROM audit WHERE seq = 3").fetchone()
    forged = row_hash(r[0], r[1], "mallory", r[3], r[4], r[5], r[6], r[7])
    conn.execute("UPDATE audit SET user = 'mallory', hash = ? WHERE seq = 3", (forged,))
    conn.commit()
    conn.close()
    result = check(logged)
    assert not result.ok and result.first_bad_seq == 4


def test_a_removed_middle_row_is_reported(logged):
    conn = raw(logged)
    conn.execute("DELETE FROM audit WHERE seq = 4")
    conn.commit()
    conn.close()
    result = check(logged)
    assert not result.ok and result.first_bad_seq == 4 and "removed" in result.problem


def test_removed_newest_rows_are_reported(logged):
    conn = raw(logged)
    conn.execute("DELETE FROM audit WHERE seq >= 5")
    conn.commit()
    conn.close()
    result = check(logged)
    assert not result.ok and result.first_bad_seq == 5 and "removed" in result.problem


def test_a_renumbered_chain_is_reported(logged):
    conn = raw(logged)
    conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 2")
    conn.commit()
    conn.close()
    result = check(logged)
    assert not result.ok and result.first_bad_seq == 2


def test_a_forged_extra_row_is_reported(logged):
    conn = raw(logged)
    last = conn.execute("SELECT hash FROM audit WHERE seq = 6").fetchone()[0]
    h = row_hash(7, "2030-01-01T00:00:00Z", "mallory", "login", None, None, "{}", last)
    conn.execute("INSERT INTO audit VALUES (7, '2030-01-01T00:00:00Z', 'mallory', 'login', NULL, NULL, '{}', ?, ?)",
                 (last, h))
    conn.commit()
    conn.close()
    result = check(logged)
    assert not result.ok and result.first_bad_seq == 7


def test_appending_after_a_check_keeps_the_chain(logged):
    store = Store(logged)
    with store.transaction():
        store.append_audit("more", user="x")
    assert store.check_audit().ok and store.check_audit().rows == 7
    store.close()
