"""Thresholds (supervisors), with a histogram of recent scores so a change is seen before it is saved."""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
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

from chequeverify.gui import confirm, icons, theme
from chequeverify.gui.widgets import Panel
from chequeverify.gui.workers import Runner


def _load(session):
    return session.thresholds(), session.recent_scores(500)


def outcome_counts(scores: np.ndarray, accept: float, reject: float) -> dict[str, int]:
    s = np.asarray(scores, np.float64)
    s = s[np.isfinite(s)]
    return {"ACCEPT": int((s >= accept).sum()), "REFER": int(((s < accept) & (s >= reject)).sum()),
            "REJECT": int((s < reject).sum())}  # fmt: skip


def zones(scores: np.ndarray, accept: float, reject: float) -> list[str]:
    """What one pair of thresholds decides for each score (``""`` for a missing score)."""
    return ["" if not math.isfinite(float(x)) else "ACCEPT" if x >= accept else "REJECT" if x < reject else "REFER"
            for x in np.asarray(scores, np.float64)]  # fmt: skip


def waiting_text(change, *, just_asked: bool = False, in_force: str = "") -> str:
    """A thresholds change waiting for a second supervisor, in words (rich text): what, who, when, why.

    ``just_asked``: the save that made it just returned (the heading says that nothing changed yet).
    """
    reason = f" — “{html.escape(change.reason, quote=False)}”" if change.reason else ""
    head = (f"<span style='color:{theme.REFER}; font-weight:600'>Not in force yet: this change waits for a second "
            f"supervisor.</span>" if just_asked else "<b>Waiting for a second supervisor:</b>")  # fmt: skip
    kept = f"In force until then: {in_force}. " if in_force else ""
    return (f"{head} {html.escape(change.summary, quote=False)}<br><span style='color:{theme.MUTED}'>Change "
            f"{change.id}, asked by {html.escape(change.requested_by, quote=False)} at "
            f"{theme.when(change.requested_at)}{reason}. {kept}Another supervisor approves it under Registration → "
            "Pending approvals (its maker may withdraw it there); no other looser change can be asked for while it "
            "waits.</span>")  # fmt: skip


def by_references(info) -> tuple[tuple[int, float, float], ...]:
    """The model's ``(K, accept, reject)`` rows, if the service gives them (older services do not)."""
    return tuple(getattr(info, "by_references", ()) or ())


def rows_in_force(info) -> tuple[tuple[int, float, float], ...]:
    """The ``(K, accept, reject)`` rows deciding signatories now: the model's, or the workspace's own (empty
    while one pair decides every signatory)."""
    if info.source == "workspace":
        return tuple(getattr(info, "workspace_by_references", ()) or ())
    return by_references(info)


def per_k(info) -> bool:
    """Whether the thresholds in force are one pair per number of references (the model's or the workspace's)."""
    return bool(rows_in_force(info))


def moved_rows(info, accept_by: float, reject_by: float) -> tuple[tuple[int, float, float], ...]:
    """The rows in force with every accept moved by ``accept_by`` and every reject by ``reject_by`` (a value
    not moved stays exactly as it is)."""
    return tuple((k, round(a + accept_by, 6) if accept_by else a, round(r + reject_by, 6) if reject_by else r)
                 for k, a, r in rows_in_force(info))  # fmt: skip


def loosened_rows(info, rows) -> list[str]:
    """In words, where the proposed ``rows`` are lower than the rows in force (empty: not looser)."""
    now = rows_in_force(info)
    all_ks = [r[0] for r in now]
    out = []
    for what, col in (("accept", 1), ("reject", 2)):
        lower = [(old[0], old[col], new[col]) for old, new in zip(now, rows) if new[col] < old[col] - 1e-9]
        if lower:
            steps = ", ".join(f"K = {k}: {a:.3f} → {b:.3f}" for k, a, b in lower)
            out.append(f"{what} goes down for signatories with {specimen_ranges([k for k, _, _ in lower], all_ks)} "
                       f"({steps})")  # fmt: skip
    return out


