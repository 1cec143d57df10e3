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


# --- rows can only be appended at the end (migration 2) ---------------------------------------


def plain(path):
    """A plain sqlite3 connection with every trigger in place, as someone poking at the file would use."""
    return sqlite3.connect(path)


def row(conn, seq):
    return conn.execute("SELECT seq, at, user, kind, account, subject, details, prev_hash, hash FROM audit WHERE seq = ?",
                        (seq,)).fetchone()  # fmt: skip


@pytest.mark.parametrize("seq", [1, 3, 6])
def test_insert_or_replace_cannot_rewrite_a_row(logged, seq):
    conn = plain(logged)
    before = row(conn, seq)
    _, at, _, kind, account, subject, details, prev, _ = before
    forged = row_hash(seq, at, "mallory", kind, account, subject, details, prev)
    for verb in ("INSERT OR REPLACE", "REPLACE"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(f"{verb} INTO audit VALUES (?, ?, 'mallory', ?, ?, ?, ?, ?, ?)",
                         (seq, at, kind, account, subject, details, prev, forged))  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # an upsert neither
        conn.execute("INSERT INTO audit VALUES (?, ?, 'mallory', ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING",
                     (seq, at, kind, account, subject, details, prev, forged))  # fmt: skip
    conn.commit()
    assert row(conn, seq) == before
    conn.close()
    assert check(logged).ok


def test_insert_or_replace_is_refused_even_with_the_head_record_moved_back(logged):
    """The head record has no trigger; moving it back must not let a row be replaced."""
    conn = plain(logged)
    _, at, _, kind, account, subject, details, prev, _ = row(conn, 2)
    conn.execute("UPDATE audit_head SET seq = 1, hash = ?", (prev,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("INSERT OR REPLACE INTO audit VALUES (2, ?, 'mallory', ?, ?, ?, ?, ?, ?)",
                     (at, kind, account, subject, details, prev, row_hash(2, at, "mallory", kind, account, subject,
                                                                          details, prev)))  # fmt: skip
    conn.rollback()
    conn.close()
    assert check(logged).ok


@pytest.mark.parametrize("seq,prev", [
    (8, "last"),          # a gap after the last row
    (0, GENESIS),         # before the first
    (None, "last"),       # no seq: SQLite would pick one
    (7, GENESIS),         # the next seq, but not linked to the last row
    (7, "0" * 63 + "1"),
])  # fmt: skip
def test_an_insert_that_is_not_the_next_row_is_refused(logged, seq, prev):
    conn = plain(logged)
    last = conn.execute("SELECT hash FROM audit WHERE seq = 6").fetchone()[0]
    prev = last if prev == "last" else prev
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("INSERT INTO audit VALUES (?, '2030-01-01T00:00:00Z', 'mallory', 'login', NULL, NULL, '{}', ?, 'x')",
                     (seq, prev))  # fmt: skip
    conn.close()
    assert check(logged).ok and check(logged).rows == 6


def test_normal_appends_still_work_and_stay_cheap(tmp_path):
    import time

    store = Store(tmp_path / DB_NAME)
    assert store.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'audit_append_at_end'").fetchone()[0]
    start = time.perf_counter()
    with store.transaction():
        for i in range(2000):
            store.append_audit("event", user="u", details={"i": i})
    elapsed = time.perf_counter() - start
    with store.transaction():  # one use case at a time, as the service does
        store.append_audit("event", user="u")
    result = store.check_audit()
    assert result.ok and result.rows == 2001 and result.head_seq == 2001
    assert elapsed < 5  # about 0.1 s here; the trigger costs two primary-key lookups per row
    store.close()


def test_an_older_workspace_gets_the_trigger_on_open(tmp_path):
    from chequeverify.storage.migrations import MIGRATIONS

    path = tmp_path / DB_NAME
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.migrated[0] == 2  # (and any later migration)
    with store.transaction():
        store.append_audit("event", user="u")
        store.append_audit("event", user="v")
    assert store.check_audit().ok
    store.close()
    conn = plain(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("INSERT OR REPLACE INTO audit SELECT * FROM audit WHERE seq = 1")
    conn.close()


# --- anchors: the head kept outside the workspace ---------------------------------------------


def rewrite(path, keep=lambda r: True, forge: int = 2):
    """What an insider with the file can do: drop the triggers, rewrite rows (row ``forge`` gets another user),
    recompute every hash and the head, and put the triggers back."""
    conn = sqlite3.connect(path)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    rows = [r for r in conn.execute("SELECT at, user, kind, account, subject, details FROM audit ORDER BY seq") if keep(r)]
    conn.execute("DELETE FROM audit")
    prev = GENESIS
    for seq, (at, user, kind, account, subject, details) in enumerate(rows, 1):
        user = "mallory" if seq == forge else user
        digest = row_hash(seq, at, user, kind, account, subject, details, prev)
        conn.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, at, user, kind, account, subject, details, prev, digest))  # fmt: skip
        prev = digest
    conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (len(rows), prev))
    for _, sql in triggers:
        conn.execute(sql)
    conn.commit()
    conn.close()


def anchors_of(path, *seqs):
    conn = plain(path)
    out = [(s, conn.execute("SELECT hash FROM audit WHERE seq = ?", (s,)).fetchone()[0]) for s in seqs]
    conn.close()
    return out


def test_the_check_reports_the_head_and_matching_anchors(logged):
    store = Store(logged)
    result = store.check_audit()
    last = store.audit_events(limit=1)[0]
    assert (result.head_seq, result.head_hash) == (6, last["hash"]) and store.audit_head() == (6, last["hash"])
    anchors = anchors_of(logged, 3, 6)
    result = store.check_audit(anchors)
    assert result.ok and result.anchors == tuple(f"{s}:{h}" for s, h in anchors)
    with store.transaction():
        store.append_audit("more", user="x")
    assert store.check_audit(anchors).ok  # rows after the anchor do not matter
    store.close()


def test_a_recomputed_chain_passes_alone_but_not_against_an_anchor(logged):
    anchors = anchors_of(logged, 4)
    rewrite(logged)
    assert check(logged).ok  # the keyless chain alone cannot tell
    store = Store(logged)
    result = store.check_audit(anchors)
    store.close()
    assert not result.ok and result.first_bad_seq is None and result.head_seq is None
    assert "row 4 no longer matches the anchor" in result.problem and "rewritten" in result.problem


def test_a_log_cut_short_below_an_anchor_fails_it(logged):
    anchors = anchors_of(logged, 5)
    conn = raw(logged)
    conn.execute("DELETE FROM audit WHERE seq >= 4")
    conn.execute("UPDATE audit_head SET (seq, hash) = (SELECT seq, hash FROM audit WHERE seq = 3)")
    conn.commit()
    conn.close()
    assert check(logged).ok
    store = Store(logged)
    result = store.check_audit(anchors)
    store.close()
    assert not result.ok and result.first_bad_seq == 4
    assert "ends at row 3" in result.problem and "rows 4 to 5 at least were removed" in result.problem


def test_rows_after_an_anchor_can_change_without_failing_it(logged):
    """An anchor vouches for rows 1 to SEQ only (a later anchor covers more)."""
    anchors = anchors_of(logged, 1)
    rewrite(logged)  # row 2 onwards
    store = Store(logged)
    assert store.check_audit(anchors).ok
    assert not store.check_audit([*anchors, (2, "0" * 64)]).ok
    store.close()


@pytest.mark.parametrize("text,expected", [
    ("12:" + "ab" * 32, (12, "ab" * 32)),
    (" head 12:" + "AB" * 32 + "\n", (12, "ab" * 32)),
    ("12 : " + "ab" * 32, (12, "ab" * 32)),
])  # fmt: skip
def test_anchors_parse(text, expected):
    from chequeverify.storage import format_anchor, parse_anchor

    assert parse_anchor(text) == expected
    assert parse_anchor(format_anchor(*expected)) == expected


@pytest.mark.parametrize("text", ["", "12", "12:abc", "0:" + "ab" * 32, "x:" + "ab" * 32, "12:" + "g" * 64,
                                  "-1:" + "ab" * 32, "١٢:" + "ab" * 32])  # fmt: skip
def test_malformed_anchors_are_refused(text):
    from chequeverify.storage import parse_anchor

    with pytest.raises(ValueError, match="not an anchor"):
        parse_anchor(text)
