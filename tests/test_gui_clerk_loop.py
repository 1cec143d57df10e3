"""The clerk's loop in the main window (pytest-qt, offscreen): what is on screen always belongs to the
cheque shown, and only a decision a person made reads as one.

The workspace and the helpers are test_gui_main's (two accounts, four scans, the service tests' fake
model): ACC-1_0001 genuine (model ACCEPT), ACC-1_0002 another hand (REFER or REJECT), unknown_0003
(no account), ACC-2_0004 a truncated scan (error).
"""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.test_gui_main import LocatorMisses, item_named, load_folder, open_window, press, world  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def key(qtbot, w, k, modifiers=Qt.KeyboardModifier.ControlModifier, widget=None) -> None:
    """A key as the clerk types it, with the window active (window shortcuts need it)."""
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    qtbot.keyClick(widget or w, k, modifiers)


def decision_keys_enabled(w) -> bool:
    buttons = [b.isEnabled() for b in w.results.buttons.values()]
    actions = [a.isEnabled() for a in (w.act_accept, w.act_refer, w.act_reject)]
    assert len(set(buttons + actions)) == 1, (buttons, actions)  # the buttons and their shortcuts agree
    return buttons[0]


# --- 1. the reason field is one cheque's --------------------------------------------------------------------


def test_a_reason_typed_for_one_cheque_never_decides_another(qtbot, world):
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine, other = item_named(w, "ACC-1_0001.png"), item_named(w, "ACC-1_0002.png")
    assert str(other.verification.decision) in ("REFER", "REJECT")
    w.select_item(genuine)
    w.results.reason.setText("signature compared with the card: fine")
    press(qtbot, w, Qt.Key.Key_Down)  # next cheque, without deciding
    assert w.current is other
    assert w.results.reason.text() == ""  # the other cheque's reason is not carried over
    # Accept there is an override of the model: it needs a reason typed for this cheque, and has none
    press(qtbot, w, Qt.Key.Key_1)
    qtbot.wait(50)
    assert not other.decided and not w.runner.running("decide")
    assert "write a reason" in w.results.action_status.text()
    # back on the first cheque its draft is there again, for it alone
    press(qtbot, w, Qt.Key.Key_Up)
    assert w.current is genuine and w.results.reason.text() == "signature compared with the card: fine"
    w.select_item(other)
    w.results.reason.setText("customer called in person")
    press(qtbot, w, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: other.decided, timeout=10_000)
    assert other.verification.final.reason == "customer called in person"
    assert other.verification.final.is_override and other.reason_draft == ""


# --- 2 and 6. a cheque in error shows its own error, whole, and nothing of the cheque before -----------------


def test_a_cheque_in_error_shows_its_whole_message_and_nothing_of_the_previous_cheque(qtbot, world):
    from chequeverify.errors import UnreadableScan

    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine, broken = item_named(w, "ACC-1_0001.png"), item_named(w, "ACC-2_0004.png")
    w.select_item(genuine)
    assert w.results.cards and not w.results.query.image().isNull() and decision_keys_enabled(w)
    w.select_item(broken)
    r = w.results
    assert r.badge.text() == "ERROR" and r.verification is None and r.evidence_of is None
    # nothing of the verified cheque is left: signature, its note, signatories, mandate, the model's status line
    assert r.query.image().isNull() and r.query_note.text() == "" and r.cards == []
    assert r.mandate.text() == "" and r.action_status.text() == "" and not r.watchlist_alert.isVisible()
    assert str(genuine.verification.cheque_id) not in r.query_note.text()
    assert not decision_keys_enabled(w)  # nothing to decide
    assert r.error_text.isVisible() and r.error_text.wordWrap() and broken.error.message in r.error_text.text()
    # the whole message and what to do, word-wrapped in the panel (not cut to the badge's one line)
    err = UnreadableScan("ACC-2_0004.png: the file is incomplete (truncated); it was probably not fully copied "
                         "or saved.", hint="Copy or scan the cheque again.")  # fmt: skip
    broken.error = err
    w.model.changed(broken)
    w._show_item(broken)
    shown = r.error_text.text()
    assert "it was probably not fully copied or saved." in shown and "Copy or scan the cheque again." in shown
    # the queue row: the short form (no hint, no file name) and the whole text in its tooltip
    short = broken.short_error()
    assert short.startswith("The file is incomplete") and err.hint not in short
    index = w.model.index(w.model.row_of(broken), 1)
    assert str(err) in w.model.data(index, Qt.ItemDataRole.ToolTipRole)
    # and back: the verified cheque's evidence again, the error gone
    w.select_item(genuine)
    assert not r.error_text.isVisible() and r.cards and decision_keys_enabled(w)


