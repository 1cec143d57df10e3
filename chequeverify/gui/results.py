"""The results panel: the evidence for the decision and the clerk's own decision.

Top to bottom: a red alert when the signature matches a known forger on
the watch-list; the decision badge (or, for a cheque that could not be
verified, its whole error message and what to do); the mandate and whether
it is met; the cleaned signature from the cheque; for each signatory its
score as a bar against the thresholds and its references side by side
with their own scores; the model's reasons; then the clerk's reason field
and the Accept / Refer / Reject buttons.

Everything shown belongs to one cheque: showing an error, a busy state or
another cheque clears what the previous one left, and the decision
buttons are enabled only while a verification result is on screen.
"""

from __future__ import annotations

import math
from html import escape

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QImage
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from chequeverify.gui import theme
from chequeverify.gui.widgets import DecisionBadge, Panel, ScoreBar, SignatureTile, score_scale

DECISIONS = ("ACCEPT", "REFER", "REJECT")
SHORTCUTS = {"ACCEPT": "Ctrl+1", "REFER": "Ctrl+2", "REJECT": "Ctrl+3"}
#: the keys under the buttons: the long line where it fits on one line, else the short one
KEYS_LONG = "Ctrl+1 accept · Ctrl+2 refer · Ctrl+3 reject · Ctrl+↓ next · Ctrl+Shift+↓ next undecided"
KEYS_SHORT = "Ctrl+1 accept · Ctrl+2 refer · Ctrl+3 reject · Ctrl+↓ next cheque"
#: the reference tiles' height over their width, and how many side by side
TILE_RATIO = 0.46
TILE_COLUMNS = 3
#: the badge's caption for a cheque that could not be verified, by error kind (the message itself is below it)
_ERROR_CAPTIONS = {"SignatureNotFound": "No signature found", "UnreadableScan": "The scan cannot be read",
                   "UnknownAccount": "Account not found", "MandateError": "Signing rule problem",
                   "ModelError": "Signature model unavailable", "StorageError": "Workspace problem",
                   "PermissionDenied": "Not allowed", "InvalidInput": "Please check the input"}  # fmt: skip


