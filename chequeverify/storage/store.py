"""The workspace database: one object per concept, rows as plain dicts.

:class:`Store` wraps a :class:`sqlite_utils.Database` on one connection
(WAL, foreign keys on, a busy timeout so that a second process waits
instead of failing). Writes happen inside :meth:`Store.transaction`, which
the service opens once per use case: everything a use case writes,
including its audit event, commits together or not at all. The store
knows nothing of images or models: images are PNG bytes, embeddings
``float32`` bytes, both made by the service.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from chequeverify.errors import StorageError
from chequeverify.storage import audit as _audit
from chequeverify.storage.migrations import _refuse_newer, migrate, schema_version

log = logging.getLogger(__name__)

#: file name of the database inside a workspace folder
DB_NAME = "workspace.sqlite"
#: how long a writer waits for another process's transaction (ms)
BUSY_TIMEOUT_MS = 15_000

#: test hook: called with a label between the writes of a transaction (see tests/test_service_crash.py)
_write_hook = None


@dataclass(frozen=True)
class BackupCopy:
    """A copy written by :meth:`Store.copy_to`: its size and its audit chain as checked in the copy."""

    bytes: int
    chain: _audit.ChainCheck


def utc_now() -> str:
    """Now, as stored: ISO-8601 UTC with microseconds and a ``Z`` (sorts as text)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _enable_wal(db: sqlite_utils.Database) -> None:
    """Switch the file to WAL (once; the mode is stored in the file).

    The switch needs an exclusive lock, and when several processes open a new
    workspace at once SQLite answers "database is locked" at once instead of
    waiting (the busy handler is not called, to avoid a deadlock between two
    readers that both want to write): retry until the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _integrity(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA integrity_check``'s lines: ``["ok"]`` for a sound database."""
    return [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]


def _checkpoint(label: str) -> None:
    if _write_hook is not None:
        _write_hook(label)


