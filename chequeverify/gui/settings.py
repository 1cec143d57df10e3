"""Thresholds (supervisors), with a histogram of recent scores so a change is seen before it is saved."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from chequeverify.gui import icons, theme
from chequeverify.gui.widgets import Panel
from chequeverify.gui.workers import Runner


def _load(session):
    return session.thresholds(), session.recent_scores(500)


def outcome_counts(scores: np.ndarray, accept: float, reject: float) -> dict[str, int]:
    s = np.asarray(scores, np.float64)
    s = s[np.isfinite(s)]
    return {"ACCEPT": int((s >= accept).sum()), "REFER": int(((s < accept) & (s >= reject)).sum()),
            "REJECT": int((s < reject).sum())}  # fmt: skip


class ScoreHistogram(QWidget):
    """Recent scores in bins coloured by what the *proposed* thresholds would decide.

    Solid lines: the proposed thresholds; dashed: those in force. Ticks
    under the axis: cheques a human finally accepted (green) or rejected
    (red) — what a good threshold separates.
    """

    #: a proposed threshold dragged with the mouse: ("accept" | "reject", value)
    thresholdDragged = Signal(str, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dragging: str | None = None
        self.setMouseTracking(True)
        self.scores = np.zeros(0, np.float32)
        self.final: tuple = ()
        self.accept = self.reject = 0.0
        self.saved = (0.0, 0.0)
        self.setMinimumSize(QSize(520, 190))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, scores: np.ndarray, final: tuple, saved: tuple[float, float]) -> None:
        self.scores = np.asarray(scores, np.float32)
        self.final = tuple(final)
        self.saved = saved
        self.update()

    def set_thresholds(self, accept: float, reject: float) -> None:
        self.accept, self.reject = accept, reject
        self.update()

    def _range(self) -> tuple[float, float]:
        finite = self.scores[np.isfinite(self.scores)]
        values = [self.accept, self.reject, *self.saved]
        lo = min([*values, float(finite.min())] if finite.size else values)
        hi = max([*values, float(finite.max())] if finite.size else values)
        pad = max((hi - lo) * 0.06, 0.02)
        return lo - pad, hi + pad

    def _plot(self) -> QRectF:
        return QRectF(36, 22, self.width() - 48, self.height() - 22 - 46)

    def _x_of(self, v: float) -> float:
        lo, hi = self._range()
        plot = self._plot()
        return plot.left() + (v - lo) / (hi - lo) * plot.width() if hi > lo else plot.center().x()

    def _value_at(self, x: float) -> float:
        lo, hi = self._range()
        plot = self._plot()
        return lo + (x - plot.left()) / max(plot.width(), 1.0) * (hi - lo)

    def _near(self, x: float) -> str | None:
        da, dr = abs(x - self._x_of(self.accept)), abs(x - self._x_of(self.reject))
        if min(da, dr) > 6:
            return None
        return "accept" if da <= dr else "reject"

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._dragging = self._near(event.position().x())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        x = event.position().x()
        if self._dragging is not None:
            self.thresholdDragged.emit(self._dragging, round(self._value_at(x), 3))
        else:
            self.setCursor(Qt.CursorShape.SizeHorCursor if self._near(x) else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._dragging = None

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = theme.font(-1.5)
        p.setFont(small)
        fm = QFontMetrics(small)
        plot = self._plot()
        p.fillRect(QRectF(self.rect()), QColor("white"))
        lo, hi = self._range()

        def x_of(v: float) -> float:
            return plot.left() + (v - lo) / (hi - lo) * plot.width() if hi > lo else plot.center().x()

        finite_mask = np.isfinite(self.scores)
        finite = self.scores[finite_mask]
        bins = 40
        counts, edges = np.histogram(finite, bins=bins, range=(lo, hi)) if finite.size else (np.zeros(bins), np.linspace(lo, hi, bins + 1))
        top = max(1, int(counts.max()) if len(counts) else 1)
        # grid and axis
        p.setPen(QPen(QColor(theme.GROUND), 1))
        for k in range(1, 4):
            y = plot.bottom() - plot.height() * k / 4
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(QColor(theme.FAINT))
        p.drawText(QRectF(0, plot.top() - 6, 30, 14), Qt.AlignmentFlag.AlignRight, str(top))
        p.drawText(QRectF(0, plot.bottom() - 8, 30, 14), Qt.AlignmentFlag.AlignRight, "0")
        # bars
        for i, c in enumerate(counts):
            if not c:
                continue
            mid = (edges[i] + edges[i + 1]) / 2
            state = "accepted" if mid >= self.accept else ("rejected" if mid < self.reject else "referred")
            x0, x1 = x_of(edges[i]) + 1, x_of(edges[i + 1]) - 1
            h = plot.height() * c / top
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.state_colour(state))
            p.drawRoundedRect(QRectF(x0, plot.bottom() - h, max(1.0, x1 - x0), h), 1.5, 1.5)
        p.setPen(QPen(QColor(theme.BORDER), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        # human outcomes as ticks under the axis
        finals = [f for f, ok in zip(self.final, finite_mask) if ok] if len(self.final) == len(self.scores) else []
        for s, f in zip(finite, finals):
            if f is None or str(f) == "REFER":
                continue
            colour = theme.ACCEPT if str(f) == "ACCEPT" else theme.REJECT
            y = plot.bottom() + (6 if str(f) == "ACCEPT" else 13)
            p.setPen(QPen(QColor(colour), 1.5))
            p.drawLine(QPointF(x_of(float(s)), y), QPointF(x_of(float(s)), y + 5))
        # axis labels
        p.setPen(QColor(theme.MUTED))
        for k in range(5):
            v = lo + (hi - lo) * k / 4
            x = x_of(v)
            text = f"{v:.2f}"
            p.drawText(QRectF(x - 30, plot.bottom() + 24, 60, 16), Qt.AlignmentFlag.AlignCenter, text)
        # thresholds: saved dashed, proposed solid
        for value, colour, dashed in ((self.saved[1], theme.REJECT, True), (self.saved[0], theme.ACCEPT, True),
                                      (self.reject, theme.REJECT, False), (self.accept, theme.ACCEPT, False)):  # fmt: skip
            pen = QPen(QColor(colour), 1.2 if dashed else 2)
            if dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            x = x_of(value)
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        # labels above the plot, pushed apart when the thresholds are close
        left_label, right_label = f"reject < {self.reject:.3f}", f"accept ≥ {self.accept:.3f}"
        lw, rw = fm.horizontalAdvance(left_label), fm.horizontalAdvance(right_label)
        xl = min(x_of(self.reject) - lw / 2, x_of(self.accept) - lw - 8)
        xr = max(x_of(self.accept) - rw / 2, xl + lw + 12)
        p.setPen(QColor(theme.REJECT))
        p.drawText(QRectF(max(0.0, xl), 2, lw + 2, 16), Qt.AlignmentFlag.AlignLeft, left_label)
        p.setPen(QColor(theme.ACCEPT))
        p.drawText(QRectF(min(xr, self.width() - rw - 2), 2, rw + 2, 16), Qt.AlignmentFlag.AlignLeft, right_label)
        if not finite.size:
            p.setPen(QColor(theme.FAINT))
            p.setFont(theme.font(1))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No cheques verified yet: the histogram fills as clerks work.")
        p.end()


class ThresholdsDialog(QDialog):
    """Edit the accept / reject thresholds and per-signatory adaptation; ``saved`` after a change is stored."""

    saved = Signal(object)
    loaded = Signal()

    def __init__(self, session, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Thresholds — chequeverify")
        self.setWindowIcon(icons.app_icon())
        self.session = session
        self.runner = runner
        self.info = None
        self.history = None
        self.resize(780, 640)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 14, 14, 12)
        lay.setSpacing(10)
        intro = QLabel("A score at or above <b>accept</b> accepts the signature, below <b>reject</b> rejects it, and "
                       "anything between is referred to a person. Move the thresholds and watch what recent "
                       "cheques would have become before you save.")  # fmt: skip
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(intro)
        panel = Panel("Recent scores")
        self.histogram = ScoreHistogram()
        self.histogram.thresholdDragged.connect(self._dragged)
        panel.body.addWidget(self.histogram, 1)
        legend = QLabel("Bars: cheques by score, coloured by what the new thresholds decide. Solid lines: the new "
                        "thresholds (drag them); dashed: those in force. Ticks under the axis: cheques a person "
                        "finally accepted (green) or rejected (red).")  # fmt: skip
        legend.setObjectName("Faint")
        legend.setWordWrap(True)
        legend.setFont(theme.font(-1.5))
        panel.body.addWidget(legend)
        lay.addWidget(panel, 1)
        form_row = QHBoxLayout()
        form = QFormLayout()
        self.accept_spin = QDoubleSpinBox()
        self.reject_spin = QDoubleSpinBox()
        for s in (self.accept_spin, self.reject_spin):
            s.setDecimals(3)
            s.setSingleStep(0.005)
            s.setRange(-1000.0, 1000.0)
            s.setMinimumWidth(110)
            s.valueChanged.connect(self._changed)
        self.adapt = QCheckBox("Adapt the thresholds to each signatory (from the spread of its references)")
        self.adapt.toggled.connect(self._changed)
        form.addRow("Accept at or above", self.accept_spin)
        form.addRow("Reject below", self.reject_spin)
        form_row.addLayout(form)
        self.effect = QLabel("")
        self.effect.setWordWrap(True)
        self.effect.setTextFormat(Qt.TextFormat.RichText)
        form_row.addWidget(self.effect, 1)
        lay.addLayout(form_row)
        lay.addWidget(self.adapt)
        self.source = QLabel("")
        self.source.setObjectName("Muted")
        self.source.setWordWrap(True)
        lay.addWidget(self.source)
        self.error = QLabel("")
        self.error.setObjectName("InlineError")
        lay.addWidget(self.error)
        buttons = QHBoxLayout()
        self.reset_button = QPushButton("Back to the model's thresholds")
        self.reset_button.clicked.connect(self.reset)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("Primary")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(close)
        buttons.addWidget(self.save_button)
        lay.addLayout(buttons)
        self.setEnabled(True)
        self.save_button.setEnabled(False)
        self.effect.setText("Loading recent scores…")
        runner.submit(_load, session, name="thresholds", on_done=self._loaded)

    def _loaded(self, result) -> None:
        self.info, self.history = result
        self._show_info()
        self.histogram.set_data(self.history.scores, self.history.final, (self.info.accept, self.info.reject))
        self._changed()
        self.loaded.emit()

    def _show_info(self) -> None:
        i = self.info
        for s, v in ((self.accept_spin, i.accept), (self.reject_spin, i.reject)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)
        self.adapt.blockSignals(True)
        self.adapt.setChecked(i.adapt_per_signatory)
        self.adapt.blockSignals(False)
        if i.source == "workspace":
            self.source.setText(f"In force for every signatory: accept {i.accept:.3f}, reject {i.reject:.3f} — set by "
                                f"{i.changed_by} at {theme.when(i.changed_at)}. Model {i.model_id} ships with accept "
                                f"{i.model_accept:.3f}, reject {i.model_reject:.3f} (pooled).")  # fmt: skip
        else:
            self.source.setText(f"In force: the thresholds of model {i.model_id}, chosen for each number of "
                                f"references a signatory has (pooled: accept {i.accept:.3f}, reject {i.reject:.3f}). "
                                "Saving sets one pair for every signatory.")  # fmt: skip

    def _dragged(self, which: str, value: float) -> None:
        (self.accept_spin if which == "accept" else self.reject_spin).setValue(value)

    def proposed(self) -> tuple[float, float]:
        return self.accept_spin.value(), self.reject_spin.value()

    def _changed(self) -> None:
        if self.info is None:
            return
        accept, reject = self.proposed()
        self.histogram.set_thresholds(accept, reject)
        valid = accept >= reject
        self.error.setText("" if valid else "Accept must be at or above reject.")
        dirty = (abs(accept - self.info.accept) > 1e-9 or abs(reject - self.info.reject) > 1e-9
                 or self.adapt.isChecked() != self.info.adapt_per_signatory)  # fmt: skip
        self.save_button.setEnabled(valid and dirty)
        scores = self.history.scores
        new = outcome_counts(scores, accept, reject)
        old = outcome_counts(scores, self.info.accept, self.info.reject)
        n = int(np.isfinite(scores).sum())
        if not n:
            self.effect.setText("<span style='color:%s'>No recent scores to preview.</span>" % theme.MUTED)
            return

        def cell(d: str) -> str:
            colour = theme.decision_colour(d).name()
            delta = new[d] - old[d]
            change = f" <span style='color:{theme.MUTED}'>({'+' if delta > 0 else ''}{delta})</span>" if delta else ""
            return f"<span style='color:{colour}; font-weight:600'>{new[d]} {d.lower()}</span>{change}"

        wrong = ""
        if self.history.final and len(self.history.final) == len(scores):
            fa = sum(1 for s, f in zip(scores, self.history.final)
                     if f is not None and str(f) == "REJECT" and math.isfinite(s) and s >= accept)  # fmt: skip
            if fa:
                wrong = (f"<br><span style='color:{theme.REJECT}'>{fa} cheque{'s' if fa != 1 else ''} a person "
                         "rejected would be accepted.</span>")  # fmt: skip
        self.effect.setText(f"Of the last {n} cheques: {cell('ACCEPT')}, {cell('REFER')}, {cell('REJECT')}{wrong}")

    def save(self) -> None:
        accept, reject = self.proposed()
        adapt = self.adapt.isChecked()
        self.save_button.setEnabled(False)
        self.runner.submit(lambda s: s.set_thresholds(accept, reject, adapt_per_signatory=adapt), self.session,
                           name="thresholds-save", on_done=self._saved, on_error=self._failed)  # fmt: skip

    def reset(self) -> None:
        self.runner.submit(lambda s: s.reset_thresholds(), self.session, name="thresholds-save", on_done=self._saved,
                           on_error=self._failed)  # fmt: skip

    def _saved(self, info) -> None:
        self.info = info
        self._show_info()
        self.histogram.set_data(self.history.scores, self.history.final, (info.accept, info.reject))
        self._changed()
        self.saved.emit(info)

    def _failed(self, exc, details) -> None:
        from chequeverify.gui.errors import show_error

        self._changed()
        show_error(self, exc, details)