def test_a_cheque_waiting_in_the_queue_shows_nothing_of_the_previous_one(qtbot, world):
    w = open_window(qtbot, world, "carl")
    w.add_paths([world.folder / "ACC-1_0001.png"])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1 and w.queue_idle() and not w.runner.busy, timeout=20_000)
    w.toggle_pause()
    w.add_paths([world.folder / "ACC-1_0002.png"])
    qtbot.waitUntil(lambda: w.model.rowCount() == 2, timeout=10_000)
    waiting = w.model.item(1)
    assert not waiting.processed
    w.select_item(waiting)
    assert w.results.query.image().isNull() and w.results.cards == [] and w.results.action_status.text() == ""
    assert not decision_keys_enabled(w)


# --- 3. no decision on a result being replaced ---------------------------------------------------------------


def test_the_decision_keys_wait_for_a_running_verification(qtbot, world):
    w = open_window(qtbot, world, "carl")
    w.add_paths([world.folder / "ACC-1_0001.png"])
    qtbot.waitUntil(lambda: w.model.rowCount() == 1 and w.queue_idle() and not w.runner.busy, timeout=20_000)
    it = w.model.item(0)
    first = it.verification
    assert decision_keys_enabled(w)
    w.reverify()  # F5 (a corrected box or a changed amount take the same path)
    assert it.busy and not decision_keys_enabled(w)
    assert "new result" in w.results.action_status.text()
    assert w.results.cards, "the cheque's previous evidence stays in view while it is verified again"
    w.results.request("ACCEPT")  # a click that got through anyway acts on nothing
    w._request("ACCEPT")
    assert "being verified" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not it.busy and it.verification is not first, timeout=20_000)
    assert not it.decided and decision_keys_enabled(w) and w.results.verification is it.verification
    # the amount: the same
    w.picker.amount.setText("12.00")
    w.picker.amount.editingFinished.emit()
    assert it.busy and not decision_keys_enabled(w)
    qtbot.waitUntil(lambda: not it.busy, timeout=20_000)
    assert decision_keys_enabled(w)


# --- 4. an unsigned cheque's page comes back after the cache let it go ------------------------------------------


def test_the_page_of_a_cheque_in_error_is_read_again_after_the_cache_drops_it(qtbot, world, monkeypatch):
    from chequeverify.gui import main_window

    monkeypatch.setattr(main_window, "IMAGE_CACHE", 1)  # one page kept: the other is dropped at once
    w = open_window(qtbot, world, "carl")
    session = w.session
    w.session = LocatorMisses(session)
    w.add_paths([world.folder / "ACC-1_0001.png", world.folder / "ACC-1_0002.png"])
    qtbot.waitUntil(lambda: w.model.rowCount() == 2 and w.queue_idle() and not w.runner.busy, timeout=20_000)
    first, second = w.model.items()
    assert first.state == second.state == "error"
    w.select_item(second)
    qtbot.waitUntil(lambda: w.viewer.has_image() and not w.runner.busy, timeout=10_000)
    assert first.path not in w._images  # dropped from the cache
    w.select_item(first)
    qtbot.waitUntil(lambda: w.viewer.has_image(), timeout=10_000)
    assert w.viewer.property("path") == str(first.path) and w.viewer.drawing
    assert "draw a box" in w.box_hint.text()
    w.session = session


# --- 5. a proposal, a decision and an approval awaited never look alike ------------------------------------------


