"""Schema changes as numbered migrations, applied on open.

``PRAGMA user_version`` holds the number of the last migration applied.
Each migration runs in its own transaction together with the bump of
``user_version``, so a crash leaves the schema at one version or the next,
never between. Never edit a migration that has shipped: add a new one.

Statements are listed one by one (not run with ``executescript``, which
commits the open transaction before it starts).
"""

from __future__ import annotations

import sqlite3

from chequeverify.errors import StorageError

_V1 = [
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'admin')),
        password_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        failed_logins INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT
    )""",
    """CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        changed_by TEXT,
        changed_at TEXT NOT NULL
    )""",
    """CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL UNIQUE,
        holder TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'closed')),
        mandate TEXT NOT NULL,
        watchlist INTEGER NOT NULL DEFAULT 0 CHECK (watchlist IN (0, 1)),
        created_at TEXT NOT NULL,
        created_by TEXT
    )""",
    "CREATE INDEX accounts_holder ON accounts (holder COLLATE NOCASE)",
    """CREATE TABLE signatories (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts (id),
        name TEXT NOT NULL,
        panel TEXT,
        valid_from TEXT,
        valid_until TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT,
        UNIQUE (account_id, name COLLATE NOCASE)
    )""",
    # The image is the cleaned signature crop (grey PNG, dark ink on white):
    # what the embedding was computed from, so that `references re-embed`
    # reproduces exactly what a fresh registration would give.
    """CREATE TABLE reference_signatures (
        id INTEGER PRIMARY KEY,
        signatory_id INTEGER NOT NULL REFERENCES signatories (id),
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'retiring', 'retired')),
        source TEXT NOT NULL CHECK (source IN ('image', 'cheque', 'card')),
        source_name TEXT,
        image_sha256 TEXT NOT NULL,
        image_png BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        ink_pixels INTEGER NOT NULL,
        embedding BLOB NOT NULL,
        embedding_dim INTEGER NOT NULL,
        model_id TEXT NOT NULL,
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        reviewed_by TEXT,
        reviewed_at TEXT,
        review_note TEXT,
        retire_requested_by TEXT,
        retire_reason TEXT
    )""",
    "CREATE INDEX reference_signatures_signatory ON reference_signatures (signatory_id, status)",
    "CREATE INDEX reference_signatures_status ON reference_signatures (status)",
    """CREATE TABLE cheques (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts (id),
        file_sha256 TEXT NOT NULL,
        file_name TEXT,
        amount TEXT,
        box TEXT NOT NULL,
        box_corrected INTEGER NOT NULL DEFAULT 0,
        confidence REAL,
        layout TEXT,
        rotated INTEGER NOT NULL DEFAULT 0,
        signature_png BLOB NOT NULL,
        model_id TEXT NOT NULL,
        model_decision TEXT NOT NULL CHECK (model_decision IN ('ACCEPT', 'REFER', 'REJECT')),
        score REAL,
        mandate TEXT NOT NULL,
        rule TEXT NOT NULL,
        mandate_met INTEGER NOT NULL,
        required INTEGER NOT NULL,
        thresholds TEXT NOT NULL,
        scores TEXT NOT NULL,
        reasons TEXT NOT NULL,
        verified_by TEXT NOT NULL,
        verified_at TEXT NOT NULL
    )""",
    "CREATE INDEX cheques_account ON cheques (account_id, verified_at)",
    "CREATE INDEX cheques_sha ON cheques (file_sha256)",
    "CREATE INDEX cheques_time ON cheques (verified_at)",
    """CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        cheque_id INTEGER NOT NULL REFERENCES cheques (id),
        decision TEXT NOT NULL CHECK (decision IN ('ACCEPT', 'REFER', 'REJECT')),
        reason TEXT NOT NULL,
        is_override INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('final', 'awaiting_approval', 'refused', 'superseded')),
        decided_by TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        reviewed_by TEXT,
        reviewed_at TEXT,
        review_note TEXT
    )""",
    "CREATE INDEX decisions_cheque ON decisions (cheque_id, id)",
    "CREATE INDEX decisions_status ON decisions (status)",
    # The audit log: append-only (triggers), hash-chained (see audit.py).
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT,
        kind TEXT NOT NULL,
        account TEXT,
        subject TEXT,
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX audit_at ON audit (at)",
    "CREATE INDEX audit_account ON audit (account)",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    # The last seq and hash, kept apart from the chain so that removing the
    # newest rows (which leaves a valid shorter chain) is noticed.
    """CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    )""",
    # A counter bumped on every change of the scoring references, so that
    # in-memory caches (identification) know when to reload.
    "INSERT INTO settings (key, value, changed_at) VALUES ('references_version', '0', datetime('now'))",
]

# Migration 2: rows can only be added at the end of the chain. The UPDATE and
# DELETE triggers of migration 1 do not stop ``INSERT OR REPLACE``: REPLACE
# deletes the conflicting row without firing DELETE triggers (recursive
# triggers are off), so a row could be rewritten in place. This trigger runs
# before every insert, whatever its conflict clause, and refuses a row whose
# seq is not the one after the head record or whose prev_hash is not the head's
# hash, and any row at or before the last seq in the table (so that editing
# the head record does not reopen the door). Cost: two primary-key lookups.
_V2 = [
    f"""CREATE TRIGGER audit_append_at_end BEFORE INSERT ON audit
       WHEN NEW.seq IS NOT coalesce((SELECT seq FROM audit_head WHERE id = 1), 0) + 1
         OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_head WHERE id = 1), '{"0" * 64}')
         OR NEW.seq <= coalesce((SELECT max(seq) FROM audit), 0)
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: a row can only be added after the last one'); END""",
]

