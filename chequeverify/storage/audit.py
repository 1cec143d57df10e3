"""The hash chain of the audit log.

Row ``n`` carries ``hash_n = SHA-256(canonical(seq, at, user, kind, account,
subject, details, hash_{n-1}))`` with ``hash_0`` sixty-four zeros. Changing
any stored field of any row, inserting a row or removing one breaks the
chain from that row on; removing the newest rows is caught by the separate
``audit_head`` record. Triggers refuse UPDATE and DELETE outright; the
chain is what catches someone who dropped the triggers or edited the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_details(details: dict[str, Any] | None) -> str:
    """The JSON text stored for an event's details (sorted keys, no spaces)."""
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(seq: int, at: str, user: str | None, kind: str, account: str | None,
             subject: str | None, details: str, prev_hash: str) -> str:  # fmt: skip
    """SHA-256 (hex) of one row's content and its predecessor's hash."""
    payload = json.dumps(
        [seq, at, user, kind, account, subject, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(conn: sqlite3.Connection, *, at: str, user: str | None, kind: str, account: str | None,
           subject: str | None, details: dict[str, Any] | None) -> int:  # fmt: skip
    """Append one event inside the caller's (write) transaction; returns its seq."""
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    text = canonical_details(details)
    digest = row_hash(seq, at, user, kind, account, subject, text, prev)
    conn.execute(
        "INSERT INTO audit (seq, at, user, kind, account, subject, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, user, kind, account, subject, text, prev, digest),
    )
    conn.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        (seq, digest),
    )
    return seq


@dataclass(frozen=True)
class ChainCheck:
    """``ok`` or the first bad seq and what is wrong with it."""

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None


def check_chain(conn: sqlite3.Connection) -> ChainCheck:
    """Walk the whole log in seq order and report the first row that does not verify."""
    expected_seq, prev, rows = 1, GENESIS, 0
    cursor = conn.execute(
        "SELECT seq, at, user, kind, account, subject, details, prev_hash, hash FROM audit ORDER BY seq"
    )
    for seq, at, user, kind, account, subject, details, prev_hash, digest in cursor:
        rows += 1
        if seq != expected_seq:
            if seq > expected_seq:
                return ChainCheck(False, rows, expected_seq, f"row {expected_seq} was removed")
            return ChainCheck(False, rows, seq, f"row {seq} is out of order")
        if prev_hash != prev:
            return ChainCheck(False, rows, seq, f"row {seq} does not follow row {seq - 1} (a row was removed or replaced)")
        if row_hash(seq, at, user, kind, account, subject, details, prev_hash) != digest:
            return ChainCheck(False, rows, seq, f"row {seq} was altered")
        prev, expected_seq = digest, seq + 1
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    last = expected_seq - 1
    if head is None:
        if last:
            return ChainCheck(False, rows, 1, "the audit head record is missing")
        return ChainCheck(True, 0)
    if head[0] > last:
        return ChainCheck(False, rows, last + 1, f"rows {last + 1} to {head[0]} were removed")
    if head[0] < last or head[1] != prev:
        return ChainCheck(False, rows, min(head[0] + 1, last), "the audit head record does not match the last row")
    return ChainCheck(True, rows)