def test_the_queue_tells_a_proposal_from_a_decision_and_an_awaited_approval(qtbot, world):
    from chequeverify.gui.queue import StateDelegate
    from chequeverify.service import ClerkDecision, Decision

    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine, other = item_named(w, "ACC-1_0001.png"), item_named(w, "ACC-1_0002.png")

    def chip(it):
        return w.model.data(w.model.index(w.model.row_of(it), 0), Qt.ItemDataRole.DisplayRole)

    # the model's ACCEPT is a proposal: it does not read "Accepted"
    assert genuine.state == "accepted" and genuine.status == "to_decide" and chip(genuine) == "To decide"
    text, caption, _, kind = StateDelegate.describe(genuine)
    assert (text, caption, kind) == ("To decide", "model: accept", "proposal")
    w.select_item(genuine)
    press(qtbot, w, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: genuine.decided and not genuine.busy, timeout=10_000)
    assert genuine.status == "accepted" and chip(genuine) == "Accepted"
    text, caption, _, kind = StateDelegate.describe(genuine)
    assert kind == "final" and caption == "by carl"
    # an override to ACCEPT waiting for a supervisor reads neither as accepted nor as rejected
    v = other.verification
    waiting = ClerkDecision(id=0, cheque_id=v.cheque_id, decision=Decision.ACCEPT, reason="customer in branch",
                            decided_by="carl", decided_at="2026-01-01T00:00:00Z", status="awaiting_approval",
                            is_override=True)  # fmt: skip
    other.verification = dataclasses.replace(v, decision=Decision.REJECT, final=waiting)
    w.model.changed(other)
    w._update_progress()
    assert other.status == "awaiting" and chip(other) == "Awaiting approval"
    text, caption, _, kind = StateDelegate.describe(other)
    assert (text, caption, kind) == ("Awaiting", "approval: accept", "awaiting")
    # the counts and the filter keep the three apart
    counts = w.model.counts()
    assert (counts["to_decide"], counts["accepted"], counts["awaiting"], counts["rejected"]) == (0, 1, 1, 0)
    labels = [w.state_filter.itemText(i) for i in range(w.state_filter.count())]
    assert "Accepted (1)" in labels and "Awaiting approval (1)" in labels and "To decide (0)" in labels
    assert "1 awaiting approval" in w.progress_label.text() and "1 accepted" in w.progress_label.text()
    w.state_filter.setCurrentIndex(w.state_filter.findData("awaiting"))
    assert w.proxy.rowCount() == 1
    w.state_filter.setCurrentIndex(0)


def test_the_queue_chips_are_painted_apart(qtbot, world):
    """The chips as pixels: a proposal is outlined on white, a decision is filled in its colour."""
    from PySide6.QtGui import QColor

    from chequeverify.gui import theme

    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine = item_named(w, "ACC-1_0001.png")

    def green_share(it) -> float:
        """The share of the chip's pixels in the ACCEPT green."""
        w.select_item(item_named(w, "unknown_0003.png"))  # the row itself not highlighted
        rect = w.table.visualRect(w.proxy.mapFromSource(w.model.index(w.model.row_of(it), 0)))
        img = w.table.viewport().grab().toImage()
        dpr = img.devicePixelRatio()
        green = QColor(theme.ACCEPT)
        top = rect.center().y() - 15  # a chip with a caption under it
        hits = total = 0
        for x in range(rect.left() + 8, rect.left() + 6 + 70):
            for y in range(top + 2, top + 16):
                c = QColor(img.pixel(int(x * dpr), int(y * dpr)))
                total += 1
                hits += abs(c.red() - green.red()) + abs(c.green() - green.green()) + abs(c.blue() - green.blue()) < 60
        return hits / total

    before = green_share(genuine)
    w.select_item(genuine)
    press(qtbot, w, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: genuine.decided and not genuine.busy, timeout=10_000)
    after = green_share(genuine)
    assert before < 0.15, before  # the model's proposal: outlined, white inside
    assert after > 0.5, after  # a person's decision: filled in the decision's colour


# --- 7. the watch-list ------------------------------------------------------------------------------------------


def test_a_watch_list_match_is_a_red_alert_above_the_decision_and_a_mark_in_the_queue(qtbot, world):
    from chequeverify.gui import theme
    from chequeverify.service import WatchlistHit

    w = open_window(qtbot, world, "carl")
    session = w.session
    hit = WatchlistHit(signature=0, account="WL-1", holder="Known forgers", signatory="F. Orger", score=0.912,
                       accept=0.5)  # fmt: skip

    class Watchlisted:  # the service's verification, with one match on the watch-list
        def __getattr__(self, name):
            return getattr(session, name)

        def verify(self, source, account, **kw):
            v = session.verify(source, account, **kw)
            return dataclasses.replace(v, watchlist_hits=(hit,)) if "0001" in str(source) else v

    w.session = Watchlisted()
    w.add_paths([world.folder / "ACC-1_0001.png", world.folder / "ACC-1_0002.png"])
    qtbot.waitUntil(lambda: w.model.rowCount() == 2 and w.queue_idle() and not w.runner.busy, timeout=20_000)
    flagged, plain = w.model.items()
    w.select_item(flagged)
    alert = w.results.watchlist_alert
    assert alert.isVisible()
    assert "Matches a known forger on the watch-list: Known forgers (WL-1), score 0.912 ≥ accept 0.500" in alert.text()
    assert alert.mapTo(w, alert.rect().topLeft()).y() < w.results.badge.mapTo(w, w.results.badge.rect().topLeft()).y()
    assert theme.REJECT in alert.styleSheet()  # red, not the quiet colours of the rest of the panel
    tip = w.model.data(w.model.index(0, 1), Qt.ItemDataRole.ToolTipRole)
    assert "known forger" in tip and "WL-1" in tip
    assert flagged.watchlist_hits == (hit,) and plain.watchlist_hits == ()
    w.select_item(plain)
    assert not alert.isVisible() and alert.text() == ""
    w.session = session