# Migration 3: changes to the bank's risk settings wait for a second supervisor
# (maker-checker beyond reference signatures): thresholds made looser, a
# mandate changed, an account made active again. ``payload`` is the change as
# JSON; it is applied, exactly as requested, only when another supervisor
# approves it.
def _pending_changes_table(name: str, kinds: tuple[str, ...]) -> str:
    return f"""CREATE TABLE {name} (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ({', '.join(f"'{k}'" for k in kinds)})),
        account TEXT,
        payload TEXT NOT NULL,
        summary TEXT NOT NULL,
        reason TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'refused', 'withdrawn')),
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        reviewed_by TEXT,
        reviewed_at TEXT,
        review_note TEXT
    )"""


_V3 = [
    _pending_changes_table("pending_changes", ("thresholds", "mandate", "account_status")),
    "CREATE INDEX pending_changes_status ON pending_changes (status, id)",
]

# Migration 4: a signatory's validity or panel changed on an account in use
# waits for a second supervisor too (SQLite cannot alter a CHECK: the table is
# rebuilt with the new kind and its rows copied).
_V4 = [
    _pending_changes_table("pending_changes_v4", ("thresholds", "mandate", "account_status", "signatory")),
    "INSERT INTO pending_changes_v4 SELECT * FROM pending_changes",
    "DROP TABLE pending_changes",
    "ALTER TABLE pending_changes_v4 RENAME TO pending_changes",
    "CREATE INDEX pending_changes_status ON pending_changes (status, id)",
]

#: migration number → statements; numbers start at 1 and increase by 1
MIGRATIONS: dict[int, list[str]] = {1: _V1, 2: _V2, 3: _V3, 4: _V4}
SCHEMA_VERSION = max(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _refuse_newer(current: int) -> None:
    if current > SCHEMA_VERSION:
        raise StorageError(
            f"This workspace has schema version {current}; this version of chequeverify knows up to "
            f"{SCHEMA_VERSION}.",
            hint="Open it with a newer chequeverify.",
        )


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply the migrations the database lacks; returns their numbers.

    Safe when several processes open the same workspace at once: the version
    is read again once the write lock is held (``BEGIN IMMEDIATE``), so a
    migration another process applied meanwhile is not applied twice.

    Raises :class:`StorageError` when the workspace was written by a newer
    version of the product (unknown schema) or a migration fails (it is
    rolled back; earlier ones stay).
    """
    current = schema_version(conn)
    _refuse_newer(current)
    applied: list[int] = []
    while current < SCHEMA_VERSION:
        number = current + 1
        try:
            conn.execute("BEGIN IMMEDIATE")
            current = schema_version(conn)  # another process may have migrated before we got the lock
            if current >= number:
                conn.execute("COMMIT")
                _refuse_newer(current)
                continue
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(number)}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"Cannot upgrade the workspace to schema version {number}: {exc}.") from exc
        applied.append(number)
        current = number
    return applied
