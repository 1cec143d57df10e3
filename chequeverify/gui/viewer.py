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
    """The smallest zoom among the views showing ``item`` (so its bounding rect holds the largest handles)."""
    scene = item.scene()
    if scene is None or not scene.views():
        return 1.0
    return max(1e-6, min(v.transform().m11() for v in scene.views()))


def _painter_scale(p: QPainter) -> float:
    return max(1e-6, abs(p.worldTransform().m11()))


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

    def hit(self, pos: QPointF, scale: float = 1.0) -> str | None:
        """Which part of the box is at ``pos`` (scene coordinates, in a view at ``scale``): a handle, ``move`` or None."""
        tol = GRAB / max(scale, 1e-6)
        handles = self._handles()
        if min(self._rect.width(), self._rect.height()) * scale < 6 * HANDLE:
            handles = {"br": handles["br"]}  # too small on screen for eight handles: move it, or pull a corner
        for name, pt in handles.items():
            if abs(pos.x() - pt.x()) <= tol and abs(pos.y() - pt.y()) <= tol:
                return name
        return "move" if self._rect.contains(pos) else None

    # --- painting ---------------------------------------------------------------------
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        s = _painter_scale(p)  # each view draws the handles at its own zoom
        fill = QColor(self._colour)
        fill.setAlpha(28)
        p.setBrush(fill)
        pen = QPen(self._colour, 2.0 / s)
        p.setPen(pen)
        p.drawRect(self._rect)
        # handles only where the box is big enough on screen to grab them apart
        if self.editable and min(self._rect.width(), self._rect.height()) * s >= 6 * HANDLE:
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


class ChequeScene(QGraphicsScene):
    """The scan and its signature box, shown by one or more :class:`ChequeViewer` (the page and the loupe)."""

    boxEdited = Signal(tuple)
    contentChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.pixmap_item: QGraphicsPixmapItem | None = None
        self.box_item: SignatureBoxItem | None = None
        self.image = QImage()
        self.box_editable = True

    def set_image(self, image: QImage | None) -> None:
        self.clear()
        self.pixmap_item = None
        self.box_item = None
        self.image = image if image is not None and not image.isNull() else QImage()
        if not self.image.isNull():
            item = QGraphicsPixmapItem(QPixmap.fromImage(self.image))
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
            self.addItem(item)
            self.pixmap_item = item
            self.setSceneRect(item.boundingRect().adjusted(-40, -40, 40, 40))
        self.contentChanged.emit()

    def box(self) -> Box | None:
        if self.box_item is None:
            return None
        r = self.box_item.rect().toAlignedRect()
        return (r.left(), r.top(), r.left() + r.width(), r.top() + r.height())

    def set_box(self, box: Box | None, *, label: str = "", colour: str = theme.FOCUS) -> None:
        if self.pixmap_item is None:
            return
        if box is None:
            if self.box_item is not None:
                self.removeItem(self.box_item)
                self.box_item = None
            self.contentChanged.emit()
            return
        x0, y0, x1, y1 = box
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        if self.box_item is None:
            self.box_item = SignatureBoxItem(rect, self.pixmap_item.boundingRect(), colour)
            self.box_item.edited.connect(lambda _r: self.boxEdited.emit(self.box()))
            self.addItem(self.box_item)
        else:
            self.box_item.set_rect(rect)
            self.box_item.set_colour(colour)
        self.box_item.editable = self.box_editable
        self.box_item.set_label(label)
        self.contentChanged.emit()


class ChequeViewer(QGraphicsView):
    """Shows a :class:`ChequeScene`; ``set_box`` draws the signature box; ``boxEdited(box)`` reports a correction.

    Wheel zooms (around the cursor), dragging the background pans, the
    box's handles resize it. ``drawing`` mode: dragging the background
    draws a new box (registration: take a reference from a cheque or a
    specimen card). ``loupe``: the view follows the signature box,
    magnified (give it the page viewer's scene to share the box).
    """

    boxEdited = Signal(tuple)
    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None, *, scene: ChequeScene | None = None, loupe: bool = False) -> None:
        super().__init__(parent)
        self.cheque_scene = scene or ChequeScene(self)
        self.setScene(self.cheque_scene)
        self.loupe = loupe
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
        self._fit = True
        self._panning: QPointF | None = None
        self._drawing_from: QPointF | None = None
        self.drawing = False
        self.cheque_scene.boxEdited.connect(self.boxEdited)
        self.cheque_scene.contentChanged.connect(self._content_changed)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 100)
        self.setAccessibleName("Signature area" if loupe else "Cheque image")

    # --- content (kept on the scene, shared by the views) ------------------------------
    @property
    def _pixmap_item(self) -> QGraphicsPixmapItem | None:
        return self.cheque_scene.pixmap_item

    @property
    def _box(self) -> SignatureBoxItem | None:
        return self.cheque_scene.box_item

    @property
    def box_editable(self) -> bool:
        return self.cheque_scene.box_editable

    @box_editable.setter
    def box_editable(self, value: bool) -> None:
        self.cheque_scene.box_editable = value

    def has_image(self) -> bool:
        return self._pixmap_item is not None

    def image(self) -> QImage:
        """The scan shown (a null image when none)."""
        return self.cheque_scene.image

    def image_size(self) -> tuple[int, int]:
        return (self.image().width(), self.image().height())

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None clears), fitted to the view."""
        self.cheque_scene.set_image(image)
        if self._pixmap_item is None:
            self.resetTransform()

    def box(self) -> Box | None:
        return self.cheque_scene.box()

    def set_box(self, box: Box | None, *, label: str = "", colour: str = theme.FOCUS) -> None:
        self.cheque_scene.set_box(box, label=label, colour=colour)

    def box_item(self) -> SignatureBoxItem | None:
        return self._box

    def _content_changed(self) -> None:
        if self._fit or self.loupe:
            self.fit()

    # --- zoom ---------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Fit the page (or, for the loupe, the signature box with some paper around it)."""
        self._fit = True
        if self._pixmap_item is not None:
            if self.loupe and self._box is not None and self._box._drag is None:
                r = self._box.rect()
                pad = max(r.width(), r.height()) * 0.18 + 12
                self.fitInView(r.adjusted(-pad, -pad - 20, pad, pad), Qt.AspectRatioMode.KeepAspectRatio)
            elif not self.loupe:
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
        part = self._box.hit(scene_pos, self.zoom()) if (self._box is not None and self.box_editable) else None
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
            part = self._box.hit(scene_pos, self.zoom()) if (self._box is not None and self.box_editable) else None
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