def test_a_verification_without_the_watch_list_field_shows_no_alert(qtbot, world):
    """Defensive: a Verification from before the field existed (or a stand-in without it) shows no alert."""
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine = item_named(w, "ACC-1_0001.png")
    v = genuine.verification

    class Older:  # every attribute of the real one but watchlist_hits
        def __getattr__(self, name):
            if name == "watchlist_hits":
                raise AttributeError(name)
            return getattr(v, name)

    w.results.show_verification(Older(), {"query": genuine.signature})
    assert not w.results.watchlist_alert.isVisible()
    genuine.verification = Older()
    assert genuine.watchlist_hits == ()


# --- 8. the keyboard ------------------------------------------------------------------------------------------


def test_enter_in_the_reason_field_confirms_only_an_unambiguous_choice(qtbot, world):
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    other = item_named(w, "ACC-1_0002.png")
    w.select_item(other)
    model = str(other.verification.decision)
    # Enter with nothing chosen: no decision, the status line says what to press
    w.results.reason.setText("compared with the card")
    key(qtbot, w, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, widget=w.results.reason)
    assert not other.decided and not w.runner.running("decide")
    assert "Ctrl+1" in w.results.action_status.text() and "Enter alone does not decide" in w.results.action_status.text()
    # Accept asked for without a reason: the choice waits for the reason, and Enter then confirms it
    w.results.reason.clear()
    press(qtbot, w, Qt.Key.Key_1)
    assert not other.decided and "press Enter" in w.results.action_status.text()
    w.results.reason.setText("called the customer, who confirmed it")
    key(qtbot, w, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, widget=w.results.reason)
    qtbot.waitUntil(lambda: other.decided, timeout=10_000)
    final = other.verification.final
    assert str(final.decision) == "ACCEPT" and final.is_override and final.reason.startswith("called the customer")
    assert model in ("REFER", "REJECT")


def test_next_undecided_cheque_skips_decided_ones_and_wraps(qtbot, world):
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine, other = item_named(w, "ACC-1_0001.png"), item_named(w, "ACC-1_0002.png")
    w.select_item(other)
    w.results.reason.setText("checked")
    press(qtbot, w, Qt.Key.Key_3)  # reject
    qtbot.waitUntil(lambda: other.decided and not other.busy, timeout=10_000)
    assert [it.name for it in w._visible_items()][-1] == "unknown_0003.png"
    w.select_item(item_named(w, "unknown_0003.png"))  # the last row
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    key(qtbot, w, Qt.Key.Key_Down, shift_ctrl)
    assert w.current is genuine  # from the top again
    key(qtbot, w, Qt.Key.Key_Down, shift_ctrl)
    assert w.current is item_named(w, "ACC-2_0004.png")  # the decided ACC-1_0002 skipped
    # it is listed among the shortcuts (F1)
    w.show_shortcuts()
    box = w._dialogs["shortcuts"]
    assert "Next undecided cheque" in box.text() and "Ctrl+Shift+Down" in box.text()
    box.close()


# --- 9. a large screen gives the evidence room ----------------------------------------------------------------


def test_a_large_window_gives_the_evidence_panel_and_its_references_room(qtbot, world):
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    w.select_item(item_named(w, "ACC-1_0001.png"))
    right = w.splitter.widget(2)

    def measure():
        qtbot.wait(50)
        tile = w.results.cards[0].tiles[0]
        return right.width(), tile.width(), tile.height(), w.results.query.height()

    w.resize(1440, 900)
    qtbot.waitUntil(lambda: w.width() == 1440, timeout=2000)
    small = measure()
    w.resize(1920, 1080)
    qtbot.waitUntil(lambda: w.width() == 1920, timeout=2000)
    large = measure()
    assert large[0] >= small[0] + 150, (small, large)  # the evidence takes a share of the extra width
    assert large[1] > small[1] * 1.25 and large[2] > small[2] * 1.25, (small, large)  # bigger reference tiles
    assert large[3] >= small[3]
    # the cheque still gets its share too
    assert w.splitter.widget(1).width() > 700


