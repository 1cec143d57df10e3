"""The supervisors' and admins' dialogs after QA: approvals with evidence, registration, thresholds per K,
identification, audit for an admin, users and sign-in messages.

pytest-qt, offscreen; one small workspace for the module (the fake model of the service tests). Every
question a dialog asks goes through ``confirm.ask``, which the tests replace.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QLabel

from chequeverify.gui.widgets import SignatureTile
from tests.service_fixtures import PASSWORDS, cheque_with, make_gui_team, reset_thresholds, scribble, set_thresholds
from tests.test_gui_windows import World, runner  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import chequeverify.service.passwords as pw

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pw, "SCRYPT_N", 2**10)
        root = tmp_path_factory.mktemp("gui-dialogs")
        team = make_gui_team(root)
        files = root / "files"
        files.mkdir()
        for v in (1, 2, 3):
            Image.fromarray(scribble(5, v)).save(files / f"zoe_{v}.png")
        Image.fromarray(scribble(2, 1)).save(files / "stranger.png")
        for k, (sig, decision) in enumerate(((scribble(1, 8), "ACCEPT"), (scribble(6, 1), "REJECT"))):
            cheque, box = cheque_with(sig, seed=40 + k)
            v = team.carl.verify(cheque, "ACC-1", box=box)
            team.carl.decide(v.cheque_id, decision, "" if decision == str(v.decision) else "checked by phone")
        yield World(team, files)
        team.ws.close()


@pytest.fixture
def answers(monkeypatch):
    """Replace ``confirm.ask``: ``answers.reply`` is what the user clicks; ``answers.asked`` what was asked."""
    from chequeverify.gui import confirm

    class Answers:
        reply = True
        asked: list[tuple] = []

    a = Answers()
    a.asked = []

    def ask(parent, title, question, consequence="", *, action="Yes"):
        a.asked.append((title, question, consequence, action))
        return a.reply

    monkeypatch.setattr(confirm, "ask", ask)
    return a


def registration(qtbot, world, runner, user):
    from chequeverify.gui import app as gui_app
    from chequeverify.gui.registration import RegistrationDialog
    from chequeverify.service import ROLE_RIGHTS

    session = world.team.ws.login(user, PASSWORDS[user])
    dlg = RegistrationDialog(session, runner, ROLE_RIGHTS["supervisor"], gui_app.open_settings(), user_name=user)
    qtbot.addWidget(dlg)
    dlg.resize(1120, 800)
    dlg.show()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)
    return dlg


def rejected_cheque_overridden(team, seed: int, signature=None) -> int:
    """A cheque the model REJECTs (thresholds set out of reach for the time), overridden to ACCEPT by carl."""
    set_thresholds(team, accept=0.999, reject=0.99)
    try:
        cheque, box = cheque_with(scribble(1, 9) if signature is None else signature, seed=seed)
        v = team.carl.verify(cheque, "ACC-1", box=box)
    finally:
        reset_thresholds(team)
    assert str(v.decision) == "REJECT"
    team.carl.decide(v.cheque_id, "ACCEPT", "the customer came to the counter with ID")
    return v.cheque_id


def override_row(dlg, cheque_id: int):
    return next(r for r in dlg.pending_rows if r.property("kind") == "override" and r.property("ident") == cheque_id)


# --- approvals ---------------------------------------------------------------------------------------


def test_an_override_shows_the_evidence_and_paying_it_needs_a_confirmation(qtbot, world, runner, answers, tmp_path):
    team = world.team
    cheque_id = rejected_cheque_overridden(team, seed=77)
    v = team.sam.get_cheque(cheque_id)
    sam = registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    qtbot.waitUntil(lambda: any(r.property("kind") == "override" for r in sam.pending_rows), timeout=10_000)
    row = override_row(sam, cheque_id)
    # the cheque's signature beside the specimens of the signatory it was scored against, with their scores
    assert row.evidence is not None
    query = row.evidence.findChild(SignatureTile, "OverrideQuery")
    assert query is not None and not query.image().isNull()
    scored = next(s for s in v.signatories if s.attributed) if any(s.attributed for s in v.signatories) else v.signatories[0]
    refs = row.evidence.findChildren(SignatureTile, "OverrideReference")
    assert len(refs) == len(scored.references) == 3 and all(not t.image().isNull() for t in refs)
    texts = " ".join(w.text() for w in row.findChildren(QLabel))
    assert f"Scored against <b>{scored.name}</b>" in texts and f"{scored.score:.3f}" in texts
    reasons = row.evidence.findChild(QLabel, "OverrideReasons")
    assert reasons is not None and all(r.split(":")[0] in reasons.text() for r in v.reasons)
    assert row.evidence.findChild(QLabel, "WatchlistAlert") is None
    row.grab().save(str(tmp_path / "override_row.png"))
    # no: nothing is written
    answers.reply = False
    row.note_edit.setText("ID seen")
    row.approve_button.click()
    qtbot.wait(200)
    assert not runner.busy and team.carl.get_cheque(cheque_id).final.status == "awaiting_approval"
    title, question, consequence, action = answers.asked[-1]
    assert question == "Pay this cheque against the model's REJECT?" and action == "Approve and pay"
    assert "REJECTED" in consequence and "will be paid" in consequence
    # yes: the override is final
    answers.reply = True
    override_row(sam, cheque_id).approve_button.click()
    qtbot.waitUntil(lambda: team.carl.get_cheque(cheque_id).final.status == "final", timeout=10_000)
    assert team.carl.get_cheque(cheque_id).final.reviewed_by == "sam"
    # refusing asks nothing (the model's REJECT stands)
    other = rejected_cheque_overridden(team, seed=78)
    n = len(answers.asked)
    sam.refresh_pending()
    qtbot.waitUntil(lambda: any(r.property("ident") == other for r in sam.pending_rows), timeout=10_000)
    row = override_row(sam, other)
    row.note_edit.setText("signature does not match")
    row.refuse_button.click()
    qtbot.waitUntil(lambda: team.carl.get_cheque(other).final.status == "refused", timeout=10_000)
    assert len(answers.asked) == n


def test_a_watch_list_match_is_a_red_alert_on_the_override(qtbot, world, runner, answers, monkeypatch):
    from chequeverify.service import WatchlistHit

    team = world.team
    cheque_id = rejected_cheque_overridden(team, seed=79)
    hit = WatchlistHit(signature=0, account="WL-1", holder="Known forgers", signatory="The Copyist", score=0.95,
                       accept=0.9)  # fmt: skip
    sam = registration(qtbot, world, runner, "sam")
    real = type(sam.session).get_cheque
    monkeypatch.setattr(sam.session, "get_cheque",
                        lambda cid: dataclasses.replace(real(sam.session, cid), watchlist_hits=(hit,)))  # fmt: skip
    sam.show_tab("approvals")
    sam.refresh_pending()
    qtbot.waitUntil(lambda: not runner.busy and any(r.property("ident") == cheque_id for r in sam.pending_rows),
                    timeout=10_000)  # fmt: skip
    row = override_row(sam, cheque_id)
    alert = row.evidence.findChild(QLabel, "WatchlistAlert")
    assert alert is not None and "The Copyist" in alert.text() and "WL-1" in alert.text()
    qtbot.waitUntil(lambda: alert.isVisibleTo(sam), timeout=5000)  # rows added to a shown window show queued
    answers.reply = False
    row.approve_button.click()
    assert "watch-list" in answers.asked[-1][2]
    # tidy up for the other tests: refuse it
    row.note_edit.setText("watch-list")
    row.refuse_button.click()
    qtbot.waitUntil(lambda: team.carl.get_cheque(cheque_id).final.status == "refused", timeout=10_000)


def test_an_override_whose_evidence_cannot_be_loaded_cannot_be_paid(qtbot, world, runner, answers, monkeypatch):
    from chequeverify.errors import StorageError

    team = world.team
    cheque_id = rejected_cheque_overridden(team, seed=80)
    sam = registration(qtbot, world, runner, "sam")

    def broken(cid):
        raise StorageError("The cheque's signature could not be read.")

    monkeypatch.setattr(sam.session, "get_cheque", broken)
    sam.refresh_pending()
    qtbot.waitUntil(lambda: not runner.busy and any(r.property("ident") == cheque_id for r in sam.pending_rows),
                    timeout=10_000)  # fmt: skip
    row = override_row(sam, cheque_id)
    assert not row.approve_button.isEnabled() and not row.refuse_button.isEnabled()  # refusing: a reason first
    row.note_edit.setText("evidence unreadable")
    assert row.refuse_button.isEnabled()
    assert "could not be loaded" in " ".join(w.text() for w in row.findChildren(QLabel))
    sam.review("override", cheque_id, True, "")  # even called directly: nothing is paid
    qtbot.wait(100)
    assert team.carl.get_cheque(cheque_id).final.status == "awaiting_approval"
    monkeypatch.undo()
    team.sam.refuse_override(cheque_id, "tidy up")


def test_notes_typed_in_other_rows_survive_a_review(qtbot, world, runner, answers):
    team = world.team
    team.sue.add_account("ACC-5", "Five Holder", "any one")
    team.sue.add_signatory("ACC-5", "Fay")
    refs = team.sue.add_references("ACC-5", "Fay", [scribble(7, v) for v in (1, 2, 3)])
    sam = registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    qtbot.waitUntil(lambda: sum(r.property("kind") == "reference" for r in sam.pending_rows) >= 3, timeout=10_000)
    rows = {r.property("ident"): r for r in sam.pending_rows if r.property("kind") == "reference"}
    rows[refs[1].id].note_edit.setText("compared with the mandate card")
    rows[refs[2].id].note_edit.setText("second note")
    # the placeholder is shown whole
    note = rows[refs[0].id].note_edit
    assert note.minimumWidth() >= note.fontMetrics().horizontalAdvance(note.placeholderText())
    assert note.placeholderText() == "Note (required to refuse)"
    old = set(map(id, sam.pending_rows))
    sam.review("reference", refs[0].id, True, "ok")
    qtbot.waitUntil(lambda: not runner.busy and set(map(id, sam.pending_rows)).isdisjoint(old)
                    and all(r.property("ident") != refs[0].id for r in sam.pending_rows), timeout=10_000)  # fmt: skip
    rows = {r.property("ident"): r for r in sam.pending_rows if r.property("kind") == "reference"}
    assert rows[refs[1].id].note_edit.text() == "compared with the mandate card"
    assert rows[refs[2].id].note_edit.text() == "second note"
    for r in refs[1:]:
        team.sam.approve_reference(r.id)


def test_refusing_a_reference_or_an_override_needs_a_note_as_a_settings_change_does(qtbot, world, runner, answers):
    team = world.team
    team.sue.add_account("ACC-8", "Eight Holder", "any one")
    team.sue.add_signatory("ACC-8", "Hal")
    (ref,) = team.sue.add_references("ACC-8", "Hal", [scribble(8, 1)])
    cheque_id = rejected_cheque_overridden(team, seed=81)
    sam = registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    rows = {}
    qtbot.waitUntil(lambda: rows.update({(r.property("kind"), r.property("ident")): r for r in sam.pending_rows})
                    or {("reference", ref.id), ("override", cheque_id)} <= set(rows), timeout=10_000)  # fmt: skip
    for key in (("reference", ref.id), ("override", cheque_id)):
        row = rows[key]
        # the reason is what the maker and the auditors read: the button waits for one, as for a settings change
        assert row.approve_button.isEnabled() and not row.refuse_button.isEnabled(), key
        assert "reason" in row.refuse_button.toolTip()
        row.note_edit.setText("   ")
        assert not row.refuse_button.isEnabled()
        row.note_edit.setText("not the holder's hand")
        assert row.refuse_button.isEnabled() and not row.refuse_button.toolTip()
    rows[("reference", ref.id)].refuse_button.click()
    qtbot.waitUntil(lambda: not runner.busy and all(r.property("ident") != ref.id or r.property("kind") != "reference"
                                                    for r in sam.pending_rows), timeout=10_000)  # fmt: skip
    assert ref.id not in {r.id for r in team.sam.pending_references()}
    assert team.root.audit_events(kind="reference_refused")[0].details.get("note") == "not the holder's hand"
    override_row(sam, cheque_id).refuse_button.click()
    qtbot.waitUntil(lambda: team.carl.get_cheque(cheque_id).final.status == "refused", timeout=10_000)


# --- registration ---------------------------------------------------------------------------------------


def test_specimens_can_be_left_out_and_a_flagged_one_is_out_unless_ticked_and_confirmed(qtbot, world, runner,
                                                                                      answers):  # fmt: skip
    team = world.team
    team.sue.add_account("ACC-7", "Seven Holder", "any one")
    team.sue.add_signatory("ACC-7", "Zoe")
    for r in team.sue.add_references("ACC-7", "Zoe", [world.files / f"zoe_{v}.png" for v in (1, 2, 3)]):
        team.sam.approve_reference(r.id)
    sue = registration(qtbot, world, runner, "sue")
    sue.load_account("ACC-7")
    qtbot.waitUntil(lambda: sue.detail is not None and sue.detail.account.number == "ACC-7", timeout=10_000)
    sig_id = sue.detail.signatories[0].id
    extra = [scribble(5, 4), scribble(5, 5)]
    Image.fromarray(extra[0]).save(world.files / "zoe_4.png")
    Image.fromarray(extra[1]).save(world.files / "zoe_5.png")
    files = [world.files / "zoe_4.png", world.files / "stranger.png", world.files / "zoe_5.png", world.files / "zoe_1.png"]
    sue.add_references(sig_id, files)
    qtbot.waitUntil(lambda: len(sue.verdicts) == 4 and not runner.busy, timeout=20_000)
    ok = [v.ok for v in sue.verdicts]
    flagged = [v.ok and v.warning for v in sue.verdicts]
    assert ok == [True, True, True, False] and flagged == [False, True, False, False], [v.text for v in sue.verdicts]
    checks = sue.verdict_checks
    assert checks[3] is None  # a refused one cannot be ticked
    assert [c.isChecked() for c in checks[:3]] == [True, False, True]
    assert sue.add_checked_button.text() == "Add 2 references"
    sue.grab().save(str(world.files.parent / "verdicts.png"))
    # leave one good specimen out
    checks[2].setChecked(False)
    assert sue.add_checked_button.text() == "Add 1 reference" and sue.chosen() == [0]
    # tick the flagged one: it is added only after a confirmation
    checks[1].setChecked(True)
    assert sue.add_checked_button.text() == "Add 2 references"
    answers.reply = False
    sue.add_checked()
    assert answers.asked and "stranger.png" in answers.asked[-1][1] and not runner.busy
    assert all(r.status == "active" for r in team.sue.get_account("ACC-7").signatories[0].references)
    answers.reply = True
    sue.add_checked()
    qtbot.waitUntil(lambda: not runner.busy and len(team.sue.get_account("ACC-7").signatories[0].references) == 5,
                    timeout=10_000)  # fmt: skip
    names = {r.source_name for r in team.sue.get_account("ACC-7").signatories[0].references if r.status == "pending"}
    assert names == {"zoe_4.png", "stranger.png"}


def test_signatory_dates_default_to_today_reset_after_adding_and_an_ended_one_is_questioned(qtbot, world, runner,
                                                                                          answers):  # fmt: skip
    import datetime as dt

    team = world.team
    team.sue.add_account("ACC-6", "Six Holder", "any one")
    sue = registration(qtbot, world, runner, "sue")
    sue.load_account("ACC-6")
    qtbot.waitUntil(lambda: sue.detail is not None and sue.detail.account.number == "ACC-6", timeout=10_000)
    today = QDate.currentDate()
    # no dates unless ticked; the pickers open at today
    assert sue.sig_from.date() == today and sue.sig_until.date() == today
    assert not sue.sig_from_on.isChecked() and not sue.sig_until_on.isChecked() and not sue.sig_until.isEnabled()
    assert sue.signatory_dates() == (None, None)
    # a signatory whose authority has ended: asked first; "no" writes nothing
    sue.sig_name.setText("Old Timer")
    sue.sig_until_on.setChecked(True)
    sue.sig_until.setDate(today.addDays(-3))
    answers.reply = False
    sue.add_signatory()
    assert answers.asked and "Old Timer" in answers.asked[-1][1] and "ended" in answers.asked[-1][1]
    qtbot.wait(100)
    assert team.sue.get_account("ACC-6").signatories == ()
    answers.reply = True
    sue.add_signatory()
    qtbot.waitUntil(lambda: not runner.busy and len(team.sue.get_account("ACC-6").signatories) == 1, timeout=10_000)
    old = team.sue.get_account("ACC-6").signatories[0]
    assert old.valid_until == dt.date.today() - dt.timedelta(days=3) and not old.valid_today
    # the form is empty again: the next signatory inherits no date
    qtbot.waitUntil(lambda: sue.sig_name.text() == "", timeout=5000)
    assert not sue.sig_until_on.isChecked() and sue.sig_until.date() == today and sue.signatory_dates() == (None, None)
    n = len(answers.asked)
    sue.sig_name.setText("New Person")
    sue.add_signatory()
    qtbot.waitUntil(lambda: not runner.busy and len(team.sue.get_account("ACC-6").signatories) == 2, timeout=10_000)
    new = next(s for s in team.sue.get_account("ACC-6").signatories if s.name == "New Person")
    assert new.valid_until is None and new.valid_from is None and len(answers.asked) == n  # nothing to question


# --- thresholds --------------------------------------------------------------------------------------------

ROWS = ((1, 0.95, 0.80), (3, 0.90, 0.72), (5, 0.85, 0.70))


def thresholds_dialog(qtbot, world, runner, monkeypatch, rows=ROWS):
    from chequeverify.gui.settings import ThresholdsDialog

    session = world.team.ws.login("sue", PASSWORDS["sue"])
    real = type(session).thresholds
    monkeypatch.setattr(session, "thresholds", lambda: dataclasses.replace(real(session), by_references=rows))
    dlg = ThresholdsDialog(session, runner)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.info is not None, timeout=10_000)
    return dlg


def test_thresholds_show_the_models_table_per_k_and_say_the_values_move_its_rows(qtbot, world, runner, monkeypatch,
                                                                          answers, tmp_path):  # fmt: skip
    dlg = thresholds_dialog(qtbot, world, runner, monkeypatch)
    assert dlg.info.source == "model"
    assert dlg.table_panel.isVisibleTo(dlg)
    cells = [w.text() for w in dlg.table_panel.findChildren(QLabel)]
    for k, a, r in ROWS:
        assert str(k) in cells and f"{a:.3f}" in cells and f"{r:.3f}" in cells
    assert "move every row by the same amount" in dlg.source.text()
    # the histogram draws the rows in force (bands), not the pooled pair
    assert dlg.histogram.rows == ROWS
    # the preview compares with what the model decided (per K), not with the pooled pair
    assert "what the model decided" in dlg.effect.text()
    decided = {d: sum(1 for x, y in zip(dlg.history.scores, dlg.history.decisions) if math.isfinite(x) and str(y) == d)
               for d in ("ACCEPT", "REFER", "REJECT")}  # fmt: skip
    assert dlg.in_force_zones().count("REJECT") == decided["REJECT"]
    dlg.grab().save(str(tmp_path / "thresholds.png"))
    # only adaptation toggled: asked for (it waits for a second supervisor), and the model's per-K
    # thresholds stay in force once it is approved
    dlg.adapt.setChecked(True)
    dlg.reason.setText("variable hands")
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.save()
    info = world.team.sue.thresholds()
    assert info.pending is not None and "adaptation turned on" in info.pending.summary and not answers.asked
    world.team.sam.approve_change(info.pending.id)
    info = world.team.sue.thresholds()
    assert info.source == "model" and info.adapt_per_signatory
    set_thresholds(world.team, adapt_per_signatory=False)


def test_the_thresholds_dialog_fits_a_600_px_high_screen_with_its_buttons_in_sight(qtbot, world, runner, monkeypatch,
                                                                                    tmp_path):  # fmt: skip
    dlg = thresholds_dialog(qtbot, world, runner, monkeypatch)
    assert dlg.minimumSize().height() <= 600 and dlg.minimumSizeHint().height() <= 600
    dlg.resize(980, 600)
    qtbot.waitUntil(lambda: dlg.height() == 600, timeout=2000)
    qtbot.wait(50)
    for b in (dlg.save_button, dlg.reset_button):
        assert b.isVisible()
        bottom = b.mapTo(dlg, b.rect().bottomRight())
        assert dlg.rect().contains(bottom), (b.text(), bottom, dlg.size())
    # the rest scrolls; the legend is below the plot, never over its bars
    assert dlg.scroll.widget().isAncestorOf(dlg.histogram)
    legend_top = dlg.legend.mapTo(dlg.scroll.widget(), dlg.legend.rect().topLeft()).y()
    chart_bottom = dlg.histogram.mapTo(dlg.scroll.widget(), dlg.histogram.rect().bottomLeft()).y()
    assert legend_top > chart_bottom and dlg.histogram.height() >= dlg.histogram.minimumHeight()
    dlg.grab().save(str(tmp_path / "thresholds_980x600.png"))


def test_loosening_the_thresholds_asks_and_states_the_consequence(qtbot, world, runner, monkeypatch, answers):
    dlg = thresholds_dialog(qtbot, world, runner, monkeypatch)
    scores = np.asarray(dlg.history.scores, np.float64)
    lowest = round(float(np.nanmin(scores)) - 0.01, 3)
    # every cheque accepted: lower than every row of the table
    dlg.reject_spin.setValue(lowest - 0.5)
    dlg.accept_spin.setValue(lowest)
    expected = sum(1 for s, f in zip(scores, dlg.history.final) if f is not None and str(f) == "REJECT")
    assert expected >= 1  # the module's history has a cheque a person rejected
    assert f"{expected} cheque" in dlg.effect.text() and "would now be accepted" in dlg.effect.text()
    answers.reply = False
    dlg.save()
    title, question, consequence, action = answers.asked[-1]
    assert f"{expected} cheque{'s' if expected != 1 else ''} people rejected would now be accepted" in question
    assert "any number of specimens" in consequence and "every row moves by the same amount" in consequence
    assert action == "Ask for looser thresholds" and "second supervisor" in consequence
    qtbot.wait(100)
    assert world.team.sue.thresholds().source == "model"  # nothing saved
    answers.reply = True
    dlg.reason.setText("the fake model's scale")
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.save()
    # asked for, not applied: a second supervisor approves it
    info = world.team.sue.thresholds()
    assert info.source == "model" and info.pending is not None
    world.team.sam.approve_change(info.pending.id)
    assert world.team.sue.thresholds().accept == pytest.approx(lowest)
    # stricter than the workspace pair now in force: no question
    n = len(answers.asked)
    dlg.accept_spin.setValue(lowest + 0.5)
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.save()
    assert len(answers.asked) == n
    dlg.reason.setText("back to the model's own")
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.reset()
    # the model's accept is below the pair now in force: going back waits for sam too
    info = world.team.sue.thresholds()
    assert info.source == "workspace" and info.pending is not None and "model's own" in info.pending.summary
    assert "waits for a second supervisor" in dlg.waiting.text()
    world.team.sam.approve_change(info.pending.id)
    assert world.team.sue.thresholds().source == "model"


def test_loosened_for_names_the_numbers_of_specimens_it_loosens():
    from chequeverify.gui.settings import loosened_for, specimen_ranges
    from chequeverify.service import ThresholdInfo

    info = ThresholdInfo(0.9, 0.7, "model", "m", 0.9, 0.7, False, by_references=ROWS)
    assert loosened_for(info, 0.96, 0.81) == []  # stricter than every row
    (only,) = loosened_for(info, 0.92, 0.81)
    assert only.startswith("accept 0.920 is below") and "1–2 specimens" in only
    (only,) = loosened_for(info, 0.96, 0.71)
    assert only.startswith("reject 0.710 is below") and "1–4 specimens" in only
    assert "any number of specimens" in loosened_for(info, 0.5, 0.81)[0]
    assert specimen_ranges([5], [1, 3, 5]) == "5 or more specimens"
    assert specimen_ranges([1, 5], [1, 3, 5]) == "1–2 or 5 or more specimens"
    # one pair in force (the workspace's, or a model without a table): compared with that pair
    pair = dataclasses.replace(info, source="workspace")
    assert loosened_for(pair, 0.89, 0.7) == ["accept goes down from 0.900 to 0.890"]
    assert loosened_for(dataclasses.replace(info, by_references=()), 0.9, 0.69) == ["reject goes down from 0.700 to 0.690"]


# --- identification ----------------------------------------------------------------------------------------


def test_identify_judges_each_candidate_by_its_own_accept_threshold(qtbot):
    from chequeverify.gui.identify import IdentifyDialog
    from chequeverify.service import Candidate, Identification

    blank = np.full((20, 40), 255, np.uint8)
    cands = (Candidate(1, -0.038, "WL-1", "Forgers", 1, "Copyist", True, accept=-0.143, reject=-3.168, references=5),
             Candidate(2, -7.9, "ACC-4", "Amara", 2, "Amara", False, accept=-0.143, reject=-3.168, references=5))  # fmt: skip
    ident = Identification(blank, None, cands, 10, 2, "m", accept=0.691, watchlist_hits=cands[:1])
    dlg = IdentifyDialog(ident, {"reject": -3.567})
    qtbot.addWidget(dlg)
    text = " ".join(w.text() for w in dlg.findChildren(QLabel))
    assert "-0.143 is a match" in text and "0.691" not in text
    who, bar = dlg.rows[0]
    assert bar.zone() == "accept" and "a match" in who.text()
    assert dlg.rows[1][1].zone() == "reject" and "a match" not in dlg.rows[1][0].text()
    # different thresholds per candidate: each one's shown under its name
    cands = (dataclasses.replace(cands[0], accept=0.2, watchlist=False), cands[1])
    dlg = IdentifyDialog(Identification(blank, None, cands, 10, 2, "m", accept=0.691), {"reject": -3.567})
    qtbot.addWidget(dlg)
    assert "its own accept threshold" in " ".join(w.text() for w in dlg.findChildren(QLabel))
    assert "match at ≥ 0.200" in dlg.rows[0][0].text() and "match at ≥ -0.143" in dlg.rows[1][0].text()
    assert dlg.rows[0][1].zone() == "refer"


# --- audit, users, sign-in ---------------------------------------------------------------------------------


def test_an_admins_audit_has_no_decisions_tab_and_no_error(qtbot, world, runner, tmp_path):
    from chequeverify.gui import app as gui_app
    from chequeverify.gui.audit import AuditDialog

    session = world.team.ws.login("root", PASSWORDS["root"])
    dlg = AuditDialog(session, runner, gui_app.open_settings())
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: not runner.busy and dlg.events_model.rowCount() > 0, timeout=10_000)
    assert dlg.last_error is None
    assert [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())] == ["Events"]
    assert dlg.role_note.isVisibleTo(dlg) and "supervisors only" in dlg.role_note.text()
    assert dlg.kind.isVisibleTo(dlg) and not dlg.decision.isVisibleTo(dlg)
    assert dlg.count.text().strip() == f"{dlg.events_model.rowCount()} rows"
    kinds = {dlg.events_model.item(r, 3).text() for r in range(dlg.events_model.rowCount())}
    assert "permission_denied" not in kinds  # nothing was attempted that an admin may not do
    dlg.grab().save(str(tmp_path / "admin_audit.png"))
    # a supervisor still has both
    sup = AuditDialog(world.team.ws.login("sue", PASSWORDS["sue"]), runner, gui_app.open_settings())
    qtbot.addWidget(sup)
    assert [sup.tabs.tabText(i) for i in range(sup.tabs.count())] == ["Decisions", "Events"]
    qtbot.waitUntil(lambda: not runner.busy, timeout=10_000)


def test_users_take_a_password_twice_and_say_what_they_did(qtbot, world, runner):
    from chequeverify.gui.users import UsersDialog

    team = world.team
    dlg = UsersDialog(team.ws.login("root", PASSWORDS["root"]), runner, user_name="root")
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: bool(dlg.users), timeout=10_000)
    dlg.new_name.setText("cleo")
    dlg.new_password.setText("cleo-pass-1")
    dlg.new_confirm.setText("cleo-pass-2")
    dlg.add_user()
    assert "differ" in dlg.status.text() and dlg.status.isVisibleTo(dlg) and not runner.busy
    assert "cleo" not in {u.name for u in team.root.list_users()}
    dlg.new_confirm.setText("cleo-pass-1")
    dlg.add_user()
    qtbot.waitUntil(lambda: "added" in dlg.status.text(), timeout=10_000)
    assert dlg.status.text() == "✓  User cleo added as clerk: they can sign in now."
    assert dlg.new_password.text() == dlg.new_confirm.text() == ""
    team.ws.login("cleo", "cleo-pass-1")
    # set a password: typed twice, in a small dialog
    qtbot.waitUntil(lambda: any(u.name == "cleo" for u in dlg.users), timeout=10_000)
    dlg.table.selectRow(next(i for i, u in enumerate(dlg.users) if u.name == "cleo"))
    dlg.set_password()
    pd = dlg.password_dialog
    assert pd is not None and pd.isVisible()
    pd.password.setText("new-cleo-pass")
    pd.confirm.setText("new-cleo-pasS")
    assert not pd.ok.isEnabled() and "differ" in pd.message.text()
    pd.confirm.setText("new-cleo-pass")
    assert pd.ok.isEnabled()
    pd.ok.click()
    qtbot.waitUntil(lambda: "Password of cleo set" in dlg.status.text(), timeout=10_000)
    team.ws.login("cleo", "new-cleo-pass")


def test_sign_in_shows_the_message_and_its_hint_in_full(qtbot, world, runner, tmp_path):
    from chequeverify.gui.login import LoginDialog

    dlg = LoginDialog(world.team.path, runner, workspace=world.team.ws)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.ok.isEnabled(), timeout=5000)
    dlg.user.setText("nobody")
    dlg.password.setText("wrong password")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.ok.isEnabled(), timeout=5000)
    text = dlg.message.text()
    assert "Wrong user name or password, or the user is disabled or locked." in text
    assert "failed logins in a row" in text  # the hint about the lock-out rule
    assert dlg.message.wordWrap()
    # the whole message fits: the label has the height its wrapped text needs
    qtbot.wait(50)
    assert dlg.message.height() >= dlg.message.heightForWidth(dlg.message.width())
    dlg.grab().save(str(tmp_path / "login.png"))


def test_a_confirmation_names_the_action_and_defaults_to_cancel(qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from chequeverify.gui import confirm

    seen = {}

    def answer(click_action: bool):
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen["default"] = box.defaultButton().text()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        seen["text"] = box.text()
        target = next(b for b in box.buttons() if b.text() == "Approve and pay") if click_action else box.defaultButton()
        target.click()

    for click, expected in ((False, False), (True, True)):
        QTimer.singleShot(100, lambda c=click: answer(c))
        got = confirm.ask(None, "Approve the override", "Pay this cheque against the model's REJECT?", "It will be paid.",
                          action="Approve and pay")  # fmt: skip
        assert got is expected
        assert seen["default"] == "Cancel" and seen["buttons"] == ["Approve and pay", "Cancel"]
        assert "Pay this cheque against the model's REJECT?" in seen["text"]
