"""Sign-in, registration with approval, audit with exports, thresholds, ``gui --screenshot`` and the demo.

pytest-qt, offscreen; one small workspace for the module (the fake model
of the service tests).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from chequeverify.gui.widgets import SignatureTile
from tests.service_fixtures import PASSWORDS, FakeModel, Team, cheque_with, make_gui_team, reset_thresholds, scribble, set_thresholds

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@dataclass
class World:
    team: Team
    files: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import chequeverify.service.passwords as pw

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pw, "SCRYPT_N", 2**10)
        root = tmp_path_factory.mktemp("gui-windows")
        team = make_gui_team(root)
        files = root / "files"
        files.mkdir()
        for v in (1, 2, 3):
            Image.fromarray(scribble(5, v)).save(files / f"zoe_{v}.png")
        Image.new("L", (300, 120), 255).save(files / "blank.png")
        for k, (sig, name) in enumerate(((scribble(1, 7), "ACC-1_0001"), (scribble(4, 1), "ACC-1_0002"))):
            cheque, _ = cheque_with(sig, seed=20 + k)
            cheque.save(files / f"{name}.png")
        # some history for the audit view and the histogram
        for k, (sig, decision, reason) in enumerate(((scribble(1, 8), "ACCEPT", ""),
                                                     (scribble(6, 1), "REJECT", ""))):  # fmt: skip
            cheque, box = cheque_with(sig, seed=40 + k)
            v = team.carl.verify(cheque, "ACC-1", box=box)
            team.carl.decide(v.cheque_id, decision, reason if decision == str(v.decision) else "checked by phone")
        yield World(team, files)
        team.ws.close()


@pytest.fixture
def runner(qtbot):
    from chequeverify.gui import app as gui_app
    from chequeverify.gui.workers import Runner

    gui_app.application()
    r = Runner()
    yield r
    r.wait(20_000)


# --- sign-in --------------------------------------------------------------------------


def test_sign_in_shows_a_wrong_password_inline_then_signs_in(qtbot, world, runner):
    from chequeverify.gui.login import LoginDialog

    dlg = LoginDialog(world.team.path, runner, workspace=world.team.ws)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.ok.isEnabled(), timeout=5000)
    assert not dlg.confirm.isVisible()
    dlg.user.setText("carl")
    dlg.password.setText("wrong password")
    qtbot.mouseClick(dlg.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.ok.isEnabled(), timeout=5000)
    assert "Wrong user name or password" in dlg.message.text() and dlg.isVisible()
    dlg.password.setText(PASSWORDS["carl"])
    with qtbot.waitSignal(dlg.accepted, timeout=5000):
        qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert dlg.session.user.name == "carl"


def test_first_run_creates_the_administrator(qtbot, runner, tmp_path, monkeypatch):
    import chequeverify.service.passwords as pw
    from chequeverify.gui.login import LoginDialog

    monkeypatch.setattr(pw, "SCRYPT_N", 2**10)
    dlg = LoginDialog(tmp_path / "new-ws", runner)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.ok.isEnabled(), timeout=5000)
    assert dlg.confirm.isVisible() and "no users yet" in dlg.message.text() and dlg.ok.text() == "Create and sign in"
    dlg.user.setText("boss")
    dlg.password.setText("first-admin-pass")
    dlg.confirm.setText("another password")
    dlg.submit()
    assert "differ" in dlg.message.text()
    dlg.confirm.setText("first-admin-pass")
    with qtbot.waitSignal(dlg.accepted, timeout=5000):
        dlg.submit()
    assert dlg.session.user.role == "admin"
    dlg.workspace.close()


# --- registration -----------------------------------------------------------------------


def open_registration(qtbot, world, runner, user):
    from chequeverify.gui import app as gui_app
    from chequeverify.gui.registration import RegistrationDialog
    from chequeverify.service import ROLE_RIGHTS

    session = world.team.ws.login(user, PASSWORDS[user])
    dlg = RegistrationDialog(session, runner, ROLE_RIGHTS["supervisor"], gui_app.open_settings(), user_name=user)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    return dlg


def test_registration_with_quality_verdicts_and_a_second_supervisors_approval(qtbot, world, runner, monkeypatch):
    from chequeverify.gui import confirm

    sue = open_registration(qtbot, world, runner, "sue")
    sue.new_account()
    sue.number.setText("ACC-9")
    sue.holder.setText("Zoe Trading")
    sue.mandate.setEditText("any one")
    sue.save_account()
    qtbot.waitUntil(lambda: sue.detail is not None and sue.detail.account.number == "ACC-9", timeout=10_000)
    assert sue.number.isReadOnly() and sue.sig_panel.isEnabled()
    sue.sig_name.setText("Zoe")
    sue.add_signatory()
    qtbot.waitUntil(lambda: bool(sue.detail.signatories) and not runner.busy, timeout=10_000)
    sig_id = sue.detail.signatories[0].id
    # three good specimens, a blank page and a repeat: each gets its verdict before anything is written
    files = [world.files / f"zoe_{v}.png" for v in (1, 2, 3)] + [world.files / "blank.png", world.files / "zoe_1.png"]
    sue.add_references(sig_id, files)
    qtbot.waitUntil(lambda: len(sue.verdicts) == 5 and not runner.busy, timeout=20_000)
    assert [v.ok for v in sue.verdicts] == [True, True, True, False, False]
    assert "duplicate" in sue.verdicts[4].text
    assert all(v.image is not None for v in sue.verdicts[:3])
    assert sue.verdict_panel.isVisibleTo(sue) and sue.add_checked_button.text() == "Add 3 references"
    assert world.team.sue.get_account("ACC-9").signatories[0].references == ()  # nothing written yet
    sue.add_checked()
    qtbot.waitUntil(lambda: bool(sue.detail.signatories) and len(sue.detail.signatories[0].references) == 3,
                    timeout=10_000)
    assert {r.status for r in sue.detail.signatories[0].references} == {"pending"}
    assert sue.cards[0].advice is None  # three specimens: no advice to enrol more
    # sue cannot approve her own specimens
    sue.show_tab("approvals")
    qtbot.waitUntil(lambda: bool(sue.pending_rows), timeout=10_000)
    own = [r for r in sue.pending_rows if r.property("kind") == "reference"]
    assert own and all(not r.approve_button.isEnabled() for r in own)
    sue.close()
    # sam, the second supervisor, approves them
    sam = open_registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    qtbot.waitUntil(lambda: bool(sam.pending_rows), timeout=10_000)
    rows = [r for r in sam.pending_rows if r.property("kind") == "reference"]
    assert len(rows) == 3 and all(r.approve_button.isEnabled() for r in rows)
    for ident in [r.property("ident") for r in rows]:
        sam.review("reference", ident, True, "checked against the ID card")
        qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    detail = world.team.sue.get_account("ACC-9")
    assert [r.status for r in detail.signatories[0].references] == ["active"] * 3
    assert world.team.sue.audit_events(kind="reference_approved")[0].user == "sam"
    # another hand's specimen passes the quality check, flagged as unlike Zoe's: for the maker, then the checker
    stranger = world.files / "stranger.png"
    Image.fromarray(scribble(2, 1)).save(stranger)  # the fake model scores it 0.56 against Zoe's, below 0.7
    sue = open_registration(qtbot, world, runner, "sue")
    sue.load_account("ACC-9")
    qtbot.waitUntil(lambda: sue.detail is not None and sue.detail.account.number == "ACC-9", timeout=10_000)
    sue.add_references(sig_id, [stranger])
    qtbot.waitUntil(lambda: len(sue.verdicts) == 1 and not runner.busy, timeout=20_000)
    assert sue.verdicts[0].ok and sue.verdicts[0].warning
    assert "unlike the signatory's other 3 specimens" in sue.verdicts[0].text
    # a flagged specimen is left out unless ticked, and then added only after a confirmation
    assert not sue.verdict_checks[0].isChecked() and not sue.add_checked_button.isEnabled()
    sue.verdict_checks[0].setChecked(True)
    monkeypatch.setattr(confirm, "ask", lambda *a, **k: True)
    sue.add_checked()
    qtbot.waitUntil(lambda: not runner.busy and any(r.status == "pending" for r in sue.detail.signatories[0].references),
                    timeout=10_000)  # fmt: skip
    sue.close()
    sam.refresh_pending()
    qtbot.waitUntil(lambda: not runner.busy and any(r.property("kind") == "reference" for r in sam.pending_rows),
                    timeout=10_000)  # fmt: skip
    texts = [w.text() for r in sam.pending_rows for w in r.findChildren(QLabel)]
    assert any("⚠ Unlike the signatory's other 3 specimens" in t for t in texts), texts
    row = next(r for r in sam.pending_rows if r.property("kind") == "reference")
    assert len(row.findChildren(SignatureTile)) == 1 + 3  # the new specimen beside Zoe's three approved ones


def test_an_override_of_a_reject_waits_for_another_supervisor(qtbot, world, runner, monkeypatch):
    from chequeverify.gui import confirm

    monkeypatch.setattr(confirm, "ask", lambda *a, **k: True)  # "Pay this cheque against the model's REJECT?"
    team = world.team
    set_thresholds(team, accept=0.999, reject=0.99)  # whatever the fake model says, it is a REJECT
    try:
        cheque, box = cheque_with(scribble(1, 9), seed=77)
        v = team.carl.verify(cheque, "ACC-1", box=box)
    finally:
        reset_thresholds(team)
    assert str(v.decision) == "REJECT"
    team.carl.decide(v.cheque_id, "ACCEPT", "the customer came to the counter with ID")
    sam = open_registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    qtbot.waitUntil(lambda: any(r.property("kind") == "override" for r in sam.pending_rows), timeout=10_000)
    assert "Pending approvals (" in sam.tabs.tabText(1)
    row = next(r for r in sam.pending_rows if r.property("kind") == "override" and r.property("ident") == v.cheque_id)
    # refusing needs a reason: the button waits for one, and the service says so, plainly, if asked without
    assert not row.refuse_button.isEnabled() and "reason" in row.refuse_button.toolTip()
    sam.review("override", v.cheque_id, False, "  ")
    qtbot.waitUntil(lambda: sam.last_error is not None, timeout=10_000)
    assert "reason" in str(sam.last_error)
    assert team.carl.get_cheque(v.cheque_id).final.status == "awaiting_approval"
    row.note_edit.setText("ID checked at the counter")
    qtbot.mouseClick(row.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: team.carl.get_cheque(v.cheque_id).final.status == "final", timeout=10_000)
    assert team.carl.get_cheque(v.cheque_id).final.reviewed_by == "sam"


def test_a_reference_from_a_box_drawn_on_a_cheque(qtbot, world, runner):
    from chequeverify.gui.registration import PagePicker

    sue = open_registration(qtbot, world, runner, "sue")
    sue.load_account("ACC-1")
    qtbot.waitUntil(lambda: sue.detail is not None and sue.detail.account.number == "ACC-1", timeout=10_000)
    before = len(sue.detail.signatories[0].references)
    picker = PagePicker(sue.session, runner, sue)
    qtbot.addWidget(picker)
    picker.show()
    picker.load(world.files / "ACC-1_0001.png")
    qtbot.waitUntil(lambda: picker.viewer.has_image() and not runner.busy, timeout=10_000)
    assert picker.viewer.box() is not None and picker.add_button.isEnabled()  # the reader's box, adjustable
    # draw a new box by hand over the reader's
    picker.viewer.set_box(None)
    assert not picker.add_button.isEnabled() or picker.viewer.box() is None
    box = sue.session.read_cheque(world.files / "ACC-1_0001.png").located.box
    picker.viewer.set_box(box)
    picker.viewer.boxEdited.emit(box)
    assert picker.add_button.isEnabled()
    src, kind, got_box, label = picker.source()
    assert kind == "cheque" and got_box == tuple(box)
    sue.add_references(sue.detail.signatories[0].id, [src], source=kind, boxes=[got_box], labels=[label])
    qtbot.waitUntil(lambda: bool(sue.verdicts) and not runner.busy, timeout=20_000)
    assert sue.verdicts[0].ok, sue.verdicts[0].text
    sue.add_checked()
    qtbot.waitUntil(lambda: len(sue.detail.signatories[0].references) == before + 1, timeout=10_000)
    assert sue.detail.signatories[0].references[-1].source == "cheque"


def test_a_signatory_with_one_specimen_is_advised_to_enrol_more(qtbot, world, runner):
    world.team.sue.add_account("ACC-8", "Uno Holder", "any one")
    world.team.sue.add_signatory("ACC-8", "Uno")
    world.team.sue.add_references("ACC-8", "Uno", [scribble(9, 1)])
    sue = open_registration(qtbot, world, runner, "sue")
    sue.load_account("ACC-8")
    qtbot.waitUntil(lambda: sue.detail is not None and sue.detail.account.number == "ACC-8" and bool(sue.cards),
                    timeout=10_000)  # fmt: skip
    advice = sue.cards[0].advice
    assert advice is not None and advice.text() == (
        "With 1 specimen, most genuine cheques will be referred to a clerk: enrol 3 or more.")


# --- audit ---------------------------------------------------------------------------------


def test_audit_view_filters_exports_and_checks_the_chain(qtbot, world, runner, tmp_path):
    from chequeverify.gui import app as gui_app
    from chequeverify.gui.audit import AuditDialog
    from tests.service_fixtures import read_pdf

    session = world.team.ws.login("sue", PASSWORDS["sue"])
    dlg = AuditDialog(session, runner, gui_app.open_settings())
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: not runner.busy and dlg.decisions_model.rowCount() >= 2, timeout=10_000)
    assert dlg.events_model.rowCount() > 10
    # filter: rejected cheques only; events of one kind
    dlg.decision.setCurrentText("REJECT")
    dlg.kind.setCurrentText("verified")
    dlg.refresh()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    decisions = {dlg.decisions_model.item(r, 6).text() or dlg.decisions_model.item(r, 5).text()
                 for r in range(dlg.decisions_model.rowCount())}  # fmt: skip
    assert decisions == {"REJECT"}
    assert {dlg.events_model.item(r, 3).text() for r in range(dlg.events_model.rowCount())} == {"verified"}
    dlg.user.setText("nobody")
    dlg.refresh()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    assert dlg.decisions_model.rowCount() == 0 and dlg.events_model.rowCount() == 0
    dlg.user.clear()
    dlg.decision.setCurrentIndex(0)
    # exports (a folder that is not there is the clerk's to fix: said plainly)
    dlg.export("csv", tmp_path / "missing" / "report.csv")
    qtbot.waitUntil(lambda: dlg.last_error is not None, timeout=10_000)
    assert "does not exist" in str(dlg.last_error)
    dlg.export("csv", tmp_path / "report.csv")
    qtbot.waitUntil(lambda: dlg.last_export is not None and not runner.busy, timeout=10_000)
    rows = list(csv.DictReader((tmp_path / "report.csv").open(encoding="utf-8-sig")))
    assert len(rows) >= 2 and dlg.last_export.cheques == len(rows)
    dlg.last_export = None
    dlg.export("pdf", tmp_path / "report.pdf")
    qtbot.waitUntil(lambda: dlg.last_export is not None and not runner.busy, timeout=20_000)
    pdf = read_pdf(tmp_path / "report.pdf")
    assert pdf.pages and pdf.images
    # the chain
    dlg.check_chain()
    qtbot.waitUntil(lambda: dlg.last_check is not None, timeout=10_000)
    assert dlg.last_check.ok and "verifies" in dlg.chain.text()
    assert f"head {dlg.last_check.anchor}" in dlg.chain.text()  # the anchor to keep outside the workspace


# --- thresholds ----------------------------------------------------------------------------------


def test_thresholds_preview_the_effect_before_saving(qtbot, world, runner, monkeypatch):
    from chequeverify.gui import confirm
    from chequeverify.gui.settings import ThresholdsDialog, outcome_counts

    monkeypatch.setattr(confirm, "ask", lambda *a, **k: True)  # a lower reject than in force is confirmed

    session = world.team.ws.login("sue", PASSWORDS["sue"])
    dlg = ThresholdsDialog(session, runner)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.info is not None, timeout=10_000)
    assert not dlg.save_button.isEnabled()
    scores = dlg.history.scores
    assert len(scores) >= 2
    top = round(float(np.nanmax(scores)) + 0.01, 3)
    dlg.accept_spin.setValue(top)  # nothing would be accepted any more
    assert dlg.histogram.accept == pytest.approx(top)
    assert "0 accept" in dlg.effect.text() and dlg.save_button.isEnabled()
    assert outcome_counts(scores, top, dlg.reject_spin.value())["ACCEPT"] == 0
    dlg.reject_spin.setValue(top + 0.5)
    assert not dlg.save_button.isEnabled() and "at or above" in dlg.error.text()
    dlg.reject_spin.setValue(0.5)
    dlg.reason.setText("fewer genuine cheques rejected")  # a looser change says why
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.save()
    # a lower reject is looser: it waits for a second supervisor, and the dialog says so
    info = world.team.sue.thresholds()
    assert info.source == "model" and info.pending is not None
    assert "waits for a second supervisor" in dlg.waiting.text() and dlg.waiting.isVisibleTo(dlg)
    world.team.sam.approve_change(info.pending.id)
    assert world.team.sue.thresholds().accept == pytest.approx(top)
    dlg.reason.setText("back to the model's own")
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.reset()
    # back to the model's: a lower accept again, so sam approves that too
    info = world.team.sue.thresholds()
    if info.pending is not None:
        world.team.sam.approve_change(info.pending.id)
    assert world.team.sue.thresholds().source == "model"


# --- the command line: --screenshot, demo ------------------------------------------------------------


def test_gui_screenshot_signs_in_processes_and_saves(qtbot, world, tmp_path, monkeypatch):
    import chequeverify.service.passwords as pw
    from chequeverify import cli
    from chequeverify.gui import app as gui_app
    from chequeverify.service import Workspace

    monkeypatch.setattr(pw, "SCRYPT_N", 2**10)
    real_open = Workspace.open
    # the app opens the workspace itself: hand it the fake model
    monkeypatch.setattr(Workspace, "open", classmethod(lambda cls, folder, **k: real_open(folder, model=FakeModel())))
    seen = []
    real_run = gui_app.DesktopApp._save_screenshot

    def spy(self):
        seen.append([(it.name, it.state) for it in self.window.model.items()])
        real_run(self)

    monkeypatch.setattr(gui_app.DesktopApp, "_save_screenshot", spy)
    monkeypatch.setenv("CHEQUEVERIFY_USER", "carl")
    monkeypatch.setenv("CHEQUEVERIFY_PASSWORD", PASSWORDS["carl"])
    png = tmp_path / "shot.png"
    status = cli.main(["--workspace", str(world.team.path), "gui", str(world.files / "ACC-1_0001.png"),
                       str(world.files / "ACC-1_0002.png"), "--screenshot", str(png), "--size", "1280x800"])  # fmt: skip
    assert status == 0
    # both cheques were verified before the picture was taken (the genuine one is not rejected)
    assert seen and [name for name, _ in seen[0]] == ["ACC-1_0001.png", "ACC-1_0002.png"]
    assert seen[0][0][1] in ("accepted", "referred") and seen[0][1][1] in ("referred", "rejected")
    with Image.open(png) as im:
        assert im.size[0] >= 1280 and im.size[1] >= 800


def test_the_demo_is_built_through_the_service_without_shared_data(tmp_path, monkeypatch):
    import chequeverify.service.passwords as pw
    from chequeverify.service import Workspace, demo

    monkeypatch.setattr(pw, "SCRYPT_N", 2**10)
    summary = demo.build_demo(tmp_path / "demo", model=FakeModel(), shared=tmp_path / "no-shared-data")
    assert summary.signatures.startswith("synthetic") and demo.demo_exists(tmp_path / "demo")
    # the marker names the model that embedded the references: `demo --if-missing` rebuilds a
    # demo made by another model (after an upgrade nothing in it would verify)
    assert demo.demo_model(tmp_path / "demo") == str(FakeModel().model_id) == summary.model_id
    assert demo.demo_model(tmp_path / "nowhere") is None
    scans = sorted(p.name for p in summary.cheques_dir.iterdir())
    assert len(scans) == len(demo.CHEQUE_FOLDER) and scans[0].startswith("ACC-1001_")
    assert summary.history >= 8 and summary.seconds < 30
    with Workspace.open(tmp_path / "demo", model=FakeModel()) as ws:
        sofia = ws.login("sofia", "demo-sofia-pass")
        kinds = {e.kind for e in sofia.audit_events(limit=5000)}
        assert {"user_added", "account_added", "reference_added", "reference_approved", "verified"} <= kinds
        assert len(sofia.list_accounts()) == len(demo.ACCOUNTS)
        assert len(sofia.pending_references()) == 1
        # every cheque of the folder is readable, but the one left unsigned on purpose
        from chequeverify.errors import SignatureNotFound

        for stem, _account, _writer, kind, _index in demo.CHEQUE_FOLDER:
            path = summary.cheques_dir / demo.cheque_filename(stem)
            if kind == "unsigned":
                with pytest.raises(SignatureNotFound):
                    sofia.read_cheque(path)
            else:
                assert sofia.read_cheque(path).located.confidence > 0
        # two of them as image clearing sends cheques: 100 dpi grey JPEG, black-and-white TIFF
        assert {demo.cheque_filename(s) for s in demo.CHEQUE_FORMS} == {"ACC-1003_0015.jpg", "ACC-1001_0016.tif"}
        assert Image.open(summary.cheques_dir / "ACC-1001_0016.tif").mode == "1"
    with pytest.raises(Exception, match="already exists"):
        demo.build_demo(tmp_path / "demo", model=FakeModel(), shared=tmp_path / "no-shared-data")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("keep me")
    with pytest.raises(Exception, match="left alone"):
        demo.build_demo(tmp_path / "other", model=FakeModel(), force=True)
    assert (tmp_path / "other" / "precious.txt").exists()


def test_synthetic_forgeries_copy_the_design_by_another_hand():
    from chequeverify.service.demo import SyntheticSignatures

    src = SyntheticSignatures()
    a1, a2, forged = src.genuine(1, 1), src.genuine(1, 2), src.forged(1, 1)
    for s in (a1, a2, forged):
        assert s.dtype == np.uint8 and s.ndim == 2 and (s < 128).sum() > 200 and s.max() == 255
    assert not np.array_equal(a1, a2) and forged.shape == src.forged(1, 1).shape
    assert np.array_equal(forged, src.forged(1, 1))  # deterministic: the demo is the same every time