# --- a final decision is closed for a clerk (the service refuses a clerk's change; the keys say so first) ------


def test_a_clerks_final_decision_closes_the_keys_and_a_supervisor_may_change_it(qtbot, world):
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine = item_named(w, "ACC-1_0001.png")
    w.select_item(genuine)
    assert decision_keys_enabled(w)
    press(qtbot, w, Qt.Key.Key_1)  # confirm the model's ACCEPT
    qtbot.waitUntil(lambda: genuine.decided, timeout=10_000)
    w.select_item(genuine)  # the window has moved on to the next undecided cheque; back to this one
    qtbot.waitUntil(lambda: w.results.verification is genuine.verification, timeout=5000)
    assert not decision_keys_enabled(w)
    assert "only a supervisor can change it" in w.results.action_status.text()
    w.results.set_can_decide(True, may_change_decisions=True)  # a supervisor's window
    assert w.results.can_decide_now() and all(b.isEnabled() for b in w.results.buttons.values())


def test_a_cheque_decided_for_good_is_not_verified_again_by_a_clerk(qtbot, world, tmp_path):
    """Verify again, the box, the amount and the account would make a new record of it, to be decided
    again: closed to a clerk (the status line says why); open to a supervisor."""
    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    genuine = item_named(w, "ACC-1_0001.png")
    w.select_item(genuine)
    assert w.act_reverify.isEnabled() and w.picker.combo.isEnabled() and w.viewer.box_editable
    press(qtbot, w, Qt.Key.Key_1)  # confirm the model's ACCEPT: a final decision
    qtbot.waitUntil(lambda: genuine.decided and not genuine.busy, timeout=10_000)
    w.select_item(genuine)
    qtbot.waitUntil(lambda: w.results.verification is genuine.verification, timeout=5000)
    assert not w.act_reverify.isEnabled() and not w.act_reset_box.isEnabled()
    assert not w.picker.combo.isEnabled() and not w.picker.amount.isEnabled()
    assert not w.viewer.box_editable and not w.viewer.drawing
    assert w.viewer.box_item() is None or not w.viewer.box_item().editable
    status = w.results.action_status.text()
    assert status.startswith("Decided:") and "only a supervisor can change it" in status
    assert "a new scan of it would need a supervisor's approval" in status
    qtbot.wait(50)
    w.grab().save(str(tmp_path / "decided_locked.png"))
    # whatever way it is asked for, nothing is verified again
    history = list(genuine.history)
    w.reverify()
    w.act_reverify.trigger()
    w._box_edited((10, 10, 120, 60))
    w._amount_edited("123.00")
    w._account_chosen("ACC-2")
    w.reset_box()
    qtbot.wait(100)
    assert not genuine.busy and not w.runner.running("interactive") and genuine.history == history
    assert genuine.account == "ACC-1" and genuine.amount is None and genuine.box is None
    assert genuine.status == "accepted"
    # a supervisor may change the decision, so may verify it again
    w.results.set_can_decide(True, may_change_decisions=True)
    w._show_item(genuine)
    assert w.act_reverify.isEnabled() and w.picker.combo.isEnabled() and w.viewer.box_editable


def test_changing_an_override_awaiting_approval_asks_for_a_reason_in_the_panel(qtbot, world):
    """The service changes a standing decision only with a reason: the panel asks for it, no error box."""
    from chequeverify.service import ClerkDecision, Decision

    w = open_window(qtbot, world, "carl")
    load_folder(qtbot, w, world)
    other = item_named(w, "ACC-1_0002.png")
    v = other.verification
    waiting = ClerkDecision(id=0, cheque_id=v.cheque_id, decision=Decision.ACCEPT, reason="customer in branch",
                            decided_by="carl", decided_at="2026-01-01T00:00:00Z", status="awaiting_approval",
                            is_override=True)  # fmt: skip
    other.verification = dataclasses.replace(v, decision=Decision.REJECT, final=waiting)
    w.select_item(other)
    w._show_item(other)
    assert decision_keys_enabled(w)  # its maker may still withdraw it, with a reason
    assert w.act_reverify.isEnabled()  # not final: verifying it again is not closed
    for k in (Qt.Key.Key_3, Qt.Key.Key_2):  # the model's REJECT, and another choice
        key(qtbot, w, k)
        qtbot.wait(50)
        assert not w.runner.running("decide") and not other.busy
        assert "write a reason first" in w.results.action_status.text()
        assert w.results.reason.property("invalid") is True
        assert w._dialogs.get("error") is None  # no error box
    assert other.verification.final is waiting
