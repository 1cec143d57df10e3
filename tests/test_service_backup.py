"""Backing up a workspace: a consistent, checked copy that is a workspace of its own, recorded in the audit log."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

from chequeverify.errors import InvalidInput, PermissionDenied
from chequeverify.service import Workspace
from tests.service_fixtures import PASSWORDS, FakeModel, enrol, fast_kdf, scribble, snapshot, team  # noqa: F401


def test_a_backup_is_a_workspace_that_verifies_and_its_event_records_it(team, tmp_path):
    enrol(team, "100-1", "Ada")
    out = tmp_path / "backups" / "2026-12-01"
    (tmp_path / "backups").mkdir()
    summary = team.sue.backup(out)
    assert summary.path == out.resolve() / "workspace.sqlite" and summary.path.is_file()
    assert sorted(p.name for p in out.iterdir()) == ["workspace.sqlite"]  # one self-contained file, no WAL beside
    assert summary.sha256 == hashlib.sha256(summary.path.read_bytes()).hexdigest()
    assert summary.bytes == summary.path.stat().st_size and summary.chain_ok and summary.problem is None
    # the copy's head is a row of the live log, with the same hash: an anchor the live log passes
    assert team.sue.check_audit([summary.anchor]).ok
    event = team.sue.audit_events(kind="backup", limit=1)[0]
    assert event.user == "sue" and event.details["sha256"] == summary.sha256
    assert event.details["anchor"] == summary.anchor and event.details["rows"] == summary.rows
    # the copy opens as a workspace with the same accounts, references and users, and its log verifies
    with Workspace.open(out, model=FakeModel()) as copy:
        sue = copy.login("sue", PASSWORDS["sue"])
        assert [a.number for a in sue.list_accounts()] == ["100-1"]
        assert len(sue.get_account("100-1").signatories[0].references) == 3
        check = sue.check_audit([summary.anchor])
        assert check.ok and not check.unaccounted


def test_a_backup_holds_what_is_committed_in_the_wal_which_a_file_copy_misses(team, tmp_path):
    """Committed rows wait in the WAL until a checkpoint: copying the file alone loses them, the backup does not."""
    import shutil

    enrol(team, "100-1", "Ada")
    assert (team.path / "workspace.sqlite-wal").stat().st_size > 0
    shutil.copy(team.path / "workspace.sqlite", tmp_path / "naive.sqlite")
    naive = sqlite3.connect(tmp_path / "naive.sqlite")
    try:  # what a file copy gets: the schema itself may still be in the WAL
        lost = naive.execute("SELECT count(*) FROM reference_signatures").fetchone()[0] < 3
    except sqlite3.OperationalError as exc:
        lost = "no such table" in str(exc)
    assert lost
    naive.close()
    summary = team.root.backup(tmp_path / "b")
    conn = sqlite3.connect(summary.path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM reference_signatures").fetchone()[0] == 3
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_backups_in_parallel_threads_each_get_their_own_folder(team, tmp_path):
    results, errors = [], []

    def run(i):
        try:
            results.append(team.sue.backup(tmp_path / f"b{i}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len({r.path for r in results}) == 3


@pytest.mark.parametrize("where", ["the workspace", "inside it", "not empty", "a file", "no parent"])
def test_a_bad_target_is_refused_and_nothing_is_written(team, tmp_path, where):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep me")
    (tmp_path / "a-file").write_text("x")
    target = {"the workspace": team.path, "inside it": team.path / "backups", "not empty": tmp_path / "full",
              "a file": tmp_path / "a-file", "no parent": tmp_path / "missing" / "b"}[where]  # fmt: skip
    before = snapshot(team.ws)
    files = sorted(str(p) for p in tmp_path.rglob("*") if "-wal" not in p.name and "-shm" not in p.name)
    with pytest.raises(InvalidInput):
        team.sue.backup(target)
    assert snapshot(team.ws) == before and not team.sue.audit_events(kind="backup")
    assert sorted(str(p) for p in tmp_path.rglob("*") if "-wal" not in p.name and "-shm" not in p.name) == files
    assert (tmp_path / "full" / "notes.txt").read_text() == "keep me"


def test_an_existing_backup_is_never_overwritten(team, tmp_path):
    first = team.sue.backup(tmp_path / "b")
    with pytest.raises(InvalidInput, match="not empty"):
        team.sue.backup(tmp_path / "b")
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == first.sha256


def test_clerks_may_not_back_up(team, tmp_path):
    with pytest.raises(PermissionDenied, match="may not back up"):
        team.carl.backup(tmp_path / "b")
    assert not (tmp_path / "b").exists()
    assert team.sue.audit_events(kind="permission_denied", limit=1)[0].user == "carl"


def test_a_tampered_log_is_copied_as_evidence_and_reported(tmp_path, fast_kdf):
    from tests.service_fixtures import make_team

    t = make_team(tmp_path / "ws")
    t.ws.close()
    conn = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET user = 'mallory' WHERE seq = 2")
    conn.commit()
    conn.close()
    ws = Workspace.open(tmp_path / "ws", model=FakeModel())
    root = ws.login("root", PASSWORDS["root"])
    summary = root.backup(tmp_path / "evidence")
    assert not summary.chain_ok and summary.anchor is None and "row 2" in summary.problem
    assert summary.path.is_file()
    assert root.audit_events(kind="backup", limit=1)[0].details["chain_ok"] is False
    ws.close()


def test_a_copy_that_fails_the_integrity_check_is_removed(team, tmp_path, monkeypatch):
    import chequeverify.storage.store as store
    from chequeverify.errors import StorageError

    monkeypatch.setattr(store, "_integrity", lambda conn: ["row 7 missing from index x"])
    with pytest.raises(StorageError, match="integrity check"):
        team.sue.backup(tmp_path / "b")
    assert not (tmp_path / "b").exists() and not team.sue.audit_events(kind="backup")


def test_a_backup_of_a_new_workspace_has_its_first_rows(team, tmp_path):
    refs = team.sue.add_account("200-1", "Bo Holder")
    assert refs.number == "200-1"
    summary = team.sue.backup(tmp_path / "b")
    assert summary.rows == team.ws._store.audit_head()[0] - 1  # every row but the backup's own event


# --- restore ---------------------------------------------------------------------------------


def test_restore_puts_the_workspace_back_and_says_so_in_the_log(team, tmp_path):
    enrol(team, "100-1", "Ada")
    backup = team.sue.backup(tmp_path / "b")
    enrol(team, "200-2", "Bo")  # work after the backup, which the restore takes away
    lost_head = team.ws._store.audit_head()
    summary = team.root.restore(tmp_path / "b")
    assert summary.sha256 == backup.sha256 and summary.backup_anchor == backup.anchor
    assert summary.replaced_anchor.startswith(f"{lost_head[0] + 1}:")  # its last row: the event of the copy kept
    assert [a.number for a in team.sue.list_accounts()] == ["100-1"]
    assert team.ws._store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    event = team.root.audit_events(limit=1)[0]
    assert event.kind == "restored" and event.user == "root" and event.details["replaced_head"] == summary.replaced_anchor
    assert event.details["replaced_last_ids"]["accounts"] == 2
    assert event.seq == int(backup.anchor.split(":")[0]) + 1  # the restored log goes on from the backup's head
    check = team.sue.check_audit([backup.anchor])
    assert check.ok and not check.unaccounted
    # an anchor filed after the backup no longer matches: the rows it vouched for were taken away, and the
    # restored event names it
    assert not team.sue.check_audit([summary.replaced_anchor]).ok
    # ... but nothing is lost: the replaced state was kept beside the workspace, where that anchor still holds
    assert summary.kept.parent.parent == team.path.resolve().parent
    assert summary.kept.parent.name.startswith("ws.before-restore-")
    assert event.details["replaced_kept_sha256"] == summary.kept_sha256 == hashlib.sha256(summary.kept.read_bytes()).hexdigest()
    with Workspace.open(summary.kept.parent, model=FakeModel()) as kept:
        sue = kept.login("sue", PASSWORDS["sue"])
        assert [a.number for a in sue.list_accounts()] == ["100-1", "200-2"]
        assert sue.check_audit([f"{lost_head[0]}:{lost_head[1]}"]).ok
    # the workspace works on: a new account, a verification index rebuilt from the restored references
    enrol(team, "300-3", "Cy")
    assert {c.account for c in team.carl.identify(scribble(1, 4), top=5).candidates} >= {"100-1"}


def test_only_an_admin_restores(team, tmp_path):
    team.sue.backup(tmp_path / "b")
    before = snapshot(team.ws)
    with pytest.raises(PermissionDenied, match="may not restore"):
        team.sue.restore(tmp_path / "b")
    assert snapshot(team.ws) == before


def test_restore_refuses_a_missing_damaged_or_tampered_backup_and_changes_nothing(team, tmp_path):
    from chequeverify.errors import AuditTampered, StorageError

    enrol(team, "100-1", "Ada")
    backup = team.sue.backup(tmp_path / "b")
    before = snapshot(team.ws)
    with pytest.raises(InvalidInput, match="no backup"):
        team.root.restore(tmp_path / "nothing")
    with pytest.raises(InvalidInput, match="this workspace"):
        team.root.restore(team.path)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "workspace.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StorageError):
        team.root.restore(tmp_path / "junk")
    conn = sqlite3.connect(backup.path)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET user = 'mallory' WHERE seq = 3")
    conn.commit()
    conn.close()
    with pytest.raises(AuditTampered, match="row 3"):
        team.root.restore(tmp_path / "b")
    assert snapshot(team.ws) == before and [a.number for a in team.sue.list_accounts()] == ["100-1"]
    assert not list(team.path.parent.glob("ws.before-restore-*"))  # refused before anything was set aside


def test_no_restore_when_the_current_state_cannot_be_kept(team, tmp_path, monkeypatch):
    enrol(team, "100-1", "Ada")
    team.sue.backup(tmp_path / "b")
    enrol(team, "200-2", "Bo")
    before = snapshot(team.ws)
    real_backup = type(team.root).backup

    def full_disk(self, folder):
        if "before-restore" in str(folder):
            raise InvalidInput(f"Cannot write in {folder}: No space left on device.")
        return real_backup(self, folder)

    monkeypatch.setattr(type(team.root), "backup", full_disk)
    with pytest.raises(InvalidInput, match="No space"):
        team.root.restore(tmp_path / "b")
    assert snapshot(team.ws) == before and len(team.sue.list_accounts()) == 2


def test_every_audit_event_kind_the_service_writes_is_listed():
    """The audit window's filter lists AUDIT_EVENT_KINDS: every kind written in the service's source must be there."""
    import re
    from pathlib import Path

    from chequeverify.service import AUDIT_EVENT_KINDS

    source = "".join(p.read_text(encoding="utf-8") for p in Path("chequeverify/service").glob("*.py"))
    written = set(re.findall(r'append_audit\(\s*"(\w+)"', source))
    written |= {k for pair in re.findall(r'append_audit\(\s*"(\w+)" if [\w.]+ else "(\w+)"', source) for k in pair}
    assert len(written) > 20 and written <= set(AUDIT_EVENT_KINDS), written - set(AUDIT_EVENT_KINDS)
    # kinds picked into a variable or from a table first: each listed kind occurs in the source, none twice
    assert len(set(AUDIT_EVENT_KINDS)) == len(AUDIT_EVENT_KINDS)
    assert [k for k in AUDIT_EVENT_KINDS if f'"{k}"' not in source] == []
