"""Anchoring the audit log: the head a check or an export reports, and checking it later."""

from __future__ import annotations

import sqlite3

import pytest

from chequeverify.errors import InvalidInput, PermissionDenied
from tests.service_fixtures import FakeModel, fast_kdf, make_team, team  # noqa: F401
from tests.test_storage_audit import rewrite


def rewrite_everything(path):
    """An insider with the file: drop the triggers, edit row 3, recompute every hash and the head, restore the triggers."""
    rewrite(path, forge=3)


def test_the_check_reports_the_head_and_audits_it(team):
    check = team.sue.check_audit()
    assert check.ok and check.head_seq == check.rows and len(check.head_hash) == 64
    assert check.anchor == f"{check.head_seq}:{check.head_hash}"
    event = team.sue.audit_events(kind="audit_checked", limit=1)[0]
    assert event.seq == check.head_seq + 1  # the check's own event follows the head it verified
    assert event.details["head"] == check.anchor and event.details["anchors"] == []
    again = team.root.check_audit([check.anchor, (1, team.sue.audit_events(limit=10_000)[-1].hash)])
    assert again.ok and again.anchors == (f"1:{team.sue.audit_events(limit=10_000)[-1].hash}", check.anchor)
    assert sorted(team.root.audit_events(kind="audit_checked", limit=1)[0].details["anchors"]) == list(again.anchors)


def test_a_rewritten_log_passes_alone_but_fails_its_anchor(tmp_path, fast_kdf):
    t = make_team(tmp_path / "ws")
    anchor = t.sue.check_audit().anchor
    t.ws.close()
    rewrite_everything(tmp_path / "ws" / "workspace.sqlite")
    t = make_team_again(tmp_path / "ws")
    assert t.check_audit().ok
    check = t.check_audit([anchor])
    assert not check.ok and check.first_bad_seq is None and check.anchor is None
    assert "no longer matches the anchor" in check.problem


def test_a_log_cut_short_below_the_anchor_fails_it(tmp_path, fast_kdf):
    t = make_team(tmp_path / "ws")
    anchor = t.sue.check_audit().anchor
    seq = int(anchor.split(":")[0])
    t.ws.close()
    conn = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq >= ?", (seq - 2,))
    conn.execute("UPDATE audit_head SET (seq, hash) = (SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1)")
    conn.commit()
    conn.close()
    sue = make_team_again(tmp_path / "ws")
    check = sue.check_audit([anchor])
    assert not check.ok and "removed" in check.problem
    assert check.first_bad_seq == check.rows + 1 <= seq  # (her login on reopening appended one row)


def make_team_again(folder):
    from chequeverify.service import Workspace
    from tests.service_fixtures import PASSWORDS

    return Workspace.open(folder, model=FakeModel()).login("sue", PASSWORDS["sue"])


@pytest.mark.parametrize("anchor", ["12", "12:xyz", "0:" + "a" * 64, ("x", "y")])
def test_a_malformed_anchor_is_invalid_input(team, anchor):
    with pytest.raises(InvalidInput, match="not an anchor"):
        team.sue.check_audit([anchor])


def test_clerks_cannot_check_anchors(team):
    with pytest.raises(PermissionDenied):
        team.carl.check_audit(["1:" + "a" * 64])


def test_an_export_records_and_returns_the_head(team, tmp_path):
    head = team.ws._store.audit_head()
    summary = team.sue.export(tmp_path / "audit.csv")
    assert summary.anchor == f"{head[0]}:{head[1]}"
    event = team.sue.audit_events(kind="export", limit=1)[0]
    assert event.seq == head[0] + 1 and event.details["anchor"] == summary.anchor
    assert team.sue.check_audit([summary.anchor]).ok


def test_a_pdf_report_carries_its_anchor(team, tmp_path):
    from tests.service_fixtures import read_pdf

    summary = team.sue.export(tmp_path / "audit.pdf")
    text = " ".join(read_pdf(tmp_path / "audit.pdf").text.split())
    assert summary.anchor and f"audit log head {summary.anchor}" in text.replace("\n", " ")


# --- reconciliation: the state the intact log must account for ---------------------------------------------


