"""Icons drawn in code with QPainter paths: sharp at any size and device pixel ratio.

Each icon is a function ``draw(p, s)`` that paints on a 24×24 design grid
(the painter is scaled to the requested size), in the pen's colour. The
:class:`VectorIconEngine` renders them for every size and mode Qt asks
for, so a toolbar on a 200 % screen gets a 48 px drawing, not a blown-up
24 px bitmap.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QIconEngine,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

from chequeverify.gui import theme

Draw = Callable[[QPainter], None]


class VectorIconEngine(QIconEngine):
    def __init__(self, draw: Draw, colour: str = theme.NAVY, *, coloured: bool = False) -> None:
        super().__init__()
        self._draw = draw
        self._colour = colour
        self._coloured = coloured  # keep its own colours (the app icon)

    def clone(self) -> QIconEngine:
        return VectorIconEngine(self._draw, self._colour, coloured=self._coloured)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        colour = QColor(self._colour)
        if mode == QIcon.Mode.Disabled:
            colour = QColor(theme.BORDER)
        elif mode == QIcon.Mode.Selected:
            colour = QColor(theme.NAVY_DARK)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        side = min(rect.width(), rect.height())
        painter.translate(rect.x() + (rect.width() - side) / 2, rect.y() + (rect.height() - side) / 2)
        painter.scale(side / 24.0, side / 24.0)
        pen = QPen(colour, 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        self._draw(painter)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        w, h = max(1, round(size.width() * scale)), max(1, round(size.height() * scale))
        image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        p = QPainter(image)
        self.paint(p, QRect(0, 0, w, h), mode, state)
        p.end()
        pm = QPixmap.fromImage(image)
        pm.setDevicePixelRatio(scale)
        return pm


def _icon(draw: Draw, colour: str = theme.NAVY, *, coloured: bool = False) -> QIcon:
    return QIcon(VectorIconEngine(draw, colour, coloured=coloured))


# --- drawings on the 24×24 grid ----------------------------------------------------


def _file(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(6, 3)
    path.lineTo(14, 3)
    path.lineTo(19, 8)
    path.lineTo(19, 21)
    path.lineTo(6, 21)
    path.closeSubpath()
    p.drawPath(path)
    p.drawPolyline([QPointF(14, 3), QPointF(14, 8), QPointF(19, 8)])
    p.drawLine(QPointF(9, 13), QPointF(16, 13))
    p.drawLine(QPointF(9, 16.5), QPointF(14, 16.5))


def _folder(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(3, 6.5)
    path.lineTo(3, 19)
    path.lineTo(21, 19)
    path.lineTo(21, 8.5)
    path.lineTo(11.5, 8.5)
    path.lineTo(9.5, 5.5)
    path.lineTo(4, 5.5)
    path.closeSubpath()
    p.drawPath(path)
    p.drawLine(QPointF(3, 11), QPointF(21, 11))


def _play(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(8, 5)
    path.lineTo(19, 12)
    path.lineTo(8, 19)
    path.closeSubpath()
    p.drawPath(path)


def _pause(p: QPainter) -> None:
    p.drawLine(QPointF(9, 5), QPointF(9, 19))
    p.drawLine(QPointF(15, 5), QPointF(15, 19))


def _up(p: QPainter) -> None:
    p.drawPolyline([QPointF(6, 15), QPointF(12, 9), QPointF(18, 15)])


def _down(p: QPainter) -> None:
    p.drawPolyline([QPointF(6, 9), QPointF(12, 15), QPointF(18, 9)])


def _magnifier(p: QPainter) -> None:
    p.drawEllipse(QPointF(10.5, 10.5), 6, 6)
    p.drawLine(QPointF(15, 15), QPointF(20.5, 20.5))


def _identify(p: QPainter) -> None:
    _magnifier(p)
    # a small signature stroke inside the lens
    path = QPainterPath()
    path.moveTo(7, 12)
    path.cubicTo(8, 8, 9.5, 8, 9.5, 11)
    path.cubicTo(9.5, 13, 11, 13, 11.5, 10)
    path.cubicTo(12, 8.5, 13.5, 9.5, 14, 11)
    pen = p.pen()
    pen.setWidthF(1.3)
    p.setPen(pen)
    p.drawPath(path)


def _person_plus(p: QPainter) -> None:
    p.drawEllipse(QPointF(9.5, 8), 3.5, 3.5)
    path = QPainterPath()
    path.moveTo(3, 20)
    path.cubicTo(3, 15, 6, 13.5, 9.5, 13.5)
    path.cubicTo(13, 13.5, 16, 15, 16, 20)
    p.drawPath(path)
    p.drawLine(QPointF(19, 7), QPointF(19, 13))
    p.drawLine(QPointF(16, 10), QPointF(22, 10))


def _people(p: QPainter) -> None:
    p.drawEllipse(QPointF(9, 8.5), 3.2, 3.2)
    path = QPainterPath()
    path.moveTo(3, 19.5)
    path.cubicTo(3, 15, 5.5, 13.5, 9, 13.5)
    path.cubicTo(12.5, 13.5, 15, 15, 15, 19.5)
    p.drawPath(path)
    p.drawEllipse(QPointF(16.5, 7.5), 2.6, 2.6)
    back = QPainterPath()
    back.moveTo(15.5, 12.3)
    back.cubicTo(19, 12, 21, 13.8, 21, 17.5)
    p.drawPath(back)


def _ledger(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(5, 4, 14, 17), 1.5, 1.5)
    p.drawLine(QPointF(9, 4), QPointF(9, 21))
    p.drawLine(QPointF(11.5, 9), QPointF(16, 9))
    p.drawLine(QPointF(11.5, 12.5), QPointF(16, 12.5))
    p.drawLine(QPointF(11.5, 16), QPointF(14.5, 16))


def _sliders(p: QPainter) -> None:
    for y, x in ((6, 15), (12, 8), (18, 13)):
        p.drawLine(QPointF(4, y), QPointF(20, y))
        p.setBrush(QBrush(QColor(theme.PANEL)))
        p.drawEllipse(QPointF(x, y), 2.2, 2.2)
        p.setBrush(Qt.BrushStyle.NoBrush)


def _logout(p: QPainter) -> None:
    p.drawPolyline([QPointF(13, 4), QPointF(5, 4), QPointF(5, 20), QPointF(13, 20)])
    p.drawLine(QPointF(10, 12), QPointF(20, 12))
    p.drawPolyline([QPointF(16.5, 8.5), QPointF(20, 12), QPointF(16.5, 15.5)])


def _zoom(sign: str) -> Draw:
    def draw(p: QPainter) -> None:
        _magnifier(p)
        p.drawLine(QPointF(8, 10.5), QPointF(13, 10.5))
        if sign == "+":
            p.drawLine(QPointF(10.5, 8), QPointF(10.5, 13))

    return draw


def _fit(p: QPainter) -> None:
    for (x, y), (dx, dy) in (((4, 4), (1, 1)), ((20, 4), (-1, 1)), ((4, 20), (1, -1)), ((20, 20), (-1, -1))):
        p.drawPolyline([QPointF(x, y + 5 * dy), QPointF(x, y), QPointF(x + 5 * dx, y)])


def _check_shield(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(12, 3)
    path.lineTo(19.5, 6)
    path.cubicTo(19.5, 13, 17, 18, 12, 21)
    path.cubicTo(7, 18, 4.5, 13, 4.5, 6)
    path.closeSubpath()
    p.drawPath(path)
    p.drawPolyline([QPointF(8.5, 12), QPointF(11, 14.5), QPointF(15.5, 9.5)])


def _box(p: QPainter) -> None:
    pen = p.pen()
    pen.setStyle(Qt.PenStyle.DashLine)
    pen.setWidthF(1.4)
    p.setPen(pen)
    p.drawRect(QRectF(4, 6, 16, 12))


def _refresh(p: QPainter) -> None:
    p.drawArc(QRectF(5, 5, 14, 14), 30 * 16, 280 * 16)
    a = math.radians(30)
    tip = QPointF(12 + 7 * math.cos(a), 12 - 7 * math.sin(a))
    p.drawPolyline([QPointF(tip.x() - 3.5, tip.y() - 0.5), tip, QPointF(tip.x() + 0.5, tip.y() - 3.8)])


def _app(p: QPainter) -> None:
    """The product's mark: a cheque with a signature stroke and a check badge."""
    p.setPen(Qt.PenStyle.NoPen)
    grad = QLinearGradient(0, 2, 0, 22)
    grad.setColorAt(0, QColor("#2b4c7e"))
    grad.setColorAt(1, QColor(theme.NAVY_DARK))
    p.setBrush(grad)
    p.drawRoundedRect(QRectF(1, 1, 22, 22), 5, 5)
    p.setBrush(QColor("#f7f4ea"))
    p.drawRoundedRect(QRectF(3.5, 6.5, 17, 10), 1.2, 1.2)
    pen = QPen(QColor(theme.NAVY), 0.9, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.drawLine(QPointF(5.5, 9), QPointF(11, 9))
    p.drawLine(QPointF(12.5, 14.3), QPointF(18.5, 14.3))
    sig = QPainterPath()
    sig.moveTo(12.5, 13.3)
    sig.cubicTo(13.3, 10.2, 14.4, 10.2, 14.3, 12.5)
    sig.cubicTo(14.2, 13.8, 15.4, 13.6, 16, 11.8)
    sig.cubicTo(16.5, 10.8, 17.6, 11.6, 18.4, 12.2)
    p.setPen(QPen(QColor("#173a8a"), 1.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawPath(sig)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(theme.ACCEPT))
    p.drawEllipse(QPointF(18.2, 18.2), 4.3, 4.3)
    p.setPen(QPen(QColor("white"), 1.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolyline([QPointF(16.2, 18.3), QPointF(17.6, 19.7), QPointF(20.2, 16.9)])


_DRAWINGS: dict[str, Draw] = {
    "open-file": _file,
    "open-folder": _folder,
    "play": _play,
    "pause": _pause,
    "previous": _up,
    "next": _down,
    "identify": _identify,
    "register": _person_plus,
    "users": _people,
    "audit": _ledger,
    "settings": _sliders,
    "logout": _logout,
    "zoom-in": _zoom("+"),
    "zoom-out": _zoom("-"),
    "fit": _fit,
    "approve": _check_shield,
    "box": _box,
    "refresh": _refresh,
}


def icon(name: str, colour: str = theme.NAVY) -> QIcon:
    """A named toolbar icon (see ``_DRAWINGS``) in ``colour``."""
    return _icon(_DRAWINGS[name], colour)


def app_icon() -> QIcon:
    return _icon(_app, coloured=True)


def render_app_icon(size: int) -> QImage:
    """The app icon as a ``size``×``size`` ARGB image (for packaging)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    VectorIconEngine(_app, coloured=True).paint(p, QRect(0, 0, size, size), QIcon.Mode.Normal, QIcon.State.Off)
    p.end()
    return image