def effect_html(cheques: int, after: dict[str, int], before: dict[str, int], against: str,
                people_rejected: int, *, lead: str = "with this pair for every signatory") -> str:  # fmt: skip
    """A proposal's effect on the recent cheques (rich text): the counts after it, each with its change, and the
    cheques people rejected that would now be accepted. Shown to the maker (the dialog) and to the checker."""
    if not cheques:
        return f"<span style='color:{theme.MUTED}'>No recent scores to preview.</span>"

    def cell(d: str) -> str:
        colour = theme.decision_colour(d).name()
        delta = after[d] - before[d]
        change = f" <span style='color:{theme.MUTED}'>({'+' if delta > 0 else ''}{delta})</span>" if delta else ""
        return f"<span style='color:{colour}; font-weight:600'>{after[d]} {d.lower()}</span>{change}"

    wrong = ""
    if people_rejected:
        wrong = (f"<br><span style='color:{theme.REJECT}'>{people_rejected} cheque{'s' if people_rejected != 1 else ''}"
                 " a person rejected would now be accepted.</span>")  # fmt: skip
    return (f"Of the last {cheques} cheque{'s' if cheques != 1 else ''}, {lead}: {cell('ACCEPT')}, "
            f"{cell('REFER')}, {cell('REJECT')}<br><span style='color:{theme.MUTED}'>(changes against {against})"
            f"</span>{wrong}")  # fmt: skip


def loosened_for(info, accept: float, reject: float) -> list[str]:
    """In words, where the pair ``accept`` / ``reject`` is lower than the thresholds in force (empty: not looser)."""
    out = []
    if per_k(info):
        rows = by_references(info)
        for what, value, col in (("accept", accept, 1), ("reject", reject, 2)):
            ks = [r[0] for r in rows if value < r[col] - 1e-9]
            if ks:
                highest = max(r[col] for r in rows)
                out.append(f"{what} {value:.3f} is below the model's {what} threshold for signatories with "
                           f"{specimen_ranges(ks, [r[0] for r in rows])} (in force: up to {highest:.3f})")  # fmt: skip
        return out
    for what, value, now in (("accept", accept, info.accept), ("reject", reject, info.reject)):
        if value < now - 1e-9:
            out.append(f"{what} goes down from {now:.3f} to {value:.3f}")
    return out


