"""The cheque viewer: the scan with zoom and pan, and the signature box the clerk can correct.

Scene coordinates are the scan's pixels, so a box read off the scene is
the service's box ``(x0, y0, x1, y1)`` as it is. The box is moved by
dragging inside it and resized by its handles; dragging outside it pans
the scan (or, in drawing mode, draws a new box). ``boxEdited`` is emitted
once, when the mouse is released, so the cheque is verified again once
per correction, not for every pixel of a drag.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsObject,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from chequeverify.gui import theme

Box = tuple[int, int, int, int]

#: handle half-size and grab tolerance, in screen pixels
HANDLE = 5.0
GRAB = 8.0
MIN_BOX = (12.0, 6.0)


def _scale_of(item: QGraphicsItem) -> float:
    scene = item.scene()
    if scene is None or not scene.views():
        return 1.0
    return max(1e-6, scene.views()[0].transform().m11())


class SignatureBoxItem(QGraphicsObject):
    """A resizable, movable rectangle kept inside ``bounds`` (the scan)."""

    edited = Signal(QRectF)

    def __init__(self, rect: QRectF, bounds: QRectF, colour: str = theme.FOCUS) -> None:
        super().__init__()
        self._rect = QRectF(rect)
        self._bounds = QRectF(bounds)
        self._colour = QColor(colour)
        self._drag: str | None = None
        self._press_scene = QPointF()
        self._press_rect = QRectF()
        self._label = ""
        self.setAcceptHoverEvents(True)
        self.setZValue(10)
        self.editable = True

    # --- geometry ---------------------------------------------------------------------
    def rect(self) -> QRectF:
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect).intersected(self._bounds)
        self.update()

    def set_label(self, text: str) -> None:
        self._label = text
        self.update()

    def set_colour(self, colour: str) -> None:
        self._colour = QColor(colour)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        pad = (GRAB + 2) / _scale_of(self)
        return self._rect.adjusted(-pad, -pad - 24 / _scale_of(self), pad, pad)

    def _handles(self) -> dict[str, QPointF]:
        r = self._rect
        c = r.center()
        return {
            "tl": r.topLeft(), "t": QPointF(c.x(), r.top()), "tr": r.topRight(), "r": QPointF(r.right(), c.y()),
            "br": r.bottomRight(), "b": QPointF(c.x(), r.bottom()), "bl": r.bottomLeft(), "l": QPointF(r.left(), c.y()),
        }  # fmt: skip

    def hit(self, pos: QPointF) -> str | None:
        """Which part of the box is at ``pos`` (item coordinates): a handle name, ``move`` or None."""
        tol = GRAB / _scale_of(self)
        for name, pt in self._handles().items():
            if abs(pos.x() - pt.x()) <= tol and abs(pos.y() - pt.y()) <= tol:
                return name
        return "move" if self._rect.contains(pos) else None

    # --- painting ---------------------------------------------------------------------
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        s = _scale_of(self)
        fill = QColor(self._colour)
        fill.setAlpha(28)
        p.setBrush(fill)
        pen = QPen(self._colour, 2.0 / s)
        p.setPen(pen)
        p.drawRect(self._rect)
        if self.editable:
            p.setBrush(QBrush(QColor("white")))
            p.setPen(QPen(self._colour, 1.5 / s))
            h = HANDLE / s
            for pt in self._handles().values():
                p.drawRect(QRectF(pt.x() - h, pt.y() - h, 2 * h, 2 * h))
        if self._label:
            f = theme.font(-1, bold=True)
            f.setPointSizeF(f.pointSizeF() / s)
            p.setFont(f)
            fm_h = 18 / s
            label = QRectF(self._rect.left(), self._rect.top() - fm_h - 3 / s, max(self._rect.width(), 140 / s), fm_h)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._colour)
            width = p.fontMetrics().horizontalAdvance(self._label) + 12 / s
            p.drawRoundedRect(QRectF(label.left(), label.top(), width, label.height()), 3 / s, 3 / s)
            p.setPen(QColor("white"))
            p.drawText(QRectF(label.left() + 6 / s, label.top(), width, label.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._label)  # fmt: skip

    # --- interaction (driven by the view, which knows when a press starts on the box) ---
    def begin(self, part: str, scene_pos: QPointF) -> None:
        self._drag = part
        self._press_scene = scene_pos
        self._press_rect = QRectF(self._rect)

    def drag_to(self, scene_pos: QPointF) -> None:
        if self._drag is None:
            return
        d = scene_pos - self._press_scene
        r = QRectF(self._press_rect)
        b = self._bounds
        if self._drag == "move":
            dx = min(max(d.x(), b.left() - r.left()), b.right() - r.right())
            dy = min(max(d.y(), b.top() - r.top()), b.bottom() - r.bottom())
            r.translate(dx, dy)
        else:
            if "l" in self._drag:
                r.setLeft(min(max(b.left(), r.left() + d.x()), r.right() - MIN_BOX[0]))
            if "r" in self._drag:
                r.setRight(max(min(b.right(), r.right() + d.x()), r.left() + MIN_BOX[0]))
            if "t" in self._drag:
                r.setTop(min(max(b.top(), r.top() + d.y()), r.bottom() - MIN_BOX[1]))
            if "b" in self._drag:
                r.setBottom(max(min(b.bottom(), r.bottom() + d.y()), r.top() + MIN_BOX[1]))
        self.prepareGeometryChange()
        self._rect = r
        self.update()

    def end(self) -> bool:
        """Finish a drag; True when the box changed (``edited`` is then emitted)."""
        if self._drag is None:
            return False
        self._drag = None
        changed = self._rect.toAlignedRect() != self._press_rect.toAlignedRect()
        if changed:
            self.edited.emit(self.rect())
        return changed


_CURSORS = {
    "tl": Qt.CursorShape.SizeFDiagCursor, "br": Qt.CursorShape.SizeFDiagCursor,
    "tr": Qt.CursorShape.SizeBDiagCursor, "bl": Qt.CursorShape.SizeBDiagCursor,
    "t": Qt.CursorShape.SizeVerCursor, "b": Qt.CursorShape.SizeVerCursor,
    "l": Qt.CursorShape.SizeHorCursor, "r": Qt.CursorShape.SizeHorCursor,
    "move": Qt.CursorShape.SizeAllCursor,
}  # fmt: skip


class ChequeViewer(QGraphicsView):
    """Shows a scan; ``set_box`` draws the signature box; ``boxEdited(box)`` reports a correction.

    Wheel zooms (around the cursor), dragging the background pans, the
    box's handles resize it. ``drawing`` mode: dragging the background
    draws a new box (registration: take a reference from a cheque or a
    specimen card).
    """

    boxEdited = Signal(tuple)
    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QColor("#dfe4ea"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        # panning is by dragging the page; scroll bars would only eat space and fight "fit"
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._pixmap_item: QGraphicsPixmapItem | None = None
        self._image = QImage()
        self._box: SignatureBoxItem | None = None
        self._fit = True
        self._panning: QPointF | None = None
        self._drawing_from: QPointF | None = None
        self.drawing = False
        self.box_editable = True
        self.setMouseTracking(True)
        self.setMinimumSize(240, 140)
        self.setAccessibleName("Cheque image")

    # --- content ------------------------------------------------------------------------
    def has_image(self) -> bool:
        return self._pixmap_item is not None

    def image(self) -> QImage:
        """The scan shown (a null image when none)."""
        return self._image

    def image_size(self) -> tuple[int, int]:
        if self._pixmap_item is None:
            return (0, 0)
        pm = self._pixmap_item.pixmap()
        return pm.width(), pm.height()

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None clears), fitted to the view."""
        scene = self.scene()
        scene.clear()
        self._image = image if image is not None else QImage()
        self._pixmap_item = None
        self._box = None
        if image is None or image.isNull():
            self.resetTransform()
            return
        item = QGraphicsPixmapItem(QPixmap.fromImage(image))
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        scene.addItem(item)
        self._pixmap_item = item
        scene.setSceneRect(item.boundingRect().adjusted(-40, -40, 40, 40))
        self.fit()

    def box(self) -> Box | None:
        if self._box is None:
            return None
        r = self._box.rect().toAlignedRect()
        return (r.left(), r.top(), r.left() + r.width(), r.top() + r.height())

    def set_box(self, box: Box | None, *, label: str = "", colour: str = theme.FOCUS) -> None:
        if self._pixmap_item is None:
            return
        if box is None:
            if self._box is not None:
                self.scene().removeItem(self._box)
                self._box = None
            return
        x0, y0, x1, y1 = box
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        if self._box is None:
            self._box = SignatureBoxItem(rect, self._pixmap_item.boundingRect(), colour)
            self._box.edited.connect(self._on_box_edited)
            self.scene().addItem(self._box)
        else:
            self._box.set_rect(rect)
            self._box.set_colour(colour)
        self._box.editable = self.box_editable
        self._box.set_label(label)

    def box_item(self) -> SignatureBoxItem | None:
        return self._box

    def _on_box_edited(self, rect: QRectF) -> None:
        self.boxEdited.emit(self.box())

    # --- zoom ---------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        self._fit = True
        if self._pixmap_item is not None:
            self.fitInView(self._pixmap_item, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoomChanged.emit(self.zoom())

    def zoom_by(self, factor: float) -> None:
        z = self.zoom()
        target = min(8.0, max(0.05, z * factor))
        self._fit = False
        self.scale(target / z, target / z)
        self.zoomChanged.emit(self.zoom())

    def zoom_to_box(self) -> None:
        if self._box is not None:
            self._fit = False
            self.fitInView(self._box.rect().adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)
            self.zoomChanged.emit(self.zoom())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802
        if self._pixmap_item is None:
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    # --- mouse: box first, then drawing, then panning ----------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._pixmap_item is None:
            return super().mousePressEvent(event)
        scene_pos = self.mapToScene(event.position().toPoint())
        part = self._box.hit(scene_pos) if (self._box is not None and self.box_editable) else None
        if part is not None:
            self._box.begin(part, scene_pos)
        elif self.drawing and self._pixmap_item.boundingRect().contains(scene_pos):
            self._drawing_from = scene_pos
        else:
            self._panning = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        scene_pos = self.mapToScene(event.position().toPoint())
        if self._box is not None and self._box._drag is not None:
            self._box.drag_to(scene_pos)
        elif self._drawing_from is not None:
            bounds = self._pixmap_item.boundingRect()
            r = QRectF(self._drawing_from, scene_pos).normalized().intersected(bounds)
            if self._box is None:
                self.set_box((int(r.left()), int(r.top()), int(r.right()) + 1, int(r.bottom()) + 1))
            else:
                self._box.set_rect(r)
        elif self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
        else:
            part = self._box.hit(scene_pos) if (self._box is not None and self.box_editable) else None
            if part is not None:
                self.viewport().setCursor(_CURSORS[part])
            elif self.drawing:
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            else:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._box is not None and self._box._drag is not None:
            self._box.end()
        elif self._drawing_from is not None:
            self._drawing_from = None
            if self._box is not None:
                r = self._box.rect()
                if r.width() >= MIN_BOX[0] and r.height() >= MIN_BOX[1]:
                    self.boxEdited.emit(self.box())
                else:
                    self.set_box(None)
        self._panning = None
        self.viewport().unsetCursor()
        event.accept()
