"""The cheque queue: one row per scanned file, its state, filterable.

A row's state is what the clerk filters on: ``pending`` (not verified yet:
waiting, being read, or waiting for its account), ``accepted``,
``referred``, ``rejected`` (the decision in force: the clerk's once made,
else the model's) or ``error`` (the file could not be read or verified;
the message is the row's tooltip).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from chequeverify.gui import theme

#: file suffixes the queue takes from a folder or a drop
SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}

STATES = ("pending", "accepted", "referred", "rejected", "error")
STATE_LABELS = {"pending": "Pending", "accepted": "Accepted", "referred": "Referred", "rejected": "Rejected",
                "error": "Error"}  # fmt: skip

Box = tuple[int, int, int, int]


@dataclass(eq=False)
class QueueItem:
    """One cheque file in the queue and what is known of it so far (UI thread only)."""

    path: Path
    account: str | None = None
    amount: str | None = None
    box: Box | None = None  # a box the clerk corrected (None: the reader's)
    verification: Any = None  # service Verification
    located_box: Box | None = None  # from a read without account
    signature: Any = None  # QImage of the cleaned signature (read without account)
    error: BaseException | None = None
    busy: bool = False
    processed: bool = False  # the background pass has been over it
    note: str = ""
    history: list[int] = field(default_factory=list)  # cheque ids verified for this file, oldest first

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        if self.error is not None:
            return "error"
        if self.verification is not None:
            return theme.DECISION_STATE[str(self.verification.final_decision)]
        return "pending"

    @property
    def detail(self) -> str:
        if self.busy:
            return "verifying…" if self.account else "reading…"
        if self.error is not None:
            return str(self.error)
        v = self.verification
        if v is not None:
            if v.final is None:
                return "model decision; not confirmed yet"
            if v.final.status == "awaiting_approval":
                return f"override to {v.final.decision} by {v.final.decided_by}, awaiting a supervisor"
            if v.final.status == "refused":
                return f"override refused by {v.final.reviewed_by}"
            return f"{v.final.decision} by {v.final.decided_by}"
        if not self.account:
            return "account needed"
        return "waiting"

    @property
    def decided(self) -> bool:
        v = self.verification
        return v is not None and v.final is not None and v.final.status in ("final", "awaiting_approval")


def account_from_name(name: str, known: set[str]) -> str | None:
    """The account a file name names, if any: a known account number as a token of the name.

    Scans from a capture desk are often named after the account (the
    MICR line's account field); ``ACC-1001_0003.png`` → ``ACC-1001``.
    """
    stem = Path(name).stem
    if not known:
        return None
    lowered = {k.lower(): k for k in known}
    tokens = [t for t in re.split(r"[_\s]+|__", stem) if t]
    for token in tokens:
        hit = lowered.get(token.lower())
        if hit:
            return hit
    for k_low, k in sorted(lowered.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(^|[^0-9a-z]){re.escape(k_low)}($|[^0-9a-z])", stem.lower()):
            return k
    return None


def item_at(index: QModelIndex | QPersistentModelIndex) -> QueueItem | None:
    """The queue item of an index of the model or of a proxy over it.

    Looked up in Python rather than passed through ``data()``: PySide
    mishandles reference counts of arbitrary Python objects carried in a
    QVariant, which crashes the interpreter sooner or later.
    """
    if not index.isValid():
        return None
    model = index.model()
    while isinstance(model, QSortFilterProxyModel):
        index = model.mapToSource(index)
        model = model.sourceModel()
    if isinstance(model, ChequeQueueModel) and 0 <= index.row() < model.rowCount():
        return model.item(index.row())
    return None


class ChequeQueueModel(QAbstractTableModel):
    """Rows: :class:`QueueItem`. Columns: state, cheque (file name over account), score."""

    COLUMNS = ("State", "Cheque", "Score")
    StateRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[QueueItem] = []

    # --- access ---------------------------------------------------------------------
    def items(self) -> list[QueueItem]:
        return list(self._items)

    def item(self, row: int) -> QueueItem:
        return self._items[row]

    def row_of(self, item: QueueItem) -> int:
        for i, it in enumerate(self._items):
            if it is item:
                return i
        return -1

    def paths(self) -> set[Path]:
        return {it.path for it in self._items}

    def add(self, paths: list[Path]) -> list[QueueItem]:
        """Append the files not queued yet; returns the new items."""
        known = self.paths()
        fresh = []
        for p in paths:
            p = Path(p)
            if p in known:
                continue
            known.add(p)
            fresh.append(QueueItem(p))
        if fresh:
            start = len(self._items)
            self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
            self._items.extend(fresh)
            self.endInsertRows()
        return fresh

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self.endResetModel()

    def changed(self, item: QueueItem) -> None:
        row = self.row_of(item)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        for it in self._items:
            out[it.state] += 1
        return out

    # --- Qt model -------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        it = self._items[index.row()]
        col = index.column()
        if role == self.StateRole:
            return it.state
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return STATE_LABELS[it.state]
            if col == 1:
                return it.name
            if col == 2:
                v = it.verification
                return f"{v.score:.3f}" if v is not None and math.isfinite(v.score) else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{it.path}\n{STATE_LABELS[it.state]}: {it.detail}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class QueueFilter(QSortFilterProxyModel):
    """Filters the queue by state (None = all) and by text in the file name or account."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._state: str | None = None
        self._text = ""

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9: invalidateRowsFilter is deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateRowsFilter()

    def set_state(self, state: str | None) -> None:
        self._refilter(lambda: setattr(self, "_state", state))

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:  # noqa: N802
        model: ChequeQueueModel = self.sourceModel()  # type: ignore[assignment]
        it = model.item(row)
        if self._state is not None and it.state != self._state:
            return False
        if self._text and self._text not in it.name.lower() and self._text not in (it.account or "").lower():
            return False
        return True


class StateDelegate(QStyledItemDelegate):
    """Paints the state column as a coloured chip, with a pulsing dot while the row is being worked on."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        text = option.text
        option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        item = item_at(index)
        state = index.data(ChequeQueueModel.StateRole) or "pending"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        f = theme.font(-1.5, bold=True)
        painter.setFont(f)
        fm = QFontMetrics(f)
        label = text if not (item and item.busy) else "Working"
        w = fm.horizontalAdvance(label) + 22
        r = QRectF(option.rect.left() + 6, option.rect.center().y() - 9, w, 18)
        colour = theme.state_colour(state)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.tint(state))
        painter.drawRoundedRect(r, 9, 9)
        painter.setBrush(colour if not (item and item.busy) else QColor(theme.FOCUS))
        painter.drawEllipse(r.left() + 9 - 3, r.center().y() - 3, 6, 6)
        painter.setPen(QPen(colour))
        painter.drawText(r.adjusted(15, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        if item is not None and item.decided:
            painter.setPen(QPen(QColor(theme.MUTED), 1.6))
            x, y = r.right() + 8, r.center().y()
            painter.drawPolyline([QPointF(x, y), QPointF(x + 3, y + 3), QPointF(x + 8, y - 3)])
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(118, 30)


class FileDelegate(QStyledItemDelegate):
    """The file name, with the account (or "account needed") under it in a quieter colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        item = item_at(index)
        if item is None:
            return
        painter.save()
        r = QRectF(option.rect).adjusted(4, 3, -4, -3)
        f = theme.font(0, bold=True)
        painter.setFont(f)
        painter.setPen(QColor(theme.INK))
        shown = item.path.stem if item.path.suffix.lower() in SCAN_SUFFIXES else item.name
        name = QFontMetrics(f).elidedText(shown, Qt.TextElideMode.ElideMiddle, int(r.width()))
        painter.drawText(QRectF(r.left(), r.top(), r.width(), r.height() / 2 + 1),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, name)
        small = theme.font(-1.5)
        painter.setFont(small)
        painter.setPen(QColor(theme.MUTED if item.account else theme.REFER))
        sub = item.account or "account needed"
        if item.error is not None:
            painter.setPen(QColor(theme.ERROR))
            sub = str(item.error)
        painter.drawText(QRectF(r.left(), r.center().y() + 1, r.width(), r.height() / 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         QFontMetrics(small).elidedText(sub, Qt.TextElideMode.ElideRight, int(r.width())))
        painter.restore()