def specimen_ranges(ks: list[int], all_ks: list[int]) -> str:
    """The numbers of specimens the rows ``ks`` decide, in words: rows [1, 2, 5] of [1, 2, 3, 5] → "1–2 or 5 or more".

    Row K decides every signatory from K specimens up to the next row's K (the last row: any number above).
    """
    all_ks = sorted(all_ks)
    if set(ks) >= set(all_ks):
        return "any number of specimens"
    spans: list[list[int | None]] = []
    for i, k in enumerate(all_ks):
        if k not in ks:
            continue
        end = all_ks[i + 1] - 1 if i + 1 < len(all_ks) else None
        start = 1 if i == 0 else k
        if spans and spans[-1][1] is not None and spans[-1][1] + 1 == start:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    words = [f"{a} or more" if b is None else (str(a) if a == b else f"{a}–{b}") for a, b in spans]
    return " or ".join(words) + " specimens"


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
        #: the model's per-K thresholds in force, (K, accept, reject): drawn as bands instead of ``saved``
        self.rows: tuple[tuple[int, float, float], ...] = ()
        self.setMinimumSize(QSize(520, 190))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, scores: np.ndarray, final: tuple, saved: tuple[float, float],
                 rows: tuple[tuple[int, float, float], ...] = ()) -> None:  # fmt: skip
        """``saved``: one pair in force for every signatory; or ``rows``: the model's pair per number of references."""
        self.scores = np.asarray(scores, np.float32)
        self.final = tuple(final)
        self.saved = saved
        self.rows = tuple(rows)
        self.update()

    def set_thresholds(self, accept: float, reject: float) -> None:
        self.accept, self.reject = accept, reject
        self.update()

    def _range(self) -> tuple[float, float]:
        finite = self.scores[np.isfinite(self.scores)]
        values = [self.accept, self.reject, *([v for r in self.rows for v in r[1:]] if self.rows else self.saved)]
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
        # thresholds in force: one pair dashed, or the model's per-K pairs as a band from lowest to highest
        lines = [(self.reject, theme.REJECT, False), (self.accept, theme.ACCEPT, False)]
        if self.rows:
            for col, colour in ((2, theme.REJECT), (1, theme.ACCEPT)):
                lo_v, hi_v = min(r[col] for r in self.rows), max(r[col] for r in self.rows)
                band = QColor(colour)
                band.setAlphaF(0.10)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(band)
                p.drawRect(QRectF(x_of(lo_v), plot.top(), max(1.0, x_of(hi_v) - x_of(lo_v)), plot.height()))
                lines[:0] = [(lo_v, colour, True), (hi_v, colour, True)]
        else:
            lines[:0] = [(self.saved[1], theme.REJECT, True), (self.saved[0], theme.ACCEPT, True)]
        for value, colour, dashed in lines:
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
    """Edit the accept / reject thresholds and per-signatory adaptation; ``saved`` after a change is stored.

    Maker-checker: a stricter change applies at once; a looser one (or
    adaptation turned off) is only *asked for*: the service keeps it for a
    second supervisor and the thresholds in force do not move. ``saved``
    is emitted either way (with the thresholds in force); ``outcome`` says
    which happened, and a change that waits is shown (also on opening).

    While thresholds per number of references K are in force (the
    model's, or the workspace's own made here) each signatory is decided by
    the pair of its row: the dialog shows that table, draws it as bands, and
    compares a proposal with what was actually decided (the history does
    not say each cheque's K). The two values then *move* the rows: raising
    accept raises every row's accept and leaves the rejects as they are, so
    a stricter edit stays stricter for every K (and applies at once).
    Saving looser thresholds needs an explicit confirmation.
    """

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
        #: what the two spin boxes showed on loading (the thresholds in force, as rounded for the boxes)
        self._start = (0.0, 0.0)
        #: the table's accept / reject cells, by (K, column): they show the proposed value beside the one in force
        self._cells: dict[tuple[int, int], QLabel] = {}
        #: the id of the change the last save asked for (it waits for a second supervisor)
        self._just_asked: int | None = None
        room = self.screen().availableGeometry() if self.screen() is not None else None
        self.resize(800, 760 if room is None else max(400, min(760, room.height() - 40)))
        self.setMinimumWidth(600)  # the histogram's width (the content scrolls only up and down)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 14, 14, 12)
        outer.setSpacing(10)
        # everything but the outcome and the buttons scrolls: on a low screen Save stays in sight
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        content.setObjectName("ThresholdsContent")
        self.scroll.setWidget(content)
        self.scroll.viewport().setAutoFillBackground(False)
        content.setAutoFillBackground(False)
        outer.addWidget(self.scroll, 1)
        lay = QVBoxLayout(content)
        lay.setContentsMargins(0, 0, 4, 0)
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
        self.legend = QLabel("")
        self.legend.setObjectName("Faint")
        self.legend.setWordWrap(True)
        self.legend.setFont(theme.font(-1.5))
        panel.body.addWidget(self.legend)
        lay.addWidget(panel, 1)
        # the model's thresholds per number of references (what decides while the source is "model")
        self.table_panel = Panel("The model's thresholds by number of references")
        self.table = QGridLayout()
        self.table.setHorizontalSpacing(14)
        self.table.setVerticalSpacing(2)
        self.table_panel.body.addLayout(self.table)
        self.table_note = QLabel("")
        self.table_note.setWordWrap(True)
        self.table_note.setTextFormat(Qt.TextFormat.RichText)
        self.table_panel.body.addWidget(self.table_note)
        self.table_panel.setVisible(False)
        lay.addWidget(self.table_panel)
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
        self.source.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.source)
        # a change waiting for a second supervisor (a looser one does not apply at once)
        self.waiting = QLabel("")
        self.waiting.setObjectName("WaitingChange")
        self.waiting.setWordWrap(True)
        self.waiting.setTextFormat(Qt.TextFormat.RichText)
        self.waiting.setStyleSheet(f"QLabel#WaitingChange {{ background: {theme.TINTS['referred']}; color: {theme.INK};"
                                   f" border: 1px solid {theme.REFER}; border-radius: 6px; padding: 8px; }}")  # fmt: skip
        self.waiting.setVisible(False)
        lay.addWidget(self.waiting)
        reason_row = QHBoxLayout()
        reason_label = QLabel("Reason")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why this change (optional; kept in the audit log and shown to the second "
                                       "supervisor)")  # fmt: skip
        self.reason.setClearButtonEnabled(True)
        reason_row.addWidget(reason_label)
        reason_row.addWidget(self.reason, 1)
        lay.addLayout(reason_row)
        self.error = QLabel("")
        self.error.setObjectName("InlineError")
        outer.addWidget(self.error)
        #: what the last save did: in force, or waiting for a second supervisor
        self.outcome = QLabel("")
        self.outcome.setObjectName("SaveOutcome")
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.outcome.setVisible(False)
        outer.addWidget(self.outcome)
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
        outer.addLayout(buttons)
        self.setEnabled(True)
        self.save_button.setEnabled(False)
        self.effect.setText("Loading recent scores…")
        runner.submit(_load, session, name="thresholds", on_done=self._loaded)

    def _loaded(self, result) -> None:
        self.info, self.history = result
        self._show_info()
        self._changed()
        self.loaded.emit()

    def _show_info(self) -> None:
        i = self.info
        for s, v in ((self.accept_spin, i.accept), (self.reject_spin, i.reject)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)
        self._start = self.proposed()
        self.adapt.blockSignals(True)
        self.adapt.setChecked(i.adapt_per_signatory)
        self.adapt.blockSignals(False)
        pending = getattr(i, "pending", None)
        self.waiting.setText(waiting_text(pending, just_asked=pending.id == self._just_asked,
                                          in_force=self._in_force_words(i)) if pending is not None else "")  # fmt: skip
        self.waiting.setVisible(pending is not None)
        rows = rows_in_force(i)
        self._fill_table(rows or by_references(i))
        self.reset_button.setEnabled(i.source == "workspace")
        if self.history is not None:
            self.histogram.set_data(self.history.scores, self.history.final, (i.accept, i.reject), rows)
        if per_k(i):
            whose = "the model's" if i.source == "model" else "the workspace's"
            self.table_panel.title.setText(f"{whose.capitalize()} thresholds by number of references".upper())
            self.legend.setText("Bars: cheques by score, coloured by what the proposed pooled pair would decide. "
                                "Solid lines: the proposed pair (drag them). Shaded bands: the thresholds in force, "
                                "from the lowest to the highest over the numbers of references. Ticks under the "
                                "axis: cheques a person finally accepted (green) or rejected (red).")  # fmt: skip
            made = (f"model {i.model_id}'s own" if i.source == "model" else
                    f"the workspace's, set by {i.changed_by} at {theme.when(i.changed_at)}")  # fmt: skip
            self.source.setText(
                f"In force: one pair per number of references K a signatory has ({made}; table above). "
                f"<b>The two values move every row by the same amount</b>: raising accept raises each K's accept "
                f"and leaves the reject thresholds as they are. (Pooled over all K: accept {i.accept:.3f}, "
                f"reject {i.reject:.3f}.)")  # fmt: skip
            self.table_note.setText(f"<span style='color:{theme.MUTED}'>A signatory with K specimens is decided by "
                                    "the row of the largest K not above it. These rows are in force now; a value "
                                    "you move shows its new value after the arrow.</span>")  # fmt: skip
        elif i.source == "model":
            self.table_panel.title.setText("The model's thresholds by number of references".upper())
            self.legend.setText("Bars: cheques by score, coloured by what the proposed thresholds would decide. "
                                "Solid lines: the proposed pair (drag them); dashed: the model's pooled pair. Ticks "
                                "under the axis: cheques a person finally accepted (green) or rejected (red).")  # fmt: skip
            self.source.setText(f"In force: the thresholds of model {i.model_id}, chosen for each number of "
                                f"references a signatory has (pooled: accept {i.accept:.3f}, reject {i.reject:.3f}). "
                                "<b>Saving sets one pair for every signatory</b>, replacing them.")  # fmt: skip
        else:
            self.table_panel.title.setText("The model's thresholds by number of references".upper())
            self.legend.setText("Bars: cheques by score, coloured by what the proposed thresholds would decide. "
                                "Solid lines: the proposed pair (drag them); dashed: the pair in force. Ticks under "
                                "the axis: cheques a person finally accepted (green) or rejected (red).")  # fmt: skip
            self.source.setText(f"In force for every signatory: accept {i.accept:.3f}, reject {i.reject:.3f} — set by "
                                f"{i.changed_by} at {theme.when(i.changed_at)}, replacing the model's thresholds "
                                f"(pooled: accept {i.model_accept:.3f}, reject {i.model_reject:.3f}).")  # fmt: skip
            self.table_note.setText(f"<span style='color:{theme.MUTED}'>Not in force while the workspace's pair "
                                    "is: “Back to the model's thresholds” brings them back.</span>")  # fmt: skip

    def _fill_table(self, rows) -> None:
        self._cells = {}
        while self.table.count():
            w = self.table.takeAt(0).widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        self.table_panel.setVisible(bool(rows))
        if not rows:
            return
        heads = ("Specimens (K)", "Accept at or above", "Reject below")
        for r, text in enumerate(heads):
            h = QLabel(text)
            h.setObjectName("Muted")
            self.table.addWidget(h, r, 0)
        for c, (k, a, rj) in enumerate(rows, start=1):
            for r, (text, colour) in enumerate(((str(k), theme.INK),
                                                (f"{a:.3f}", theme.ACCEPT), (f"{rj:.3f}", theme.REJECT))):  # fmt: skip
                cell = QLabel(text)
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setStyleSheet(f"color: {colour};" + (" font-weight: 600;" if r == 0 else ""))
                self.table.addWidget(cell, r, c)
                if r:
                    self._cells[(k, r)] = cell
        self.table.setColumnStretch(len(rows) + 1, 1)

    def _dragged(self, which: str, value: float) -> None:
        (self.accept_spin if which == "accept" else self.reject_spin).setValue(value)

    def proposed(self) -> tuple[float, float]:
        return self.accept_spin.value(), self.reject_spin.value()

    def moved_by(self) -> tuple[float, float]:
        """How far the accept and the reject box were moved from the thresholds in force (0.0: not touched)."""
        (accept, reject), (a0, r0) = self.proposed(), self._start
        return (accept - a0 if abs(accept - a0) > 1e-9 else 0.0), (reject - r0 if abs(reject - r0) > 1e-9 else 0.0)

    def proposed_rows(self) -> tuple[tuple[int, float, float], ...]:
        """With rows per K in force: those rows, moved as the two boxes were (empty otherwise)."""
        return moved_rows(self.info, *self.moved_by()) if per_k(self.info) else ()

    def proposed_change(self) -> tuple[float, float]:
        """The pair to save: a value not touched stays exactly the one in force (the boxes round to 0.001)."""
        (da, dr), (accept, reject) = self.moved_by(), self.proposed()
        if per_k(self.info):  # the pooled pair beside the rows moves with them
            return self.info.accept + da, self.info.reject + dr
        return (accept if da else self.info.accept), (reject if dr else self.info.reject)

    def thresholds_changed(self) -> bool:
        """Whether the proposed pair differs from what was loaded (else Save only changes adaptation)."""
        return self.moved_by() != (0.0, 0.0)

    def in_force_zones(self) -> list[str]:
        """What the thresholds in force decide for each recent score.

        Per-K thresholds cannot be recomputed here (the history does not say
        each cheque's K), so the model's recorded decisions stand for them.
        """
        scores = self.history.scores
        if (self.info.source == "model" or per_k(self.info)) and len(self.history.decisions) == len(scores):
            return ["" if not math.isfinite(float(x)) else str(d) for x, d in zip(scores, self.history.decisions)]
        return zones(scores, self.info.accept, self.info.reject)

    def consequences(self) -> dict[str, int]:
        """Of the recent cheques, how many the proposed pair would decide differently from what is in force."""
        accept, reject = self.proposed()
        new = zones(self.history.scores, accept, reject)
        old = self.in_force_zones()
        final = self.history.final if len(self.history.final) == len(new) else (None,) * len(new)
        now_accepted = [i for i, (n, o) in enumerate(zip(new, old)) if n == "ACCEPT" and o and o != "ACCEPT"]
        return {
            "now_accepted": len(now_accepted),
            "people_rejected_now_accepted": sum(1 for i in now_accepted if final[i] is not None
                                                and str(final[i]) == "REJECT"),  # fmt: skip
            "no_longer_rejected": sum(1 for n, o in zip(new, old) if o == "REJECT" and n and n != "REJECT"),
        }

    def _changed(self) -> None:
        if self.info is None:
            return
        accept, reject = self.proposed()
        self.histogram.set_thresholds(accept, reject)
        valid = accept >= reject
        self.error.setText("" if valid else "Accept must be at or above reject.")
        dirty = self.thresholds_changed() or self.adapt.isChecked() != self.info.adapt_per_signatory
        self.save_button.setEnabled(valid and dirty)
        if dirty:  # a new proposal: what the last save did no longer describes it
            self.outcome.setVisible(False)
        for (k, a, r), (_, a2, r2) in zip(rows_in_force(self.info), self.proposed_rows()):
            for col, was, new in ((1, a, a2), (2, r, r2)):
                if (k, col) in self._cells:
                    self._cells[(k, col)].setText(f"{was:.3f}" if new == was else f"{was:.3f} → {new:.3f}")
        scores = self.history.scores
        new_z, old_z = zones(scores, accept, reject), self.in_force_zones()
        new = {d: new_z.count(d) for d in ("ACCEPT", "REFER", "REJECT")}
        old = {d: old_z.count(d) for d in ("ACCEPT", "REFER", "REJECT")}
        if self.info.source == "model":
            against = "what the model decided with its thresholds per number of references"
        else:
            against = "what was decided with the rows in force" if per_k(self.info) else "the thresholds in force"
        self.effect.setText(effect_html(sum(1 for z in new_z if z), new, old, against,
                                        self.consequences()["people_rejected_now_accepted"],
                                        lead="by the proposed pair pooled over K" if per_k(self.info) else
                                        "with this pair for every signatory"))  # fmt: skip

    def confirm_loosening(self) -> bool:
        """True when the proposal is not looser than what is in force, or the supervisor confirms it."""
        accept, reject = self.proposed_change()
        where = loosened_rows(self.info, self.proposed_rows()) if per_k(self.info) else loosened_for(self.info, accept, reject)
        if not where:
            return True
        c = self.consequences()
        n = sum(1 for x in np.asarray(self.history.scores, np.float64) if math.isfinite(x))
        lines = [f"This loosens the thresholds: {'; '.join(where)}."]
        if n:
            lines.append(f"Of the last {n} cheques, {c['now_accepted']} would now be accepted without a person "
                         f"looking at them; {c['people_rejected_now_accepted']} of them are cheques people "
                         f"rejected. {c['no_longer_rejected']} the model rejected would no longer be rejected.")  # fmt: skip
        if per_k(self.info):
            lines.append("Each number of references keeps its own pair: every row moves by the same amount.")
        rejected = c["people_rejected_now_accepted"]
        lines.append("Looser thresholds do not apply at once: the change waits for a second supervisor's approval, "
                     "and the thresholds in force stay until then.")  # fmt: skip
        question = (f"{rejected} cheque{'s' if rejected != 1 else ''} people rejected would now be accepted. "
                    "Ask for these looser thresholds?" if rejected else "Ask for these looser thresholds?")  # fmt: skip
        return confirm.ask(self, "Loosen the thresholds", question, "\n\n".join(lines),
                           action="Ask for looser thresholds")  # fmt: skip

    def save(self) -> None:
        adapt = self.adapt.isChecked()
        change = self.thresholds_changed()
        if change and not self.confirm_loosening():
            return
        self.save_button.setEnabled(False)
        # only adaptation toggled: leave the thresholds alone. Rows per K in force: save them moved, never one
        # pair in their place (a pair would lower some row's reject when only accept was raised)
        a, r = self.proposed_change() if change else (None, None)
        rows = self.proposed_rows() if change and per_k(self.info) else None
        reason = self.reason.text().strip()
        before = self._waiting_id()
        self.runner.submit(lambda s: s.set_thresholds(a, r, by_references=rows, adapt_per_signatory=adapt,
                                                      reason=reason), self.session,
                           name="thresholds-save", on_done=lambda info: self._saved(info, before),
                           on_error=self._failed)  # fmt: skip

    def reset(self) -> None:
        reason = self.reason.text().strip()
        before = self._waiting_id()
        self.runner.submit(lambda s: s.reset_thresholds(reason=reason), self.session, name="thresholds-save",
                           on_done=lambda info: self._saved(info, before), on_error=self._failed)  # fmt: skip

    def _waiting_id(self) -> int | None:
        pending = getattr(self.info, "pending", None) if self.info is not None else None
        return pending.id if pending is not None else None

    def _saved(self, info, waiting_before: int | None = None) -> None:
        """Show what is in force now; say whether the save applied or only asked a second supervisor."""
        self.info = info
        pending = getattr(info, "pending", None)
        asked = pending is not None and pending.id != waiting_before
        # asked for, not applied: the waiting banner says so (and what stays in force); else it is in force
        self._just_asked = pending.id if asked else None
        self.outcome.setText("" if asked else f"<span style='color:{theme.ACCEPT}; font-weight:600'>Saved and in "
                             f"force:</span> {self._in_force_words(info)}.")  # fmt: skip
        self.outcome.setVisible(not asked)
        self.reason.clear()
        self._show_info()
        self._changed()
        self.saved.emit(info)

    @staticmethod
    def _in_force_words(info) -> str:
        adapt = "adapted to each signatory" if info.adapt_per_signatory else "no per-signatory adaptation"
        if per_k(info):
            whose = "the model's" if info.source == "model" else "the workspace's"
            return f"{whose} thresholds per number of references (table above), {adapt}"
        if info.source == "model":
            return f"the model's thresholds (accept {info.accept:.3f}, reject {info.reject:.3f}), {adapt}"
        return f"accept {info.accept:.3f}, reject {info.reject:.3f} for every signatory, {adapt}"

    def _failed(self, exc, details) -> None:
        from chequeverify.gui.errors import show_error

        self._changed()
        show_error(self, exc, details)