@pytest.fixture
def busy(tmp_path, fast_kdf):
    """A workspace after a day's work: references approved and refused, decisions, an override approved,
    a mandate changed by two supervisors, an account frozen, workspace thresholds."""
    from tests.service_fixtures import cheque_with, enrol, scribble, set_mandate, set_thresholds

    t = make_team(tmp_path / "ws")
    enrol(t)
    t.sue.add_references("100-1", "Ada", [scribble(1, 5)])  # waits for sam
    set_thresholds(t, accept=0.995, reject=0.99, adapt_per_signatory=False)
    for writer, choice, reason in ((1, "accept", "customer confirmed by phone"), (2, "reject", "")):
        cheque, box = cheque_with(scribble(writer, 9))
        v = t.carl.verify(cheque, "100-1", box=box)
        t.carl.decide(v.cheque_id, choice, reason if choice.upper() != str(v.decision) else "")
    for p in t.sue.pending_overrides():
        t.sam.approve_override(p.cheque_id)
    set_mandate(t, "100-1", "any two")
    t.sue.add_account("200-2", "Bo")
    t.sue.set_account_status("200-2", "frozen")
    yield t
    t.ws.close()


def test_a_days_work_is_accounted_for(busy):
    check = busy.sue.check_audit()
    assert check.ok and check.unaccounted == () and check.state_ok, check.unaccounted


@pytest.mark.parametrize("sql,words", [
    ("UPDATE decisions SET decision = 'ACCEPT' WHERE decision = 'REJECT'", "has no audit event"),
    ("UPDATE decisions SET reviewed_by = NULL", "without a second supervisor's approval"),
    ("UPDATE reference_signatures SET status = 'active' WHERE id = 1", None),  # already active: nothing to see
    ("UPDATE reference_signatures SET status = 'active' WHERE status = 'pending'",
     "is active without a reference approved event"),
    ("UPDATE accounts SET mandate = 'any one' WHERE number = '100-1'", "the audit log last set 'any two'"),
    ("UPDATE accounts SET status = 'active' WHERE number = '200-2'", "the audit log last made it frozen"),
    ("UPDATE users SET role = 'supervisor' WHERE name = 'carl'", "user carl is supervisor, but was created clerk"),
    ("UPDATE settings SET value = '{\"model_id\": \"fake-model-v1\", \"accept\": 0.1, \"reject\": 0.0}'"
     " WHERE key = 'thresholds'", "workspace thresholds"),
])  # fmt: skip
def test_state_edited_behind_the_services_back_is_reported(busy, sql, words):
    conn = sqlite3.connect(busy.path / "workspace.sqlite")
    try:
        conn.execute(sql)
    except sqlite3.OperationalError as exc:  # a column list that differs: say so rather than pass silently
        pytest.fail(f"{exc}")
    conn.commit()
    conn.close()
    check = busy.sue.check_audit()
    assert check.ok  # the chain itself is intact: only the reconciliation can tell
    if words is None:
        assert check.unaccounted == ()
    else:
        assert not check.state_ok and any(words in u for u in check.unaccounted), check.unaccounted


def test_a_withdrawn_override_and_a_supervisors_change_are_accounted_for(busy):
    from tests.service_fixtures import cheque_with, scribble

    cheque, box = cheque_with(scribble(3, 9), seed=5)
    busy.sue.add_account("300-3", "Cy", mandate="any one")
    busy.sue.add_signatory("300-3", "Cy")
    for r in busy.sue.add_references("300-3", "Cy", [scribble(4, k) for k in (1, 2, 3)]):
        busy.sam.approve_reference(r.id)
    v = busy.carl.verify(cheque, "300-3", box=box)
    assert str(v.decision) == "REJECT"
    busy.carl.decide(v.cheque_id, "accept", "customer confirmed by phone")  # waits …
    busy.carl.decide(v.cheque_id, "refer", "withdrawn: will check again")  # … and is withdrawn
    busy.sue.decide(v.cheque_id, "reject", "the supervisor's call")
    assert busy.sue.check_audit().unaccounted == ()


def test_rows_per_number_of_references_edited_in_the_database_are_reported(busy):
    import json

    from tests.service_fixtures import set_thresholds

    set_thresholds(busy, accept=0.995, reject=0.99, by_references=[(1, 0.999, 0.99), (5, 0.995, 0.99)])
    assert busy.sue.check_audit().unaccounted == ()
    conn = sqlite3.connect(busy.path / "workspace.sqlite")
    saved = json.loads(conn.execute("SELECT value FROM settings WHERE key = 'thresholds'").fetchone()[0])
    saved["by_references"][0][1] = 0.1  # K = 1 pays almost anything now
    conn.execute("UPDATE settings SET value = ? WHERE key = 'thresholds'", (json.dumps(saved),))
    conn.commit()
    conn.close()
    check = busy.sue.check_audit()
    assert check.ok and any("per number of references" in u for u in check.unaccounted), check.unaccounted