class Store:
    """The workspace database (see module docstring). Thread-safe: one lock serialises use."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"Cannot open the workspace database {self.path}: {exc}.") from exc
        self._lock = threading.RLock()
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # case-insensitive search beyond ASCII (SQLite's LIKE folds A-Z only): "świą" finds "Świątek"
            conn.create_function("cv_fold", 1, lambda v: v.casefold() if isinstance(v, str) else v, deterministic=True)
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            conn.execute("PRAGMA foreign_keys = ON")
            _enable_wal(self.db)
            # WAL with synchronous=FULL: a committed transaction survives a power cut, not only a crash.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self.migrated = migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StorageError(
                f"{self.path} is not a chequeverify workspace or is damaged: {exc}.",
                hint="Choose another --workspace folder or restore the file from a backup.",
            ) from exc
        except StorageError:
            conn.close()
            raise
        self.conn = conn

    # --- transactions -------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[Store]:
        """One use case: ``BEGIN IMMEDIATE`` (write) or ``BEGIN`` (read); nested calls use savepoints.

        Rolls back on any exception, which propagates; SQLite errors become
        :class:`StorageError`.
        """
        with self._lock:
            conn = self.conn
            if conn.in_transaction:
                name = f"sp_{secrets.token_hex(8)}"
                conn.execute(f"SAVEPOINT {name}")
                try:
                    yield self
                except BaseException:
                    if conn.in_transaction:
                        conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                        conn.execute(f"RELEASE SAVEPOINT {name}")
                    raise
                else:
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                return
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                raise StorageError(f"The workspace is busy or locked: {exc}.", hint="Try again.") from exc
            try:
                yield self
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StorageError(f"The workspace could not be written: {exc}.") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise StorageError(f"The workspace could not be written: {exc}.") from exc

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    @property
    def schema_version(self) -> int:
        return schema_version(self.conn)

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                return list(self.db.query(sql, params))
            except OverflowError:  # an id beyond SQLite's 64 bits (typed by someone): no row has it
                return []

    def _row(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _insert(self, table: str, record: dict[str, Any]) -> int:
        with self._lock:
            cursor = self.conn.execute(
                f"INSERT INTO {table} ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})",
                tuple(record.values()),
            )
            _checkpoint(f"insert:{table}")
            return int(cursor.lastrowid)

    def _update(self, table: str, key: str, value: Any, fields: dict[str, Any]) -> None:
        if not fields:
            return
        with self._lock:
            self.conn.execute(
                f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in fields)} WHERE {key} = ?",
                (*fields.values(), value),
            )
            _checkpoint(f"update:{table}")

    # --- audit --------------------------------------------------------------------

    def append_audit(self, kind: str, *, user: str | None, account: str | None = None,
                     subject: str | None = None, details: dict[str, Any] | None = None) -> int:  # fmt: skip
        """Append an event to the audit log (inside the current write transaction); returns its seq."""
        with self._lock:
            seq = _audit.append(self.conn, at=utc_now(), user=user, kind=kind, account=account,
                                subject=subject, details=details)  # fmt: skip
            _checkpoint("audit")
            return seq

    def check_audit(self, anchors: Sequence[tuple[int, str]] = ()) -> _audit.ChainCheck:
        """Check the chain, then each anchor ``(seq, hash)`` (see :func:`audit.check_chain`), in one read snapshot."""
        with self.transaction(write=False):
            return _audit.check_chain(self.conn, anchors)

    def audit_head(self) -> tuple[int, str] | None:
        """The last audit row's ``(seq, hash)`` (unchecked), or None for an empty log."""
        with self._lock:
            return _audit.head(self.conn)

    def audit_events(self, *, since: str | None = None, until: str | None = None, user: str | None = None,
                     kind: str | None = None, account: str | None = None, subject: str | None = None,
                     limit: int = 1000, newest_first: bool = True) -> list[dict[str, Any]]:  # fmt: skip
        where, params = _filters(
            ("at >= ?", since), ("at < ?", until), ("user = ? COLLATE NOCASE", user), ("kind = ?", kind),
            ("account = ?", account), ("subject = ? COLLATE NOCASE", subject),
        )
        order = "DESC" if newest_first else "ASC"
        return self._rows(f"SELECT * FROM audit {where} ORDER BY seq {order} LIMIT ?", (*params, int(limit)))

    # --- backup -------------------------------------------------------------------

    def copy_to(self, target: str | Path) -> BackupCopy:
        """Write a consistent copy of the database to ``target`` (a new file) and check the copy.

        SQLite's online backup reads one snapshot through a connection of its
        own, so the copy is consistent while this or another process goes on
        writing (copying the file would miss what is still in the WAL). The
        copy is made a single self-contained file (rollback journal), synced
        to disk, then checked: ``PRAGMA integrity_check`` and the audit
        chain. Raises :class:`StorageError` when it cannot be written or
        does not pass the integrity check (the file is removed); a broken
        audit chain is reported in the result, not raised, since a copy of
        a tampered workspace is evidence worth keeping.
        """
        target = Path(target)
        try:
            source = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=BUSY_TIMEOUT_MS / 1000)  # fmt: skip
        except sqlite3.Error as exc:
            raise StorageError(f"Cannot read the workspace database {self.path}: {exc}.") from exc
        try:
            copy = sqlite3.connect(str(target))
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
                copy.commit()
                integrity = _integrity(copy)
                copy.execute("BEGIN")
                chain = _audit.check_chain(copy)
                copy.rollback()
            finally:
                copy.close()
            if integrity != ["ok"]:
                raise StorageError(f"The copy did not pass SQLite's integrity check: {'; '.join(integrity[:3])}.",
                                   hint="The workspace itself may be damaged: run `PRAGMA integrity_check` on it "
                                   "and keep the last good backup.")  # fmt: skip
            with open(target, "rb+") as fh:
                os.fsync(fh.fileno())
                size = os.fstat(fh.fileno()).st_size
        except (OSError, sqlite3.Error) as exc:
            target.unlink(missing_ok=True)
            raise StorageError(f"Cannot write the backup {target}: {getattr(exc, 'strerror', None) or exc}.") from exc
        except StorageError:
            target.unlink(missing_ok=True)
            raise
        finally:
            source.close()
        return BackupCopy(size, chain)

    @staticmethod
    def check_copy(path: str | Path) -> BackupCopy:
        """Check a copy made by :meth:`copy_to` without changing it (read-only): integrity, schema, audit chain.

        Raises :class:`StorageError` when it is not a workspace database, is
        damaged, or was written by a newer version of the product.
        """
        path = Path(path)
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise StorageError(f"Cannot read {path}: {exc}.") from exc
        try:
            integrity = _integrity(conn)
            if integrity != ["ok"]:
                raise StorageError(f"{path} does not pass SQLite's integrity check: {'; '.join(integrity[:3])}.")
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchone():
                raise StorageError(f"{path} is not a chequeverify workspace (it has no audit log).")
            _refuse_newer(schema_version(conn))
            conn.execute("BEGIN")
            chain = _audit.check_chain(conn)
            conn.rollback()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path} is not a chequeverify workspace or is damaged: {exc}.") from exc
        finally:
            conn.close()
        return BackupCopy(path.stat().st_size, chain)

    def max_ids(self) -> dict[str, int]:
        """The largest id in each table whose ids reports and the GUI show (0 when empty)."""
        tables = ("accounts", "signatories", "reference_signatures", "cheques", "decisions", "pending_changes")
        return {t: int(self._row(f"SELECT coalesce(max(id), 0) AS n FROM {t}")["n"]) for t in tables}

    def restore_from(self, path: str | Path) -> list[int]:
        """Replace this database's whole content with the copy at ``path`` (SQLite's backup, in reverse).

        Safe with the WAL (a file copied over the workspace's could be mixed
        with stale WAL frames); other connections see the restored content
        once it is written. The copy's schema is then migrated to this
        version's; returns the migrations applied. Check the copy first
        (:meth:`check_copy`). Raises :class:`StorageError`.
        """
        path = Path(path)
        with self._lock:
            try:
                source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    source.backup(self.conn)
                finally:
                    source.close()
                _enable_wal(self.db)
                return migrate(self.conn)
            except sqlite3.Error as exc:
                raise StorageError(f"Cannot restore from {path}: {exc}.") from exc

    # --- settings -----------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._row("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else default

    def setting_row(self, key: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM settings WHERE key = ?", (key,))

    def set_setting(self, key: str, value: str, *, changed_by: str | None = None) -> None:
        with self._lock:
            self.conn.execute(
                "INSERT INTO settings (key, value, changed_by, changed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, changed_by = excluded.changed_by,"
                " changed_at = excluded.changed_at",
                (key, value, changed_by, utc_now()),
            )

    def delete_setting(self, key: str) -> None:
        with self._lock:
            self.conn.execute("DELETE FROM settings WHERE key = ?", (key,))

    def bump_references_version(self) -> None:
        with self._lock:
            self.conn.execute(
                "UPDATE settings SET value = CAST(value AS INTEGER) + 1, changed_at = ? WHERE key = 'references_version'",
                (utc_now(),),
            )

    def references_version(self) -> int:
        return int(self.get_setting("references_version", "0") or 0)

    # --- users --------------------------------------------------------------------

    def count_users(self) -> int:
        return int(self._row("SELECT count(*) AS n FROM users")["n"])  # type: ignore[index]

    def add_user(self, name: str, role: str, password_hash: str, created_by: str | None) -> dict[str, Any]:
        self._insert("users", {"name": name, "role": role, "password_hash": password_hash,
                               "created_at": utc_now(), "created_by": created_by})  # fmt: skip
        return self.get_user(name)  # type: ignore[return-value]

    def get_user(self, name: str) -> dict[str, Any] | None:
        return self._row("SELECT * FROM users WHERE name = ? COLLATE NOCASE", (name,))

    def list_users(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM users ORDER BY name COLLATE NOCASE")

    def update_user(self, user_id: int, **fields: Any) -> None:
        self._update("users", "id", user_id, fields)

    # --- accounts -----------------------------------------------------------------

    _ACCOUNT_SELECT = """
        SELECT a.*,
          (SELECT count(*) FROM signatories s WHERE s.account_id = a.id) AS signatory_count,
          (SELECT count(*) FROM reference_signatures r JOIN signatories s ON s.id = r.signatory_id
             WHERE s.account_id = a.id AND r.status IN ('active', 'retiring')) AS active_references,
          (SELECT count(*) FROM reference_signatures r JOIN signatories s ON s.id = r.signatory_id
             WHERE s.account_id = a.id AND r.status = 'pending') AS pending_references
        FROM accounts a"""

    def add_account(self, number: str, holder: str, mandate: str, watchlist: bool, created_by: str) -> int:
        return self._insert("accounts", {"number": number, "holder": holder, "mandate": mandate,
                                         "watchlist": int(watchlist), "created_at": utc_now(),
                                         "created_by": created_by})  # fmt: skip

    def get_account(self, number: str) -> dict[str, Any] | None:
        return self._row(f"{self._ACCOUNT_SELECT} WHERE a.number = ?", (number,))

    def get_account_by_id(self, account_id: int) -> dict[str, Any] | None:
        return self._row(f"{self._ACCOUNT_SELECT} WHERE a.id = ?", (account_id,))

    def list_accounts(self, search: str = "", *, watchlist: bool | None = None, status: str | None = None,
                      limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
        """Accounts whose number or holder contains ``search`` (case-insensitive), or whose signatory's name does."""
        conditions, params = [], []
        if search:
            folded = search.casefold()
            like = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(
                "(cv_fold(a.number) LIKE ? ESCAPE '\\' OR cv_fold(a.holder) LIKE ? ESCAPE '\\' OR EXISTS ("
                "SELECT 1 FROM signatories s WHERE s.account_id = a.id AND cv_fold(s.name) LIKE ? ESCAPE '\\'))"
            )
            params += [like, like, like]
        if watchlist is not None:
            conditions.append("a.watchlist = ?")
            params.append(int(watchlist))
        if status is not None:
            conditions.append("a.status = ?")
            params.append(status)
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        return self._rows(
            f"{self._ACCOUNT_SELECT} {where} ORDER BY a.number LIMIT ? OFFSET ?", (*params, int(limit), int(offset))
        )

    def update_account(self, account_id: int, **fields: Any) -> None:
        self._update("accounts", "id", account_id, fields)

    # --- signatories --------------------------------------------------------------

    def add_signatory(self, account_id: int, name: str, panel: str | None, valid_from: str | None,
                      valid_until: str | None, created_by: str) -> int:  # fmt: skip
        return self._insert("signatories", {"account_id": account_id, "name": name, "panel": panel,
                                            "valid_from": valid_from, "valid_until": valid_until,
                                            "created_at": utc_now(), "created_by": created_by})  # fmt: skip

    def get_signatory(self, signatory_id: int) -> dict[str, Any] | None:
        return self._row(
            "SELECT s.*, a.number AS account FROM signatories s JOIN accounts a ON a.id = s.account_id WHERE s.id = ?",
            (signatory_id,),
        )

    def find_signatory(self, account_id: int, name: str) -> dict[str, Any] | None:
        return self._row(
            "SELECT s.*, a.number AS account FROM signatories s JOIN accounts a ON a.id = s.account_id"
            " WHERE s.account_id = ? AND s.name = ? COLLATE NOCASE",
            (account_id, name),
        )

    def signatories(self, account_id: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT s.*, a.number AS account FROM signatories s JOIN accounts a ON a.id = s.account_id"
            " WHERE s.account_id = ? ORDER BY s.id",
            (account_id,),
        )

    def update_signatory(self, signatory_id: int, **fields: Any) -> None:
        self._update("signatories", "id", signatory_id, fields)

    # --- references ---------------------------------------------------------------

    _REF_SELECT = """
        SELECT r.*, s.name AS signatory, s.account_id AS account_id, a.number AS account
        FROM reference_signatures r JOIN signatories s ON s.id = r.signatory_id
        JOIN accounts a ON a.id = s.account_id"""

    def add_reference(self, record: dict[str, Any]) -> int:
        record = {**record, "added_at": utc_now()}
        return self._insert("reference_signatures", record)

    def get_reference(self, reference_id: int) -> dict[str, Any] | None:
        return self._row(f"{self._REF_SELECT} WHERE r.id = ?", (reference_id,))

    def references(self, *, signatory_id: int | None = None, account_id: int | None = None,
                   statuses: Sequence[str] | None = None, with_images: bool = True) -> list[dict[str, Any]]:  # fmt: skip
        where, params = _filters(("r.signatory_id = ?", signatory_id), ("s.account_id = ?", account_id))
        if statuses:
            where += (" AND " if where else "WHERE ") + f"r.status IN ({', '.join('?' * len(statuses))})"
            params = (*params, *statuses)
        select = self._REF_SELECT if with_images else self._REF_SELECT.replace("r.*", _REF_COLUMNS_NO_IMAGE)
        return self._rows(f"{select} {where} ORDER BY r.id", params)

    def reference_images(self, ids: Sequence[int]) -> dict[int, bytes]:
        if not ids:
            return {}
        out: dict[int, bytes] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in self._rows(
                f"SELECT id, image_png FROM reference_signatures WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            ):
                out[row["id"]] = row["image_png"]
        return out

    def scoring_embeddings(self) -> tuple[list[int], list[int], list[bytes], set[tuple[str, int]]]:
        """Every scoring reference (active or retiring): ids, signatory ids, embeddings, and the (model id, dim) pairs seen."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT id, signatory_id, embedding FROM reference_signatures"
                " WHERE status IN ('active', 'retiring') ORDER BY signatory_id, id"
            ).fetchall()
            models = self.conn.execute(
                "SELECT DISTINCT model_id, embedding_dim FROM reference_signatures WHERE status IN ('active', 'retiring')"
            ).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], {(m, d) for m, d in models}

    def signatory_directory(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """signatory id → name, panel, validity and its account's number, holder, status, watch-list flag."""
        ids = [int(i) for i in ids][:900]
        if not ids:
            return {}
        rows = self._rows(
            "SELECT s.id, s.name, s.panel, s.valid_from, s.valid_until, a.number AS account, a.holder,"
            " a.status AS account_status, a.watchlist FROM signatories s JOIN accounts a ON a.id = s.account_id"
            f" WHERE s.id IN ({', '.join('?' * len(ids))})",
            ids,
        )
        return {r["id"]: r for r in rows}

    def update_reference(self, reference_id: int, **fields: Any) -> None:
        self._update("reference_signatures", "id", reference_id, fields)

    # --- cheques and decisions ----------------------------------------------------

    def add_cheque(self, record: dict[str, Any]) -> int:
        return self._insert("cheques", {**record, "verified_at": utc_now()})

    def get_cheque(self, cheque_id: int) -> dict[str, Any] | None:
        return self._row(
            "SELECT c.*, a.number AS account, a.holder FROM cheques c JOIN accounts a ON a.id = c.account_id"
            " WHERE c.id = ?",
            (cheque_id,),
        )

    def cheques_with_sha(self, sha256: str) -> list[int]:
        return [r["id"] for r in self._rows("SELECT id FROM cheques WHERE file_sha256 = ? ORDER BY id", (sha256,))]

    def list_cheques(self, *, account: str | None = None, since: str | None = None, until: str | None = None,
                     model_decision: str | None = None, verified_by: str | None = None,
                     decision_status: str | None = None, limit: int | None = 500,
                     newest_first: bool = True, with_images: bool = False) -> list[dict[str, Any]]:  # fmt: skip
        """Cheques with their latest human decision (``d_*`` columns, NULL when undecided)."""
        where, params = _filters(
            ("a.number = ?", account), ("c.verified_at >= ?", since), ("c.verified_at < ?", until),
            ("c.model_decision = ?", model_decision), ("c.verified_by = ? COLLATE NOCASE", verified_by),
        )
        if decision_status == "undecided":
            where += (" AND " if where else "WHERE ") + "d.id IS NULL"
        elif decision_status:
            where += (" AND " if where else "WHERE ") + "d.status = ?"
            params = (*params, decision_status)
        columns = "c.*" if with_images else _CHEQUE_COLUMNS_NO_IMAGE
        sql = f"""
            SELECT {columns}, a.number AS account, a.holder,
              d.id AS d_id, d.decision AS d_decision, d.reason AS d_reason, d.status AS d_status,
              d.is_override AS d_is_override, d.decided_by AS d_decided_by, d.decided_at AS d_decided_at,
              d.reviewed_by AS d_reviewed_by, d.reviewed_at AS d_reviewed_at, d.review_note AS d_review_note
            FROM cheques c JOIN accounts a ON a.id = c.account_id
            LEFT JOIN decisions d ON d.id = (SELECT max(id) FROM decisions WHERE cheque_id = c.id)
            {where} ORDER BY c.id {'DESC' if newest_first else 'ASC'}"""
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, int(limit))
        return self._rows(sql, params)

    # --- reconciliation: the state the audit log must account for ----------------------

    def state_for_reconciliation(self) -> dict[str, list[dict[str, Any]]]:
        """Every decision, reference status, account mandate and status, user role, and the thresholds setting."""
        return {
            "decisions": self._rows("SELECT d.id, d.cheque_id, d.decision, d.status, d.is_override, d.decided_by,"
                                    " d.reviewed_by, c.model_decision FROM decisions d"
                                    " JOIN cheques c ON c.id = d.cheque_id ORDER BY d.id"),
            "references": self._rows("SELECT id, status, added_by, reviewed_by FROM reference_signatures ORDER BY id"),
            "accounts": self._rows("SELECT number, mandate, status FROM accounts ORDER BY id"),
            "users": self._rows("SELECT name, role FROM users ORDER BY id"),
            "thresholds": self._rows("SELECT value FROM settings WHERE key = 'thresholds'"),
        }

    # --- changes waiting for a second supervisor ---------------------------------------

    def add_change(self, record: dict[str, Any]) -> int:
        return self._insert("pending_changes", {**record, "status": "pending", "requested_at": utc_now()})

    def get_change(self, change_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM pending_changes WHERE id = ?", (int(change_id),))

    def changes(self, *, status: str | None = "pending", kind: str | None = None,
                account: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
        where, params = _filters(("status = ?", status), ("kind = ?", kind), ("account = ?", account))
        return self._rows(f"SELECT * FROM pending_changes {where} ORDER BY id", params)

    def update_change(self, change_id: int, **fields: Any) -> None:
        self._update("pending_changes", "id", change_id, fields)

    def add_decision(self, record: dict[str, Any]) -> int:
        return self._insert("decisions", {**record, "decided_at": utc_now()})

    def latest_decision(self, cheque_id: int) -> dict[str, Any] | None:
        return self._row("SELECT * FROM decisions WHERE cheque_id = ? ORDER BY id DESC LIMIT 1", (cheque_id,))

    def decisions_awaiting_approval(self) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT d.* FROM decisions d WHERE d.status = 'awaiting_approval'"
            " AND d.id = (SELECT max(id) FROM decisions WHERE cheque_id = d.cheque_id) ORDER BY d.id"
        )

    def update_decision(self, decision_id: int, **fields: Any) -> None:
        self._update("decisions", "id", decision_id, fields)

    def recent_scores(self, limit: int, account: str | None = None) -> list[dict[str, Any]]:
        where, params = _filters(("a.number = ?", account))
        return self._rows(
            f"""SELECT c.score, c.model_decision,
                  (SELECT d.decision FROM decisions d WHERE d.cheque_id = c.id AND d.status = 'final'
                   ORDER BY d.id DESC LIMIT 1) AS final
                FROM cheques c JOIN accounts a ON a.id = c.account_id {where}
                ORDER BY c.id DESC LIMIT ?""",
            (*params, int(limit)),
        )


_REF_COLUMNS_NO_IMAGE = (
    "r.id, r.signatory_id, r.status, r.source, r.source_name, r.image_sha256, r.width, r.height, r.ink_pixels,"
    " r.embedding, r.embedding_dim, r.model_id, r.added_by, r.added_at, r.reviewed_by, r.reviewed_at, r.review_note,"
    " r.retire_requested_by, r.retire_reason"
)
_CHEQUE_COLUMNS_NO_IMAGE = (
    "c.id, c.account_id, c.file_sha256, c.file_name, c.amount, c.box, c.box_corrected, c.confidence, c.layout,"
    " c.rotated, c.model_id, c.model_decision, c.score, c.mandate, c.rule, c.mandate_met, c.required,"
    " c.thresholds, c.scores, c.reasons, c.verified_by, c.verified_at"
)


def _filters(*pairs: tuple[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``("col = ?", value)`` pairs → ``WHERE …`` for the values that are not None."""
    used = [(sql, value) for sql, value in pairs if value is not None]
    if not used:
        return "", ()
    return "WHERE " + " AND ".join(sql for sql, _ in used), tuple(v for _, v in used)


def dumps(value: Any) -> str:
    """JSON as stored in TEXT columns."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
