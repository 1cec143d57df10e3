"""The hash chain of the audit log.

Row ``n`` carries ``hash_n = SHA-256(canonical(seq, at, user, kind, account,
subject, details, hash_{n-1}))`` with ``hash_0`` sixty-four zeros. Changing
any stored field of any row, inserting a row or removing one breaks the
chain from that row on; removing the newest rows is caught by the separate
``audit_head`` record. Triggers refuse UPDATE and DELETE outright, and any
INSERT that is not the next row after the head (so ``INSERT OR REPLACE``
cannot rewrite a row); the chain is what catches someone who dropped the
triggers or edited the file.

The chain has no secret, so someone with the file can still rewrite every
row, recompute every hash and move the head. An *anchor* closes that door:
``SEQ:HASH``, a row's number and hash, written down outside the workspace
(on a printed daily report, in a ticket, in another system). Since every
hash covers all the rows before it, a log that still verifies and still has
that hash at row SEQ has rows 1 to SEQ exactly as they were when the anchor
was taken; a log rewritten up to SEQ, or cut short below it, no longer
matches (:func:`check_chain` with ``anchors``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64

_ANCHOR = re.compile(r"(?:head\s+)?(\d+)\s*:\s*([0-9a-f]{64})", re.ASCII | re.IGNORECASE)


def format_anchor(seq: int, digest: str) -> str:
    """An anchor as printed and as ``audit verify --anchor`` takes it: ``SEQ:HASH``."""
    return f"{int(seq)}:{digest}"


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` (also ``head SEQ:HASH``, as printed) → ``(seq, hash)``. Raises :class:`ValueError`."""
    match = _ANCHOR.fullmatch(str(text).strip())
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not an anchor: an anchor is SEQ:HASH, a row number and its 64-digit hash")
    return int(match.group(1)), match.group(2).lower()


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
    """``ok`` or the first bad seq and what is wrong with it.

    ``head_seq``, ``head_hash``: the last row, when the log verifies and is
    not empty (the anchor to keep outside the workspace); ``anchors``: the
    anchors checked, as ``SEQ:HASH``, when all matched. A row that does not
    match its anchor has no first bad seq (``None``): some row up to it was
    rewritten, which one the anchor cannot tell.
    """

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    anchors: tuple[str, ...] = ()


def head(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """The last row's ``(seq, hash)``, or None for an empty log (one primary-key lookup, no check)."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


def check_chain(conn: sqlite3.Connection, anchors: Iterable[tuple[int, str]] = ()) -> ChainCheck:
    """Walk the whole log in seq order and report the first row that does not verify.

    Then, if the chain holds, check each anchor ``(seq, hash)``: row ``seq``
    must still exist and still carry exactly that hash. Run it inside one
    read transaction so that a concurrent append is not mistaken for damage.
    """
    chain = _walk(conn)
    if not chain.ok:
        return chain
    last = chain.rows
    checked = []
    for seq, digest in sorted(set(anchors)):
        short = f"{seq}:{digest[:16]}…"
        if seq > last:
            removed = f"row {seq} was" if seq == last + 1 else f"rows {last + 1} to {seq} at least were"
            return ChainCheck(False, chain.rows, last + 1, (
                f"the log ends at row {last}, before the anchor {short}: {removed} removed "
                "(or the anchor belongs to another workspace)"))  # fmt: skip
        stored = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]
        if stored != digest:
            return ChainCheck(False, chain.rows, None, (
                f"row {seq} no longer matches the anchor {short} (its hash is now {stored[:16]}…): the log was "
                f"rewritten at or before row {seq} (or the anchor belongs to another workspace)"))  # fmt: skip
        checked.append(format_anchor(seq, digest))
    return ChainCheck(True, chain.rows, head_seq=chain.head_seq, head_hash=chain.head_hash, anchors=tuple(checked))


def _walk(conn: sqlite3.Connection) -> ChainCheck:
    """The chain alone: every row in order, linked and unaltered, and the head record on the last one."""
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
    return ChainCheck(True, rows, head_seq=last, head_hash=prev)
