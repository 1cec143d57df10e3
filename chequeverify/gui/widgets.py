"""Small painted widgets shared by the windows: badge, score bar, signature tile, empty state.

All are drawn with QPainter in logical coordinates, so they stay sharp on
high-DPI screens; images are scaled once per size and device pixel ratio.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from chequeverify.gui import theme
from chequeverify.gui.qtimage import fitted_pixmap

_BADGE_TEXT = {"ACCEPT": "ACCEPT", "REFER": "REFER", "REJECT": "REJECT"}


class DecisionBadge(QWidget):
    """The decision, unmistakable: a filled block in the decision's colour with its word in capitals.

    ``set_decision(None)`` shows a neutral "not verified" state; ``caption``
    says whose decision it is (the model's, the clerk's, awaiting approval).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._decision: str | None = None
        self._caption = ""
        self._error = False
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Decision")

    def sizeHint(self) -> QSize:
        return QSize(260, 72)

    @property
    def decision(self) -> str | None:
        return self._decision

    def set_decision(self, decision: str | None, caption: str = "", *, error: bool = False) -> None:
        self._decision = str(decision) if decision is not None else None
        self._caption = caption
        self._error = error
        self.setAccessibleDescription(f"{self._decision or 'none'} {caption}")
        self.update()

    def text(self) -> str:
        if self._error:
            return "ERROR"
        return _BADGE_TEXT.get(self._decision or "", "NOT VERIFIED")

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if self._error:
            fill, fg = QColor(theme.ERROR), QColor("white")
        elif self._decision in _BADGE_TEXT:
            fill, fg = theme.decision_colour(self._decision), QColor("white")
        else:
            fill, fg = QColor(theme.GROUND), QColor(theme.MUTED)
        p.setPen(Qt.PenStyle.NoPen if self._decision or self._error else QPen(QColor(theme.BORDER), 1))
        p.setBrush(fill)
        p.drawRoundedRect(r, 8, 8)
        # the symbol: a check, a question mark in a circle, a cross
        cx, cy, rad = r.left() + r.height() / 2 + 4, r.center().y(), r.height() * 0.27
        pen = QPen(fg, max(2.0, rad * 0.28), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        d = self._decision if not self._error else "ERROR"
        if d == "ACCEPT":
            p.drawPolyline([QPointF(cx - rad * 0.8, cy), QPointF(cx - rad * 0.2, cy + rad * 0.6),
                            QPointF(cx + rad * 0.9, cy - rad * 0.6)])  # fmt: skip
        elif d == "REJECT":
            k = rad * 0.7
            p.drawLine(QPointF(cx - k, cy - k), QPointF(cx + k, cy + k))
            p.drawLine(QPointF(cx - k, cy + k), QPointF(cx + k, cy - k))
        elif d in ("REFER", "ERROR"):
            p.drawEllipse(QPointF(cx, cy), rad, rad)
            f = theme.font(4, bold=True)
            p.setFont(f)
            p.drawText(QRectF(cx - rad, cy - rad, 2 * rad, 2 * rad), Qt.AlignmentFlag.AlignCenter,
                       "?" if d == "REFER" else "!")  # fmt: skip
        else:
            pen.setStyle(Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.drawEllipse(QPointF(cx, cy), rad, rad)
        text_left = cx + rad + 14
        title = theme.font(7 if d else 3, weight=QFont.Weight.Bold)
        p.setPen(fg)
        p.setFont(title)
        fm = QFontMetrics(title)
        if self._caption:
            top = r.top() + (r.height() - fm.height() - 18) / 2
            p.drawText(QRectF(text_left, top, r.right() - text_left - 8, fm.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.text())  # fmt: skip
            small = theme.font(-0.5)
            p.setFont(small)
            c = QColor(fg)
            c.setAlphaF(0.9)
            p.setPen(c)
            cap = QFontMetrics(small).elidedText(self._caption, Qt.TextElideMode.ElideRight,
                                                 int(r.right() - text_left - 8))  # fmt: skip
            p.drawText(QRectF(text_left, top + fm.height() + 2, r.right() - text_left - 8, 16),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, cap)  # fmt: skip
        else:
            p.drawText(QRectF(text_left, r.top(), r.right() - text_left - 8, r.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.text())  # fmt: skip
        p.end()


def score_scale(accept: float, reject: float, *scores: float) -> tuple[float, float]:
    """The range a score bar shows: the grey zone in the middle, room either side, every finite score inside."""
    span = max(abs(accept - reject), 0.05)
    lo, hi = reject - 1.6 * span, accept + 1.6 * span
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    if finite:
        lo, hi = min(lo, min(finite) - 0.1 * span), max(hi, max(finite) + 0.1 * span)
    return lo, hi


class ScoreBar(QWidget):
    """A score against the two thresholds.

    The track is split into the three zones (reject, refer, accept), each in
    its tint; the thresholds are ticks; the score is a filled bar up to its
    value in the colour of the zone it falls in, with its value written at
    the right. ``scale`` (lo, hi) lets several bars share one axis.
    """

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self._score = float("nan")
        self._accept = 1.0
        self._reject = 0.0
        self._scale: tuple[float, float] | None = None
        self._compact = compact
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(220, 18 if self._compact else 26)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 16 if self._compact else 24)

    def set_score(self, score: float, accept: float, reject: float, scale: tuple[float, float] | None = None) -> None:
        self._score, self._accept, self._reject, self._scale = float(score), float(accept), float(reject), scale
        zone = self.zone()
        self.setToolTip(
            f"score {self._fmt(self._score)} — accept at ≥ {accept:.3f}, reject below {reject:.3f} ({zone})"
        )
        self.setAccessibleDescription(self.toolTip())
        self.update()

    def zone(self) -> str:
        s = self._score
        if not math.isfinite(s):
            return "no score"
        return "accept" if s >= self._accept else ("reject" if s < self._reject else "refer")

    @staticmethod
    def _fmt(x: float) -> str:
        return f"{x:.3f}" if math.isfinite(x) else "—"

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        f = theme.font(-0.5, bold=True)
        p.setFont(f)
        fm = QFontMetrics(f)
        value_w = fm.horizontalAdvance("−0.000") + 6
        h = self.height()
        track_h = 8 if self._compact else 10
        track = QRectF(1, (h - track_h) / 2, max(10, self.width() - value_w - 8), track_h)
        lo, hi = self._scale or score_scale(self._accept, self._reject, self._score)

        def x_of(v: float) -> float:
            t = (v - lo) / (hi - lo) if hi > lo else 0.5
            return track.left() + max(0.0, min(1.0, t)) * track.width()

        xr, xa = x_of(self._reject), x_of(self._accept)
        clip = QPainterPath()
        clip.addRoundedRect(track, track_h / 2, track_h / 2)
        p.save()
        p.setClipPath(clip)
        p.setPen(Qt.PenStyle.NoPen)
        for left, right, state in ((track.left(), xr, "rejected"), (xr, xa, "referred"), (xa, track.right(), "accepted")):
            p.setBrush(theme.tint(state))
            p.drawRect(QRectF(left, track.top(), right - left, track.height()))
        zone = self.zone()
        if math.isfinite(self._score):
            colour = {"accept": theme.ACCEPT, "refer": theme.REFER, "reject": theme.REJECT}[zone]
            p.setBrush(QColor(colour))
            p.drawRect(QRectF(track.left(), track.top() + 2, x_of(self._score) - track.left(), track.height() - 4))
        p.restore()
        # threshold ticks
        for x, colour in ((xr, theme.REJECT), (xa, theme.ACCEPT)):
            p.setPen(QPen(QColor(colour), 2))
            p.drawLine(QPointF(x, track.top() - 3), QPointF(x, track.bottom() + 3))
        if math.isfinite(self._score):
            xs = x_of(self._score)
            p.setPen(QPen(QColor("white"), 1.5))
            p.setBrush(QColor(theme.INK))
            p.drawEllipse(QPointF(xs, track.center().y()), track_h / 2 + 1, track_h / 2 + 1)
        p.setPen(QColor(theme.INK if math.isfinite(self._score) else theme.FAINT))
        p.drawText(QRectF(track.right() + 6, 0, value_w, h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   self._fmt(self._score).replace("-", "−"))  # fmt: skip
        p.end()


class SignatureTile(QFrame):
    """A signature image on white, scaled to fit, with an optional caption and score line under it.

    Clicking it emits ``clicked``; ``selected`` draws a focus ring (the
    reference being compared).
    """

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None, *, size: QSize = QSize(150, 70), caption: str = "") -> None:
        super().__init__(parent)
        self._image = QImage()
        self._cache: QPixmap | None = None
        self._cache_key: tuple | None = None
        self._caption = caption
        self._footer = ""
        self._footer_colour = theme.MUTED
        self._selected = False
        self._placeholder = "no image"
        self._size = size
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        extra = (18 if self._caption else 0) + (18 if self._footer else 0)
        return QSize(self._size.width(), self._size.height() + extra)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.sizeHint().height())

    def set_image(self, image: QImage | None, placeholder: str = "no image") -> None:
        self._image = image if image is not None else QImage()
        self._placeholder = placeholder
        self._cache = None
        self.update()

    def image(self) -> QImage:
        return self._image

    def set_tile_size(self, size: QSize) -> None:
        """The image area's size (the evidence panel grows its tiles with its width)."""
        if size != self._size:
            self._size = QSize(size)
            self._cache = None
            self.updateGeometry()
            self.update()

    def tile_size(self) -> QSize:
        return QSize(self._size)

    def set_caption(self, caption: str) -> None:
        self._caption = caption
        self.updateGeometry()
        self.update()

    def set_footer(self, text: str, colour: str = theme.MUTED) -> None:
        self._footer, self._footer_colour = text, colour
        self.updateGeometry()
        self.update()

    def set_selected(self, selected: bool) -> None:
        self._selected = selected
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        top = 0.0
        small = theme.font(-1)
        fm = QFontMetrics(small)
        if self._caption:
            p.setFont(small)
            p.setPen(QColor(theme.MUTED))
            p.drawText(QRectF(2, 0, self.width() - 4, 16), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(self._caption, Qt.TextElideMode.ElideRight, self.width() - 4))  # fmt: skip
            top = 18
        bottom = self.height() - (18 if self._footer else 0)
        frame = QRectF(0.5, top + 0.5, self.width() - 1, bottom - top - 1)
        p.setPen(QPen(QColor(theme.FOCUS if self._selected else theme.BORDER), 2 if self._selected else 1))
        p.setBrush(QColor("white"))
        p.drawRoundedRect(frame, 5, 5)
        inner = frame.adjusted(6, 5, -6, -5)
        if not self._image.isNull() and inner.width() > 2 and inner.height() > 2:
            dpr = self.devicePixelRatioF()
            key = (round(inner.width()), round(inner.height()), dpr)
            if self._cache is None or self._cache_key != key:
                self._cache = fitted_pixmap(self._image, QSize(key[0], key[1]), dpr)
                self._cache_key = key
            pm = self._cache
            w, h = pm.width() / pm.devicePixelRatio(), pm.height() / pm.devicePixelRatio()
            p.drawPixmap(QPointF(inner.center().x() - w / 2, inner.center().y() - h / 2), pm)
        else:
            p.setFont(small)
            p.setPen(QColor(theme.FAINT))
            p.drawText(frame, Qt.AlignmentFlag.AlignCenter, self._placeholder)
        if self._footer:
            f = theme.font(-1, bold=True)
            p.setFont(f)
            p.setPen(QColor(self._footer_colour))
            p.drawText(QRectF(2, bottom, self.width() - 4, 18), Qt.AlignmentFlag.AlignCenter,
                       QFontMetrics(f).elidedText(self._footer, Qt.TextElideMode.ElideRight, self.width() - 4))  # fmt: skip
        p.end()


class Panel(QFrame):
    """A white card with a small capitalised title; ``body`` is its layout."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Panel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 12)
        outer.setSpacing(8)
        self.title = QLabel(title.upper())
        self.title.setObjectName("PanelTitle")
        self.title.setFont(theme.font(-1.5, bold=True))
        self.title.setVisible(bool(title))
        outer.addWidget(self.title)
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        outer.addLayout(self.body)


class EmptyState(QWidget):
    """A centred title and a line of advice, for an empty list or an empty workspace."""

    def __init__(self, title: str, advice: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        self.title = QLabel(title)
        self.title.setObjectName("EmptyTitle")
        self.title.setFont(theme.font(3, bold=True))
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.advice = QLabel(advice)
        self.advice.setObjectName("Muted")
        self.advice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.advice.setWordWrap(True)
        self.advice.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.title)
        lay.addWidget(self.advice)
        lay.addStretch(2)

    def set_text(self, title: str, advice: str = "") -> None:
        self.title.setText(title)
        self.advice.setText(advice)


def hline() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setStyleSheet(f"color: {theme.BORDER}; background: {theme.BORDER}; max-height: 1px; border: none;")
    return line


class ElidedLabel(QLabel):
    """A one-line label that gives up width: its text is elided (``…``) when the layout is narrow.

    A plain ``QLabel`` asks for its whole text's width as its minimum, so a
    long file name in a header can push a window's panels past its edge.
    ``text()`` keeps the whole text; the tooltip shows it when it is cut.
    """

    def __init__(self, text: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight, min_width: int = 40) -> None:
        super().__init__(text)
        self._mode = mode
        self._min_width = min_width
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:
        return QSize(self._min_width, super().minimumSizeHint().height())

    def is_elided(self) -> bool:
        return QFontMetrics(self.font()).horizontalAdvance(self.text()) > self.contentsRect().width()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._update_tooltip()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.is_elided() else "")

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        rect = self.contentsRect()
        shown = QFontMetrics(self.font()).elidedText(self.text(), self._mode, rect.width())
        p = QPainter(self)
        self.style().drawItemText(p, rect, int(self.alignment()), self.palette(), self.isEnabled(), shown,
                                  self.foregroundRole())  # fmt: skip
        p.end()