def _chip(text: str, state: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(
        f"background: {theme.TINTS.get(state, theme.GROUND)}; color: {theme.STATE_COLOURS.get(state, theme.MUTED)};"
        "border-radius: 9px; padding: 1px 8px; font-weight: 600;"
    )
    label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return label


class SignatoryCard(QFrame):
    """One signatory: name, validity, score bar, and the references with their scores."""

    def __init__(self, sig, images: dict[int, QImage], scale: tuple[float, float], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("SignatoryCard")
        self.setStyleSheet(
            f"QFrame#SignatoryCard {{ border: 1px solid {theme.BORDER}; border-radius: 6px; background: #fbfcfd; }}"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        head = QHBoxLayout()
        name = QLabel(sig.name)
        name.setFont(theme.font(0.5, bold=True))
        name.setMinimumWidth(40)
        head.addWidget(name)
        if sig.panel:
            head.addWidget(_chip(f"panel {sig.panel}", "pending"))
        if sig.attributed:
            head.addWidget(_chip("signer", "pending"))
        if not sig.valid:
            head.addWidget(_chip("not valid today", "rejected"))
        head.addStretch(1)
        head.addWidget(_chip(str(sig.decision), theme.DECISION_STATE[str(sig.decision)]))
        lay.addLayout(head)
        self.bar = ScoreBar()
        self.bar.set_score(sig.score, sig.accept, sig.reject, scale)
        lay.addWidget(self.bar)
        legend = QLabel(
            f"reject below {sig.reject:.3f}  ·  accept from {sig.accept:.3f}"
            + (f"  ·  {sig.note}" if sig.note else "")
        )
        legend.setObjectName("Faint")
        legend.setFont(theme.font(-1.5))
        legend.setWordWrap(True)
        lay.addWidget(legend)
        refs = QGridLayout()
        refs.setHorizontalSpacing(6)
        refs.setVerticalSpacing(6)
        self.tiles: list[SignatureTile] = []
        for k, ref in enumerate(sig.references):
            tile = SignatureTile(size=QSize(112, round(112 * TILE_RATIO)))
            tile.set_image(images.get(ref.reference_id))
            colour = (theme.ACCEPT if ref.score >= sig.accept else theme.REJECT if ref.score < sig.reject
                      else theme.REFER) if math.isfinite(ref.score) else theme.FAINT  # fmt: skip
            tile.set_footer(f"{ref.score:.3f}" if math.isfinite(ref.score) else "—", colour)
            tile.setToolTip(f"reference {ref.reference_id}: score {ref.score:.3f}")
            refs.addWidget(tile, k // TILE_COLUMNS, k % TILE_COLUMNS)
            self.tiles.append(tile)
        if not sig.references:
            none = QLabel("No approved references.")
            none.setObjectName("Muted")
            refs.addWidget(none, 0, 0)
        lay.addLayout(refs)

    def set_tile_width(self, width: int) -> None:
        for tile in self.tiles:
            tile.set_tile_size(QSize(width, max(52, round(width * TILE_RATIO))))


class ResultsPanel(QWidget):
    """Shows a :class:`Verification` (or a cheque read without account) and takes the clerk's decision.

    The evidence scrolls; the clerk's decision stays at the bottom, always
    in reach. ``decisionRequested(decision, reason)`` when a decision
    button is pressed (the window calls the service). The reason field
    belongs to the cheque shown: the window swaps it (:meth:`set_reason`)
    whenever the cheque changes.
    """

    decisionRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(360)
        body = QWidget()
        body.setObjectName("ResultsBody")
        body.setStyleSheet("QWidget#ResultsBody { background: transparent; }")
        self.scroll.setWidget(body)
        outer.addWidget(self.scroll, 1)
        self._lay = QVBoxLayout(body)
        self._lay.setContentsMargins(0, 0, 4, 0)
        self._lay.setSpacing(10)
        self.verification = None
        #: the cheque id whose evidence (signature, cards) is on screen, None when nothing is
        self.evidence_of: int | None = None
        #: the decision the clerk asked for and that waits only for a reason (Enter then confirms it)
        self.pending_choice: str | None = None

        # decision
        self.decision_panel = Panel("Decision")
        self.watchlist_alert = QLabel("")
        self.watchlist_alert.setObjectName("WatchlistAlert")
        self.watchlist_alert.setWordWrap(True)
        self.watchlist_alert.setTextFormat(Qt.TextFormat.PlainText)
        self.watchlist_alert.setFont(theme.font(0.5, bold=True))
        self.watchlist_alert.setStyleSheet(
            f"QLabel#WatchlistAlert {{ background: {theme.REJECT}; color: white; border-radius: 6px;"
            " padding: 8px 10px; }"
        )
        self.watchlist_alert.setAccessibleName("Watch-list alert")
        self.watchlist_alert.setVisible(False)
        self.decision_panel.body.addWidget(self.watchlist_alert)
        self.badge = DecisionBadge()
        self.decision_panel.body.addWidget(self.badge)
        self.error_text = QLabel("")
        self.error_text.setObjectName("ErrorText")
        self.error_text.setWordWrap(True)
        self.error_text.setTextFormat(Qt.TextFormat.RichText)
        self.error_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_text.setStyleSheet(f"QLabel#ErrorText {{ color: {theme.INK}; }}")
        self.error_text.setVisible(False)
        self.decision_panel.body.addWidget(self.error_text)
        self.mandate = QLabel("")
        self.mandate.setWordWrap(True)
        self.mandate.setTextFormat(Qt.TextFormat.RichText)
        self.decision_panel.body.addWidget(self.mandate)
        self.reasons = QLabel("")
        self.reasons.setObjectName("Muted")
        self.reasons.setWordWrap(True)
        self.reasons.setFont(theme.font(-1))
        self.decision_panel.body.addWidget(self.reasons)
        self._lay.addWidget(self.decision_panel)

        # the clerk's decision (outside the scroll area)
        self.action_panel = Panel("Your decision")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason (required to override the model)")
        self.reason.setAccessibleName("Reason")
        self.reason.setClearButtonEnabled(True)
        self.reason.returnPressed.connect(self._reason_entered)
        self.action_panel.body.addWidget(self.reason)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        for d in DECISIONS:
            b = QPushButton(d.title())
            b.setObjectName(d.title())
            b.setToolTip(f"{d.title()} this cheque ({SHORTCUTS[d]})")
            b.setMinimumHeight(34)
            b.setMinimumWidth(70)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _=False, d=d: self.request(d))
            row.addWidget(b)
            self.buttons[d] = b
        self.action_panel.body.addLayout(row)
        self.keys = QLabel(KEYS_SHORT)
        self.keys.setObjectName("Faint")
        self.keys.setFont(theme.font(-1.5))
        self.keys.setToolTip("Ctrl+1 accept · Ctrl+2 refer · Ctrl+3 reject (an override needs a reason; Enter in the "
                             "reason field then confirms it)\nCtrl+↓ / Ctrl+↑ next / previous cheque · Ctrl+Shift+↓ "
                             "next undecided cheque · F1 every shortcut")  # fmt: skip
        self.keys.setMinimumWidth(60)
        self.keys.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.action_panel.body.addWidget(self.keys)
        self.action_status = QLabel("")
        self.action_status.setObjectName("Muted")
        self.action_status.setWordWrap(True)
        self.action_panel.body.addWidget(self.action_status)
        outer.addWidget(self.action_panel)

        # the signature and the signatories
        self.evidence_panel = Panel("Signature on the cheque")
        self.query = SignatureTile(size=QSize(320, 110))
        self.query.set_image(None, "open a cheque")
        self.evidence_panel.body.addWidget(self.query)
        self.query_note = QLabel("")
        self.query_note.setObjectName("Faint")
        self.query_note.setFont(theme.font(-1.5))
        self.evidence_panel.body.addWidget(self.query_note)
        self.signatories_box = QVBoxLayout()
        self.signatories_box.setSpacing(8)
        self.evidence_panel.body.addLayout(self.signatories_box)
        self._lay.addWidget(self.evidence_panel)
        self._lay.addStretch(1)
        self.cards: list[SignatoryCard] = []
        self._can_decide = True
        self._may_change = False
        self.clear()

    # --- state ------------------------------------------------------------------------
    def set_can_decide(self, allowed: bool, *, may_change_decisions: bool = False) -> None:
        """``allowed``: the user decides on cheques; ``may_change_decisions``: also replaces a standing
        final decision (supervisors; the service refuses it to clerks)."""
        self._can_decide = allowed
        self._may_change = may_change_decisions
        self.action_panel.setVisible(allowed)
        self._update_buttons()

    def can_decide_now(self) -> bool:
        """A verification result is on screen and this user may decide on it."""
        return self._can_decide and self.verification is not None and not self._closed_for_me(self.verification)

    def closed_for_me(self, v) -> bool:
        """``v`` (a verification) carries a final or refused decision that this user may not change:
        nor may they re-verify the cheque (a new record of it would invite a second decision)."""
        return v is not None and self._closed_for_me(v)

    def _closed_for_me(self, v) -> bool:
        f = v.final
        return f is not None and f.status in ("final", "refused") and not self._may_change

    def _update_buttons(self) -> None:
        enabled = self.can_decide_now()
        for b in self.buttons.values():
            b.setEnabled(enabled)
        self.reason.setEnabled(enabled)

    def _clear_cards(self) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        while self.signatories_box.count():
            item = self.signatories_box.takeAt(0)
            w = item.widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()

    def _clear_evidence(self, placeholder: str = "open a cheque") -> None:
        """Forget everything the previous result showed (not the reason field: that is the window's)."""
        self.verification = None
        self.evidence_of = None
        self.pending_choice = None
        self.watchlist_alert.clear()
        self.watchlist_alert.setVisible(False)
        self.error_text.clear()
        self.error_text.setVisible(False)
        self.mandate.setText("")
        self.reasons.setText("")
        self.reasons.setVisible(False)
        self.query.set_image(None, placeholder)
        self.query_note.setText("")
        self._set_status("")
        self._mark_reason(False)
        self._clear_cards()

    def clear(self, message: str = "") -> None:
        self._clear_evidence()
        self.badge.set_decision(None, message or "Open a cheque to see its verification.")
        self.reason.clear()
        self._update_buttons()

    def set_reason(self, text: str) -> None:
        """The reason field for the cheque now shown: its own draft, or empty (never another cheque's)."""
        self.reason.setText(text)
        self.pending_choice = None
        self._mark_reason(False)

    def show_busy(self, text: str, *, keep_evidence: bool = False, status: str = "") -> None:
        """The cheque is waiting or being (re-)verified: nothing can be decided until its result is shown.

        ``keep_evidence``: the evidence on screen is this same cheque's previous result (a corrected box,
        a changed amount): it stays visible, but the buttons are off until the new result lands.
        """
        if keep_evidence and self.evidence_of is not None:
            self.verification = None  # (a watch-list alert stays up: it is no less true while this runs)
            self.pending_choice = None
            self._set_status(status or "Verifying again… the decision buttons come back with the new result.")
        else:
            self._clear_evidence("")
        self.badge.set_decision(None, text)
        self._update_buttons()

    def show_error(self, exc: BaseException | str, hint: str = "") -> None:
        """A cheque that could not be verified: the whole message and what to do, nothing else.

        ``exc``: the error (its ``message`` and ``hint`` are used when it has them) or a message.
        """
        self._clear_evidence("no signature")
        if isinstance(exc, BaseException):
            message = str(getattr(exc, "message", None) or exc)
            hint = hint or str(getattr(exc, "hint", None) or "")
            caption = _ERROR_CAPTIONS.get(type(exc).__name__, "This cheque could not be verified")
        else:
            message, caption = str(exc), "This cheque could not be verified"
        self.badge.set_decision(None, caption, error=True)
        html = escape(message)
        if hint:
            html += f"<br><b>What to do:</b> {escape(hint)}"
        self.error_text.setText(html)
        self.error_text.setVisible(True)
        self.error_text.setToolTip(f"{message} {hint}".strip())
        self._update_buttons()

    def show_reading(self, signature: QImage | None, note: str) -> None:
        """A cheque read but not verified (no account yet): the signature and what to do next."""
        self._clear_evidence("no signature")
        self.badge.set_decision(None, note)
        self.query.set_image(signature, "no signature")
        self._update_buttons()

    def show_verification(self, v, images: dict) -> None:
        """``v``: service ``Verification``; ``images``: ``"query"`` → QImage and reference id → QImage."""
        same = self.evidence_of == v.cheque_id
        pending = self.pending_choice if same else None
        self._clear_evidence("no signature")
        self.pending_choice = pending
        self.verification = v
        self.evidence_of = v.cheque_id
        final = v.final
        if final is not None and final.status == "final":
            caption = f"{'Overridden' if final.is_override else 'Confirmed'} by {final.decided_by} · model said {v.decision}"
            self.badge.set_decision(str(final.decision), caption)
        elif final is not None and final.status == "awaiting_approval":
            self.badge.set_decision(str(v.decision), f"Override to {final.decision} awaiting a second supervisor")
        else:
            score = f"score {v.score:.3f}" if math.isfinite(v.score) else "no score"
            self.badge.set_decision(str(v.decision), f"Model decision · {score} · {v.model_id}")
        hits = tuple(getattr(v, "watchlist_hits", ()) or ())
        if hits:
            self.watchlist_alert.setText("⚠ " + "\n⚠ ".join(theme.watchlist_text(h) for h in hits))
            self.watchlist_alert.setToolTip("\n".join(
                f"signature {h.signature + 1} on the cheque looks like {h.signatory}, a known forger "
                f"({h.holder}, {h.account})" for h in hits))  # fmt: skip
            self.watchlist_alert.setVisible(True)
        m = v.mandate
        mark = (f"<span style='color:{theme.ACCEPT}; font-weight:600'>✓ met</span>" if m.met
                else f"<span style='color:{theme.REJECT}; font-weight:600'>✗ not met</span>")  # fmt: skip
        amount = f" · amount {v.amount}" if v.amount is not None else ""
        self.mandate.setText(
            f"<b>{escape(v.account.number)}</b> · {escape(v.account.holder)}<br>"
            f"Mandate <i>{escape(m.mandate)}</i> — rule <i>{escape(m.rule)}</i>, {m.required} "
            f"signator{'y' if m.required == 1 else 'ies'} required{amount}: {mark}"
        )
        reasons = list(v.reasons)  # (a cheque presented before is among them, from the service)
        self.reasons.setText("\n".join(f"• {r}" for r in reasons))
        self.reasons.setVisible(bool(reasons))
        self.query.set_image(images.get("query"), "no signature")
        loc = v.located
        self.query_note.setText(
            f"{'box corrected by the clerk' if loc.corrected else f'located ({loc.confidence:.0%} confidence)'}"
            f" · layout {loc.layout} · cheque {v.cheque_id}"
        )
        scale = score_scale(v.thresholds.accept, v.thresholds.reject,
                            *[s.score for s in v.signatories], *[r.score for s in v.signatories for r in s.references],
                            *[t for s in v.signatories for t in (s.accept, s.reject)])  # fmt: skip
        for sig in v.signatories:
            card = SignatoryCard(sig, images, scale)
            self.signatories_box.addWidget(card)
            self.cards.append(card)
        if not v.signatories:
            none = QLabel("This account has no signatory with approved references.")
            none.setObjectName("Muted")
            self.signatories_box.addWidget(none)
        self._fit_tiles()
        self._set_status(self._status_text(v, closed=self._closed_for_me(v)))
        self._update_buttons()

    @staticmethod
    def _status_text(v, *, closed: bool = False) -> str:
        f = v.final
        if closed:  # final or refused, and this user may not change it: nor re-verify it
            when = theme.when(f.decided_at)
            what = (f"override refused by {f.reviewed_by}, the model's {v.decision} stands" if f.status == "refused"
                    else f"{f.decision} by {f.decided_by} at {when}: “{f.reason}”")  # fmt: skip
            return (f"Decided: {what} — only a supervisor can change it; a new scan of it would need a "
                    "supervisor's approval to be accepted.")  # fmt: skip
        if f is None:
            return f"Model: {v.decision}. Press a button to confirm it or, with a reason, to override it."
        when = theme.when(f.decided_at)
        if f.status == "awaiting_approval":
            return (f"{f.decided_by} overrode to {f.decision} at {when}: “{f.reason}”. A second supervisor must approve; "
                    "its maker may withdraw it by choosing another decision with a reason.")  # fmt: skip
        if f.status == "refused":
            return f"Override refused by {f.reviewed_by}: the model's {v.decision} stands. Only a supervisor can change it."
        return f"{f.decision} by {f.decided_by} at {when}: “{f.reason}”. A final decision: only a supervisor can change it."

    def _set_status(self, text: str, *, alert: bool = False) -> None:
        self.action_status.setText(text)
        self.action_status.setStyleSheet(f"color: {theme.REJECT};" if alert else "")

    def _mark_reason(self, invalid: bool) -> None:
        self.reason.setProperty("invalid", invalid)
        self.reason.style().unpolish(self.reason)
        self.reason.style().polish(self.reason)

    # --- size: the evidence grows with the panel ---------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_tiles()
        room = self.width() - 2 * 12 - 4
        self.keys.setText(KEYS_LONG if QFontMetrics(self.keys.font()).horizontalAdvance(KEYS_LONG) <= room else KEYS_SHORT)

    def _fit_tiles(self) -> None:
        """Reference tiles and the cheque's signature as large as the panel's width allows.

        From the panel's own width (the scroll bar counted as shown), not the viewport's, so a
        scroll bar appearing because the tiles grew cannot shrink them again.
        """
        inner = self.width() - self.scroll.verticalScrollBar().sizeHint().width() - 4 - 2 * 12 - 4
        self.query.set_tile_size(QSize(max(200, inner), max(110, min(180, round(inner * 0.28)))))
        card_inner = inner - 2 * 10 - 2
        tile_w = max(96, (card_inner - (TILE_COLUMNS - 1) * 6) // TILE_COLUMNS)
        for card in self.cards:
            card.set_tile_width(tile_w)

    # --- the clerk decides ------------------------------------------------------------
    def request(self, decision: str) -> None:
        """Ask for ``decision`` (a button or its shortcut); an override needs a reason first."""
        v = self.verification
        if v is None or not self._can_decide:
            return
        reason = self.reason.text().strip()
        f = v.final
        if f is not None and f.status in ("final", "refused", "awaiting_approval") and not reason:
            # a standing decision (even an override awaiting approval) changes only with a reason
            self.pending_choice = decision
            self._mark_reason(True)
            standing = (f"the override to {f.decision} awaiting approval" if f.status == "awaiting_approval"
                        else f"the decision {f.decision}")  # fmt: skip
            self._set_status(
                f"To replace {standing} with {decision}, write a reason first "
                "(what you checked), then press Enter or the button again.", alert=True)  # fmt: skip
            self.reason.setFocus()
            return
        if decision != str(v.decision) and not reason:
            self.pending_choice = decision
            self._mark_reason(True)
            self._set_status(
                f"To override the model's {v.decision} with {decision}, write a reason first "
                "(what you checked), then press Enter or the button again.", alert=True)  # fmt: skip
            self.reason.setFocus()
            return
        self.pending_choice = None
        self._set_status("")
        self._mark_reason(False)
        self.decisionRequested.emit(decision, reason)

    def _reason_entered(self) -> None:
        """Enter in the reason field: decide only when the choice is not in doubt, else say what to press."""
        v = self.verification
        if v is None or not self._can_decide:
            return
        reason = self.reason.text().strip()
        if self.pending_choice is not None and reason:
            self.request(self.pending_choice)  # the override the clerk asked for, waiting only for this reason
            return
        model = str(v.decision)
        if reason:
            others = " or ".join(f"{SHORTCUTS[d]} to {d.lower()}" for d in DECISIONS if d != model)
            text = (f"Enter alone does not decide. With this reason, press {others} (an override), "
                    f"or {SHORTCUTS[model]} to {model.lower()} as the model says.")  # fmt: skip
        else:
            text = (f"Enter alone does not decide. Press {SHORTCUTS[model]} to confirm the model's {model}, "
                    "or write a reason and press another decision's key to override it.")  # fmt: skip
        self._set_status(text, alert=True)
