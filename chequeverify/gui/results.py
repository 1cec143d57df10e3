"""The results panel: the evidence for the decision and the clerk's own decision.

Top to bottom: the decision badge; the mandate and whether it is met;
the cleaned signature from the cheque; for each signatory its score as a
bar against the thresholds and its references side by side with their
own scores; the model's reasons; then the clerk's reason field and the
Accept / Refer / Reject buttons.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage
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
            tile = SignatureTile(size=QSize(112, 52))
            tile.set_image(images.get(ref.reference_id))
            colour = (theme.ACCEPT if ref.score >= sig.accept else theme.REJECT if ref.score < sig.reject
                      else theme.REFER) if math.isfinite(ref.score) else theme.FAINT  # fmt: skip
            tile.set_footer(f"{ref.score:.3f}" if math.isfinite(ref.score) else "—", colour)
            tile.setToolTip(f"reference {ref.reference_id}: score {ref.score:.3f}")
            refs.addWidget(tile, k // 3, k % 3)
            self.tiles.append(tile)
        if not sig.references:
            none = QLabel("No approved references.")
            none.setObjectName("Muted")
            refs.addWidget(none, 0, 0)
        lay.addLayout(refs)


class ResultsPanel(QWidget):
    """Shows a :class:`Verification` (or a cheque read without account) and takes the clerk's decision.

    The evidence scrolls; the clerk's decision stays at the bottom, always
    in reach. ``decisionRequested(decision, reason)`` when a decision
    button is pressed (the window calls the service).
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

        # decision
        self.decision_panel = Panel("Decision")
        self.badge = DecisionBadge()
        self.decision_panel.body.addWidget(self.badge)
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
        keys = QLabel("Ctrl+1 accept · Ctrl+2 refer · Ctrl+3 reject · Ctrl+↓ next cheque")
        keys.setObjectName("Faint")
        keys.setFont(theme.font(-1.5))
        self.action_panel.body.addWidget(keys)
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
        self.clear()

    # --- state ------------------------------------------------------------------------
    def set_can_decide(self, allowed: bool) -> None:
        self._can_decide = allowed
        self.action_panel.setVisible(allowed)
        self._update_buttons()

    def _update_buttons(self) -> None:
        enabled = self._can_decide and self.verification is not None
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

    def clear(self, message: str = "") -> None:
        self.verification = None
        self.badge.set_decision(None, message or "Open a cheque to see its verification.")
        self.mandate.setText("")
        self.reasons.setText("")
        self.query.set_image(None, "open a cheque")
        self.query_note.setText("")
        self.action_status.setText("")
        self.reason.clear()
        self._clear_cards()
        self._update_buttons()

    def show_busy(self, text: str) -> None:
        self.badge.set_decision(None, text)
        self._update_buttons()

    def show_error(self, message: str) -> None:
        self.verification = None
        self.badge.set_decision(None, message, error=True)
        self.mandate.setText("")
        self.reasons.setText("")
        self._clear_cards()
        self._update_buttons()

    def show_reading(self, signature: QImage | None, note: str) -> None:
        """A cheque read but not verified (no account yet): the signature and what to do next."""
        self.verification = None
        self.badge.set_decision(None, note)
        self.mandate.setText("")
        self.reasons.setText("")
        self.query.set_image(signature, "no signature")
        self.query_note.setText("")
        self._clear_cards()
        self.action_status.setText("")
        self._update_buttons()

    def show_verification(self, v, images: dict) -> None:
        """``v``: service ``Verification``; ``images``: ``"query"`` → QImage and reference id → QImage."""
        self.verification = v
        final = v.final
        if final is not None and final.status == "final":
            caption = f"{'Overridden' if final.is_override else 'Confirmed'} by {final.decided_by} · model said {v.decision}"
            self.badge.set_decision(str(final.decision), caption)
        elif final is not None and final.status == "awaiting_approval":
            self.badge.set_decision(str(v.decision), f"Override to {final.decision} awaiting a second supervisor")
        else:
            score = f"score {v.score:.3f}" if math.isfinite(v.score) else "no score"
            self.badge.set_decision(str(v.decision), f"Model decision · {score} · {v.model_id}")
        m = v.mandate
        mark = (f"<span style='color:{theme.ACCEPT}; font-weight:600'>✓ met</span>" if m.met
                else f"<span style='color:{theme.REJECT}; font-weight:600'>✗ not met</span>")  # fmt: skip
        amount = f" · amount {v.amount}" if v.amount is not None else ""
        self.mandate.setText(
            f"<b>{v.account.number}</b> · {v.account.holder}<br>"
            f"Mandate <i>{m.mandate}</i> — rule <i>{m.rule}</i>, {m.required} signator{'y' if m.required == 1 else 'ies'}"
            f" required{amount}: {mark}"
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
        self._clear_cards()
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
        self.action_status.setText(self._status_text(v))
        self.reason.setProperty("invalid", False)
        self.reason.style().polish(self.reason)
        self._update_buttons()

    @staticmethod
    def _status_text(v) -> str:
        f = v.final
        if f is None:
            return f"Model: {v.decision}. Press a button to confirm it or, with a reason, to override it."
        when = theme.when(f.decided_at)
        if f.status == "awaiting_approval":
            return f"{f.decided_by} overrode to {f.decision} at {when}: “{f.reason}”. A second supervisor must approve."
        if f.status == "refused":
            return f"Override refused by {f.reviewed_by}: the model's {v.decision} stands."
        return f"{f.decision} by {f.decided_by} at {when}: “{f.reason}”."

    # --- the clerk decides ------------------------------------------------------------
    def request(self, decision: str) -> None:
        """Ask for ``decision`` (a button or its shortcut); an override needs a reason first."""
        v = self.verification
        if v is None or not self._can_decide:
            return
        reason = self.reason.text().strip()
        if decision != str(v.decision) and not reason:
            self.reason.setProperty("invalid", True)
            self.reason.style().unpolish(self.reason)
            self.reason.style().polish(self.reason)
            self.action_status.setText(
                f"To override the model's {v.decision} with {decision}, write a reason first "
                "(what you checked), then press the button again."
            )
            self.action_status.setStyleSheet(f"color: {theme.REJECT};")
            self.reason.setFocus()
            return
        self.action_status.setStyleSheet("")
        self.reason.setProperty("invalid", False)
        self.reason.style().unpolish(self.reason)
        self.reason.style().polish(self.reason)
        self.decisionRequested.emit(decision, reason)
