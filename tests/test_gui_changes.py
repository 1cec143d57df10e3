"""Maker-checker for the bank's risk settings in the GUI: looser thresholds, a mandate of an account in use and an
account made active again wait for a second supervisor, who approves them under "Pending approvals".

pytest-qt, offscreen; one small workspace for the module (the fake model of the service tests). Every question a
dialog asks goes through ``confirm.ask``, which the tests replace (``answers``).
"""

from __future__ import annotations

import pytest

from tests.service_fixtures import PASSWORDS, cheque_with, make_gui_team, scribble, set_mandate
from tests.test_gui_dialogs import answers, registration  # noqa: F401 (a fixture)
from tests.test_gui_windows import World, runner  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import chequeverify.service.passwords as pw

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pw, "SCRYPT_N", 2**10)
        root = tmp_path_factory.mktemp("gui-changes")
        team = make_gui_team(root)
        for k, sig in enumerate((scribble(1, 8), scribble(6, 1))):
            cheque, box = cheque_with(sig, seed=60 + k)
            team.carl.verify(cheque, "ACC-1", box=box)
        yield World(team, root)
        team.ws.close()


@pytest.fixture
def shots(tmp_path_factory):
    """Where the tests leave screenshots to look at (CV_SHOTS=folder keeps them)."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("CV_SHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def nothing_left_waiting(world):
    """Each test starts and ends with no settings change waiting (sam refuses what a test left)."""
    yield
    for c in world.team.sam.pending_changes():
        world.team.sam.refuse_change(c.id, "tidy up")


def thresholds_dialog(qtbot, world, runner, user="sue"):
    from chequeverify.gui.settings import ThresholdsDialog

    session = world.team.ws.login(user, PASSWORDS[user])
    dlg = ThresholdsDialog(session, runner)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: dlg.info is not None and not runner.busy, timeout=10_000)
    return dlg


def change_rows(dlg):
    return {r.property("ident"): r for r in dlg.pending_rows if r.property("kind") == "change"}


def row_text(row) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(w.text() for w in row.findChildren(QLabel))


def reload_pending(qtbot, dlg, runner):
    old = set(map(id, dlg.pending_rows))
    dlg.refresh_pending()
    qtbot.waitUntil(lambda: not runner.busy and (not old or set(map(id, dlg.pending_rows)).isdisjoint(old)),
                    timeout=10_000)  # fmt: skip


# --- thresholds ---------------------------------------------------------------------------------------------


def test_looser_thresholds_wait_and_a_second_supervisor_approves_them(qtbot, world, runner, answers, shots):
    team = world.team
    before = team.sue.thresholds()
    assert before.pending is None
    dlg = thresholds_dialog(qtbot, world, runner)
    assert not dlg.waiting.isVisibleTo(dlg) and not dlg.outcome.isVisibleTo(dlg)
    dlg.reject_spin.setValue(round(before.reject - 0.2, 3))  # a lower reject: looser
    dlg.reason.setText("too many genuine cheques rejected in March")
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.save()
    assert answers.asked and answers.asked[-1][3] == "Ask for looser thresholds"
    info = team.sue.thresholds()
    # nothing changed: the change waits, with its reason
    assert (info.accept, info.reject, info.source) == (before.accept, before.reject, before.source)
    assert info.pending is not None and info.pending.requested_by == "sue"
    assert info.pending.reason == "too many genuine cheques rejected in March"
    # said plainly, with the summary; never "saved"
    text = dlg.waiting.text()
    assert dlg.waiting.isVisibleTo(dlg) and "waits for a second supervisor" in text and "Saved" not in text
    assert "Change the thresholds" in text and "asked by sue" in text.lower()
    assert not dlg.outcome.isVisibleTo(dlg)
    # the dialog shows what is in force
    assert dlg.proposed() == pytest.approx((before.accept, before.reject))
    assert f"reject {before.reject:.3f}" in text  # in force until then
    assert not dlg.reason.text() and not dlg.save_button.isEnabled()
    dlg.resize(800, 860)
    dlg.grab().save(str(shots / "thresholds-waiting.png"))

    # opened again: the waiting change is shown at once, with who asked and when
    again = thresholds_dialog(qtbot, world, runner, "sam")
    assert again.waiting.isVisibleTo(again) and "Waiting for a second supervisor" in again.waiting.text()
    assert "sue" in again.waiting.text() and info.pending.requested_at[:10] in again.waiting.text()
    assert "too many genuine cheques" in again.waiting.text()

    # the maker sees only Withdraw
    sue = registration(qtbot, world, runner, "sue")
    sue.show_tab("approvals")
    row = change_rows(sue)[info.pending.id]
    assert not row.approve_button.isVisible() and row.refuse_button.text() == "Withdraw"
    assert "you asked for this" in row_text(row).lower() and "another supervisor must approve" in row_text(row)
    assert not row.refuse_button.isEnabled()  # a reason first
    assert "Pending approvals (1)" in sue.tabs.tabText(1)

    # the second supervisor: refusing needs a reason; approving asks, stating the change
    sam = registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    assert "Pending approvals (1)" in sam.tabs.tabText(1)
    row = change_rows(sam)[info.pending.id]
    assert row.approve_button.isVisible() and row.approve_button.isEnabled()
    assert not row.refuse_button.isEnabled()
    row.note_edit.setText("checked the March figures")
    assert row.refuse_button.isEnabled()
    sam.grab().save(str(shots / "approvals-settings.png"))
    answers.reply = False
    row.approve_button.click()
    title, question, consequence, action = answers.asked[-1]
    assert info.pending.summary in consequence and "in force" in consequence and action == "Approve and apply"
    qtbot.wait(100)
    assert team.sue.thresholds().pending is not None  # cancelled: still waiting
    answers.reply = True
    row.approve_button.click()
    qtbot.waitUntil(lambda: not runner.busy and info.pending.id not in change_rows(sam), timeout=10_000)
    now = team.sue.thresholds()
    assert now.pending is None and now.reject == pytest.approx(before.reject - 0.2) and now.source == "workspace"
    assert "Pending approvals" == sam.tabs.tabText(1)
    # back to the model's pair (stricter: at once)
    team.sue.reset_thresholds(reason="back to the model's own")
    assert team.sue.thresholds().source == "model"


def test_raising_only_the_accept_threshold_over_rows_per_k_applies_at_once(qtbot, runner, answers, tmp_path, shots):
    from chequeverify.gui.settings import ThresholdsDialog
    from tests.service_fixtures import FakeModel

    # the model's rows per number of references; its pooled reject (0.7) is below the rows' from K = 3 on
    model = FakeModel(accept=0.9, reject=0.7, by_references={1: (0.95, 0.80), 3: (0.90, 0.72), 8: (0.85, 0.75)})
    team = make_gui_team(tmp_path, model)
    try:
        cheque, box = cheque_with(scribble(1, 8), seed=90)
        team.carl.verify(cheque, "ACC-1", box=box)
        dlg = ThresholdsDialog(team.ws.login("sue", PASSWORDS["sue"]), runner)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitUntil(lambda: dlg.info is not None and not runner.busy, timeout=10_000)
        # the dialog starts from the rows in force, not from the pooled pair
        assert dlg.proposed_rows() == ((1, 0.95, 0.80), (3, 0.90, 0.72), (8, 0.85, 0.75))
        dlg.accept_spin.setValue(dlg.accept_spin.value() + 0.02)
        # only the accepts move; every reject stays exactly as it is
        assert [r[1] for r in dlg.proposed_rows()] == pytest.approx([0.97, 0.92, 0.87])
        assert [r[2] for r in dlg.proposed_rows()] == [0.80, 0.72, 0.75]
        assert dlg._cells[(8, 1)].text() == "0.850 → 0.870" and dlg._cells[(8, 2)].text() == "0.750"
        dlg.resize(800, 900)
        qtbot.wait(50)  # the table's columns widen for the arrows
        dlg.grab().save(str(shots / "thresholds-rows-moved.png"))
        with qtbot.waitSignal(dlg.saved, timeout=10_000):
            dlg.save()
        # stricter for every K: no question, in force at once, nothing waits for a second supervisor
        assert not answers.asked
        info = team.sue.thresholds()
        assert info.pending is None and team.sam.pending_changes() == []
        assert info.source == "workspace"
        assert info.for_references(1) == pytest.approx((0.97, 0.80)) and info.for_references(9) == pytest.approx((0.87, 0.75))
        assert "Saved and in force" in dlg.outcome.text() and not dlg.waiting.isVisibleTo(dlg)
        # opened again from the workspace's rows now in force
        assert dlg.proposed_rows() == info.workspace_by_references and "the workspace's" in dlg.source.text()
        qtbot.wait(50)
        dlg.grab().save(str(shots / "thresholds-rows-saved.png"))
        # lowering a reject is looser: asked, and it waits
        dlg.reject_spin.setValue(dlg.reject_spin.value() - 0.01)
        dlg.reason.setText("too many referrals")
        with qtbot.waitSignal(dlg.saved, timeout=10_000):
            dlg.save()
        assert answers.asked[-1][3] == "Ask for looser thresholds" and "reject goes down" in answers.asked[-1][2]
        waiting = team.sue.thresholds().pending
        assert waiting is not None and "reject 0.750 → 0.740" in waiting.summary
        assert team.sue.thresholds().for_references(9) == pytest.approx((0.87, 0.75))
    finally:
        team.ws.close()


def test_the_checker_of_a_thresholds_change_sees_its_effect_on_recent_cheques(qtbot, world, runner, answers, shots):
    team = world.team
    scores = [float(x) for x in team.sam.recent_scores().scores]
    change = team.sue.set_thresholds(accept=min(scores) - 0.01, reject=min(scores) - 0.02,
                                     reason="accept everything for the demo").pending  # fmt: skip
    effect = team.sam.thresholds_change_effect(change.id)
    assert effect.cheques == len(scores) and effect.after["ACCEPT"] == len(scores) and effect.now_accepted >= 1
    sam = registration(qtbot, world, runner, "sam")
    sam.show_tab("approvals")
    row = change_rows(sam)[change.id]
    # what the maker's dialog previewed, computed again from the change: the counts after it, and their change
    text = row_text(row)
    assert f"Of the last {effect.cheques} cheques, with this change" in text
    assert f"{effect.after['ACCEPT']} accept</span>" in text and f"(+{effect.now_accepted})" in text
    assert "changes against the thresholds in force" in text
    row.resize(900, row.sizeHint().height())
    row.grab().save(str(shots / "approvals-thresholds-effect.png"))
    answers.reply = False
    row.approve_button.click()
    assert f"{effect.now_accepted} would now be accepted without a person looking" in answers.asked[-1][2]


def test_the_maker_withdraws_a_waiting_change_with_a_reason(qtbot, world, runner, answers):
    team = world.team
    before = team.sue.thresholds()
    change = team.sue.set_thresholds(before.accept - 0.1, before.reject - 0.1, reason="quiet month").pending
    assert change is not None
    sue = registration(qtbot, world, runner, "sue")
    sue.show_tab("approvals")
    row = change_rows(sue)[change.id]
    assert row.note_edit.placeholderText() == "Reason (required to withdraw)"
    row.note_edit.setText("asked by mistake")
    row.refuse_button.click()
    qtbot.waitUntil(lambda: not runner.busy and change.id not in change_rows(sue), timeout=10_000)
    assert not answers.asked  # withdrawing one's own request is not questioned
    assert team.sue.thresholds().pending is None
    assert (team.sue.thresholds().accept, team.sue.thresholds().reject) == (before.accept, before.reject)


def test_a_note_typed_in_a_change_row_survives_a_rebuild(qtbot, world, runner):
    team = world.team
    change = team.sue.set_thresholds(adapt_per_signatory=True, reason="variable hands").pending  # either way: waits
    assert change is not None and "adaptation turned on" in change.summary
    sam = registration(qtbot, world, runner, "sam")
    change_rows(sam)[change.id].note_edit.setText("asked the risk desk")
    reload_pending(qtbot, sam, runner)
    assert change_rows(sam)[change.id].note_edit.text() == "asked the risk desk"
    team.sam.approve_change(change.id)


def test_the_approvals_count_includes_settings_changes(world):
    from chequeverify.gui import jobs

    team = world.team
    n = jobs.pending_approvals(team.sam, True)
    before = team.sue.thresholds()
    change = team.sue.set_thresholds(before.accept, before.reject - 0.05, reason="quiet month").pending
    assert change is not None
    assert jobs.pending_approvals(team.sam, True) == n + 1


# --- accounts -----------------------------------------------------------------------------------------------


def select_account(qtbot, dlg, runner, number: str) -> None:
    dlg.load_account(number)
    qtbot.waitUntil(lambda: not runner.busy and dlg.detail is not None and dlg.detail.account.number == number,
                    timeout=10_000)  # fmt: skip


def test_a_mandate_change_on_an_account_in_use_waits_and_is_approved(qtbot, world, runner, answers, shots):
    team = world.team
    assert team.sue.get_account("ACC-1").account.mandate == "any one"
    sue = registration(qtbot, world, runner, "sue")
    select_account(qtbot, sue, runner, "ACC-1")
    assert not sue.account_waiting.isVisibleTo(sue)
    sue.mandate.setEditText("all")
    sue.change_reason.setText("the holder's letter of 3 March")
    sue.save_account()
    qtbot.waitUntil(lambda: not runner.busy and sue.account_waiting.isVisibleTo(sue), timeout=10_000)
    text = sue.account_waiting.text()
    assert "waits for a second supervisor" in text and "Not changed yet" in text
    assert "Mandate of ACC-1" in text and not sue.account_outcome.isVisibleTo(sue)
    # what is in force stays in the form; the waiting change is listed under it, with its reason
    assert sue.mandate.currentText() == "any one"
    assert team.sue.get_account("ACC-1").account.mandate == "any one"
    assert "Mandate of ACC-1" in sue.account_waiting.text() and "3 March" in sue.account_waiting.text()
    assert not sue.change_reason.text()
    sue.grab().save(str(shots / "account-waiting.png"))
    (change,) = [c for c in team.sue.pending_changes() if c.account == "ACC-1"]
    assert change.kind == "mandate" and change.reason == "the holder's letter of 3 March"

    # shown again when the account is opened (another supervisor's view)
    sam = registration(qtbot, world, runner, "sam")
    select_account(qtbot, sam, runner, "ACC-1")
    assert sam.account_waiting.isVisibleTo(sam) and "asked by sue" in sam.account_waiting.text()
    assert "Not changed yet" not in sam.account_waiting.text()
    sam.show_tab("approvals")
    row = change_rows(sam)[change.id]
    assert "Mandate of ACC-1" in row_text(row)
    row.approve_button.click()
    assert "Mandate of ACC-1" in answers.asked[-1][2] and "ACC-1" in answers.asked[-1][2]
    qtbot.waitUntil(lambda: not runner.busy and change.id not in change_rows(sam), timeout=10_000)
    assert team.sue.get_account("ACC-1").account.mandate == "all"
    # sam's form follows (the account shown is reloaded after a review)
    qtbot.waitUntil(lambda: sam.mandate.currentText() == "all" and not sam.account_waiting.isVisibleTo(sam),
                    timeout=10_000)  # fmt: skip
    set_mandate(team, "ACC-1", "any one")


def account_items(dlg) -> dict:
    from PySide6.QtCore import Qt

    items = (dlg.account_list.item(i) for i in range(dlg.account_list.count()))
    return {it.data(Qt.ItemDataRole.UserRole): it for it in items}


def test_the_account_list_marks_an_account_with_a_change_waiting(qtbot, world, runner, answers, shots):
    team = world.team
    team.sue.add_account("ACC-2", "Two Holder", "any one")
    (change,) = team.sue.set_mandate("ACC-1", "all", reason="the holder's letter of 3 March").pending_changes
    sam = registration(qtbot, world, runner, "sam")
    qtbot.waitUntil(lambda: {"ACC-1", "ACC-2"} <= set(account_items(sam)), timeout=10_000)
    item = account_items(sam)["ACC-1"]
    # seen in the list, before the account is opened: what waits, who asked
    assert "mandate change waiting" in item.text().splitlines()[0]
    assert "Mandate of ACC-1: 'any one' → 'all'" in item.toolTip() and "asked by sue" in item.toolTip()
    assert item.background().color().name() == "#fdf1dc"
    other = account_items(sam)["ACC-2"]
    assert "waiting" not in other.text() and not other.toolTip()
    sam.account_list.parentWidget().grab().save(str(shots / "account-list-marked.png"))
    sam.account_list.setCurrentItem(item)
    qtbot.waitUntil(lambda: not runner.busy and sam.detail is not None, timeout=10_000)
    sam.grab().save(str(shots / "account-list-waiting.png"))
    # approved: the mark goes
    sam.show_tab("approvals")
    change_rows(sam)[change.id].approve_button.click()
    qtbot.waitUntil(lambda: not runner.busy and change.id not in change_rows(sam)
                    and "waiting" not in account_items(sam)["ACC-1"].text(), timeout=10_000)  # fmt: skip
    assert not account_items(sam)["ACC-1"].toolTip()
    set_mandate(team, "ACC-1", "any one")


def test_freezing_applies_at_once_and_making_active_again_waits(qtbot, world, runner):
    team = world.team
    sue = registration(qtbot, world, runner, "sue")
    select_account(qtbot, sue, runner, "ACC-1")
    sue.status.setCurrentText("frozen")
    sue.save_account()
    qtbot.waitUntil(lambda: not runner.busy and sue.detail.account.status == "frozen", timeout=10_000)
    assert "Saved and in force" in sue.account_outcome.text() and not sue.account_waiting.isVisibleTo(sue)
    sue.status.setCurrentText("active")
    sue.change_reason.setText("the customer settled the arrears")
    sue.save_account()
    qtbot.waitUntil(lambda: not runner.busy and sue.account_waiting.isVisibleTo(sue), timeout=10_000)
    assert "waits for a second supervisor" in sue.account_waiting.text()
    assert sue.status.currentText() == "frozen" and team.sue.get_account("ACC-1").account.status == "frozen"
    (change,) = [c for c in team.sam.pending_changes() if c.account == "ACC-1"]
    assert change.kind == "account_status"
    team.sam.approve_change(change.id)
    assert team.sue.get_account("ACC-1").account.status == "active"


def test_a_new_account_has_no_reason_field_and_applies_at_once(qtbot, world, runner):
    sue = registration(qtbot, world, runner, "sue")
    assert not sue.change_reason.isVisibleTo(sue)
    sue.number.setText("ACC-7")
    sue.holder.setText("Seven Holder")
    sue.save_account()
    qtbot.waitUntil(lambda: not runner.busy and sue.detail is not None, timeout=10_000)
    assert sue.change_reason.isVisibleTo(sue)
    # no references yet: a mandate change applies at once
    sue.mandate.setEditText("all")
    sue.save_account()
    qtbot.waitUntil(lambda: not runner.busy and sue.detail.account.mandate == "all", timeout=10_000)
    assert "Saved and in force" in sue.account_outcome.text() and not sue.account_waiting.isVisibleTo(sue)
